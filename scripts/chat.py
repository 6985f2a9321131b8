"""`make shell`: chat with the running Hilo from the terminal, through the REST channel.

Buttons are shown numbered; type the number to press one. Each run is a new conversation
(a new sender id) unless --sender is given. Type /quit or press Ctrl-D to leave.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
import uuid
from typing import Any


def send(url: str, sender: str, text: str) -> list[dict[str, Any]]:
    """Posts one message and returns the bot's messages."""
    body = json.dumps({"sender": sender, "message": text}).encode()
    request = urllib.request.Request(  # noqa: S310 (local URL)
        url, data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        return list(json.load(response))


def show(messages: list[dict[str, Any]]) -> list[str]:
    """Prints the bot's messages; returns the payloads of any buttons, in order."""
    payloads: list[str] = []
    for message in messages:
        if message.get("text"):
            print(f"bot: {message['text']}")
        if message.get("image"):
            print(f"bot: [image] {message['image']}")
        for button in message.get("buttons") or []:
            payloads.append(button["payload"])
            print(f"     {len(payloads)}) {button['title']}")
    return payloads


def main() -> int:
    """Reads lines from the terminal and sends them until /quit or end of input."""
    port = os.environ.get("HILO_RASA_PORT", "5005")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=f"http://127.0.0.1:{port}/webhooks/rest/webhook")
    parser.add_argument("--sender", default=f"shell-{uuid.uuid4().hex[:8]}")
    args = parser.parse_args()
    print(f"Chatting as {args.sender} with {args.url}. /quit to leave.")
    payloads: list[str] = []
    while True:
        try:
            text = input("you: ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if text == "/quit":
            return 0
        if text.isdigit() and 0 < int(text) <= len(payloads):
            text = payloads[int(text) - 1]
        try:
            payloads = show(send(args.url, args.sender, text))
        except urllib.error.URLError as error:
            print(f"error: cannot reach Hilo at {args.url} ({error.reason}). Is `make run` up?")
            return 1


if __name__ == "__main__":
    sys.exit(main())
