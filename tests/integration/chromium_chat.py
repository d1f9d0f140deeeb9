#!/usr/bin/env python3
"""Debian's Chromium, headless, opens mysite's /chat/ page in two tabs and
exchanges messages through the chat room; the test drives the tabs over the
DevTools protocol with Python's websockets library.

    chromium_chat.py CSGI

Exits 0 when the message typed in one tab appeared in the other, 1 on a
failure, 77 (skipped) when Chromium or the library is missing.
"""
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request

try:
    import websockets
except ImportError:
    print("python3-websockets is not installed")
    sys.exit(77)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if not CHROMIUM:
    print("chromium is not installed")
    sys.exit(77)

TIMEOUT = 20


def wait_for_line(stream, pattern):
    for line in stream:
        found = re.search(pattern, line)
        if found:
            return found.group(1)
    raise RuntimeError(f"no line matching {pattern}")


class Tab:
    """One page, driven over its own DevTools WebSocket."""

    def __init__(self, socket):
        self.socket = socket
        self.next_id = 0

    async def evaluate(self, expression):
        self.next_id += 1
        await self.socket.send(json.dumps({
            "id": self.next_id, "method": "Runtime.evaluate",
            "params": {"expression": expression, "returnByValue": True}}))
        while True:
            reply = json.loads(await self.socket.recv())
            if reply.get("id") == self.next_id:
                return reply["result"]["result"].get("value")

    async def wait_until(self, expression):
        while not await self.evaluate(expression):
            await asyncio.sleep(0.05)


async def open_tab(devtools, url):
    request = urllib.request.Request(f"http://{devtools}/json/new?{url}", method="PUT")
    with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
        target = json.load(answer)
    socket = await websockets.connect(target["webSocketDebuggerUrl"], max_size=None)
    return Tab(socket)


async def chat(devtools, site):
    alice = await open_tab(devtools, f"http://{site}/chat/")
    bob = await open_tab(devtools, f"http://{site}/chat/")
    for tab in (alice, bob):
        await tab.wait_until("document.getElementById('status').textContent === 'connected'")
    await alice.evaluate(
        "document.getElementById('text').value = 'hello from alice';"
        "document.getElementById('form').requestSubmit(); true")
    await bob.wait_until("document.getElementById('log').innerText.includes('hello from alice')")
    await alice.wait_until("document.getElementById('log').innerText.includes('hello from alice')")
    for tab in (alice, bob):
        await tab.socket.close()


def main(csgi):
    server = subprocess.Popen([csgi, "serve", "mysite", "--port", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    profile = tempfile.mkdtemp(prefix="csgi-chromium-")
    browser = None
    try:
        site = wait_for_line(server.stdout, r"running on http://([\d.]+:\d+)")
        browser = subprocess.Popen(
            [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--remote-debugging-port=0", f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        devtools = wait_for_line(browser.stderr, r"DevTools listening on ws://([\d.]+:\d+)/")
        asyncio.run(asyncio.wait_for(chat(devtools, site), TIMEOUT))
        print("ok: a message typed in one tab appeared in the other")
    finally:
        for process in (browser, server):
            if process and process.poll() is None:
                process.terminate()
                try:
                    process.wait(5)
                except subprocess.TimeoutExpired:
                    process.kill()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    try:
        main(sys.argv[1])
    except (AssertionError, asyncio.TimeoutError, RuntimeError) as error:
        print("FAILED:", repr(error))
        sys.exit(1)
