"""The peer of bench/websocket.sh on uvicorn: a raw ASGI app with mysite's
/ws/echo/ (each message back as it came) and /ws/chat/ (each text message,
and each join, to every member)."""

members = set()


async def broadcast(text):
    for send in list(members):
        try:
            await send({"type": "websocket.send", "text": text})
        except Exception:
            members.discard(send)


async def app(scope, receive, send):
    if scope["type"] != "websocket":
        return
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    chat = scope["path"] == "/ws/chat/"
    if chat:
        members.add(send)
        await broadcast(f"* someone joined ({len(members)} here)")
    try:
        while True:
            event = await receive()
            if event["type"] == "websocket.disconnect":
                return
            if chat:
                await broadcast(event.get("text") or "")
            elif event.get("text") is not None:
                await send({"type": "websocket.send", "text": event["text"]})
            else:
                await send({"type": "websocket.send", "bytes": event["bytes"]})
    finally:
        members.discard(send)
