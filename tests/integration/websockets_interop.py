#!/usr/bin/env python3
"""mysite's WebSocket endpoints driven by Python's `websockets` library
(Debian's python3-websockets) against a real csgi process.

    websockets_interop.py CSGI [serve flags...]

Exits 0 when every check passed, 1 on a failure, 77 (skipped) when the
library is missing.
"""
import asyncio
import os
import re
import signal
import subprocess
import sys

try:
    import websockets
except ImportError:
    print("python3-websockets is not installed")
    sys.exit(77)

STARTUP_TIMEOUT = 10
STEP_TIMEOUT = 5


def start_server(csgi, flags):
    process = subprocess.Popen(
        [csgi, "serve", "mysite", "--port", "0", "--ws-ping-interval", "0.2", *flags],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in process.stdout:
        found = re.search(r"running on http://([\d.]+:\d+)", line)
        if found:
            return process, found.group(1)
    raise RuntimeError("csgi did not start: " + process.stdout.read())


async def check_echo(base):
    async with websockets.connect(f"ws://{base}/ws/echo/") as ws:
        await ws.send("hello")
        assert await ws.recv() == "hello"
        await ws.send(b"\x00\x01\x02")
        assert await ws.recv() == b"\x00\x01\x02"
        text = "\u043f\u0440\u0438\u0432\u0435\u0442 " * 20000  # UTF-8, compressed
        await ws.send(text)
        assert await ws.recv() == text
        # Fragmented, with a ping between the fragments.
        await ws.send(iter(["frag", "ment", "ed"]))
        assert await ws.recv() == "fragmented"
        pong = await ws.ping(b"are you there")
        await asyncio.wait_for(pong, STEP_TIMEOUT)
        assert ws.extensions, "permessage-deflate was not agreed"
    assert ws.close_code == 1000, ws.close_code


async def check_chat(base):
    async with websockets.connect(f"ws://{base}/ws/chat/") as alice:
        assert "joined" in await alice.recv()
        async with websockets.connect(f"ws://{base}/ws/chat/") as bob:
            assert "joined" in await alice.recv()
            assert "joined" in await bob.recv()
            await alice.send("hi bob")
            assert await bob.recv() == "hi bob"
            assert await alice.recv() == "hi bob"
        assert "left" in await alice.recv()


async def check_refusals(base):
    try:
        async with websockets.connect(f"ws://{base}/ws/no-such-endpoint/"):
            raise AssertionError("an unknown endpoint was accepted")
    except websockets.InvalidStatusCode as error:
        assert error.status_code == 403, error.status_code


async def check_shutdown(base, process):
    async with websockets.connect(f"ws://{base}/ws/echo/") as ws:
        await ws.send("before")
        assert await ws.recv() == "before"
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(ws.recv(), STEP_TIMEOUT)
            raise AssertionError("a message after shutdown")
        except websockets.ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code == 1001, closed


async def main(csgi, flags):
    process, base = start_server(csgi, flags)
    try:
        # The chat room is per worker: under the supervisor two clients may
        # reach different rooms.
        checks = [check_echo, check_refusals]
        if "--workers" not in flags:
            checks.append(check_chat)
        for check in checks:
            await asyncio.wait_for(check(base), 4 * STEP_TIMEOUT)
            print("ok:", check.__name__)
        await asyncio.wait_for(check_shutdown(base, process), 4 * STEP_TIMEOUT)
        print("ok: check_shutdown")
        assert process.wait(STEP_TIMEOUT) == 0, "csgi did not exit cleanly"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


if __name__ == "__main__":
    try:
        asyncio.run(main(sys.argv[1], sys.argv[2:]))
    except AssertionError as error:
        print("FAILED:", error)
        sys.exit(1)
