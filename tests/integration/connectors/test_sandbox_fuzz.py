"""Fuzzing the sandbox webhook over real HTTP: only 2xx or 4xx, and nothing logged as an error.

A generation and mutation fuzzer with a fixed seed (the same inputs on every run, so a
failure reproduces). Requests are written byte by byte on a socket to the sandbox mounted
on a real Sanic server (tests/support/channel_app.py), because an HTTP client would not
send a wrong Content-Length or a broken chunked body:

- uploads: a well-formed multipart message (conversation, message_id, text, file) with one
  to four mutations: the boundary changed, emptied, dropped or made huge; parts dropped,
  duplicated, nameless or with odd names; huge, empty, non-UTF-8 and RFC 2231 filenames;
  wrong and unknown content types and charsets; part headers without a colon or in other
  encodings; truncated bodies and garbage after them; a Content-Length that is smaller or
  larger than the body; chunked bodies, also broken ones; bodies that are not multipart;
- text messages: the page's JSON with values of every type (as in
  tests/unit/connectors/test_parsers_fuzz.py), JSON that is not JSON (cut, non-UTF-8, deep,
  huge numbers), forms, and wrong content types.

Every answer must be below 500; a request whose body never fully arrives (the client hangs
up) may get no answer. After the run, no record at ERROR or above may have been logged
(an exception Sanic swallows still logs one), and every stored message must have been
processed by the bot.

It found, and test_sandbox.py, test_webhook.py and tests/unit/connectors/test_storage.py
keep fixed: multipart bodies Sanic cannot parse (no boundary, a part header without a colon
or not UTF-8, a field in an unknown charset) were logged with a stack trace and then refused
for a missing conversation, where the sandbox now says the upload is malformed (400); a
chunked body with a broken chunk size was answered 400 by Sanic, which then read it again
and logged an uncaught error; and a webhook cancelled while its message waited to be
stored (Sanic cancels the handler of a connection that closes) cancelled the write too,
which ended SQLite's writer thread: every later webhook of every channel waited forever.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import re
import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from connectors.core import ChannelHub
from connectors.media_store import LocalMediaStore
from connectors.sandbox import SandboxInput
from connectors.settings import MediaLimits
from connectors.storage import make_engine
from tests.support.channel_app import ChannelApp

UPLOAD_INPUTS = 1500
TEXT_INPUTS = 1500
SEED = 20261207
PATH = "/webhooks/sandbox/webhook"
BODY_LIMIT = 256 * 1024  # HILO_MEDIA_MAX_BYTES here: the sandbox caps bodies 64 KiB above it

STATUS_LINE = re.compile(rb"(?:^|\r\n)HTTP/1\.[01] (\d{3}) [^\r\n]*\r\n")

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
ODD_VALUES: list[Any] = [
    None, True, False, 0, -1, 2**70, 1.5, "", "x", " ", "\x00", "ñ" * 300, "a" * 20_000,
    "\u202e\ufeff", "😀", "../../etc/passwd", [], {}, [1], ["x"], {"a": 1}, [None],
]  # fmt: skip
ODD_NAMES = [
    "", " ", "file", "FILE", "file[]", "text", "payload", "conversation", "message_id", "x" * 5000,
    'a"b', "a;b", "a\\b", "ñandú", "😀", "\x00", "file\r\nX-Injected: 1",
]  # fmt: skip
ODD_FILENAMES = [
    "", " ", "foto.png", "a" * 100_000, "../../etc/passwd", "C:\\fakepath\\foto.png",
    "ñandú.png", "😀.png", "foto\x00.png", 'fo"to.png', "foto.png; name=x", ".", "..",
]  # fmt: skip
ODD_RFC2231 = [
    "utf-8''%C3%B1and%C3%BA.png", "utf-8''%FF%FE.png", "bogus-charset''x.png", "''x.png",
    "utf-8'es'", "x", "utf-8''" + "%41" * 3000,
]  # fmt: skip
ODD_CONTENT_TYPES = [
    "", "image/png", "image/jpeg", "text/plain", "text/plain; charset=utf-16",
    "text/plain; charset=bogus", "text/plain; charset=latin-1", "application/octet-stream",
    "application/json", "image/png; charset=utf-8", "multipart/form-data", "x" * 3000,
    "image/", "/", ";", "text/html",
]  # fmt: skip
ODD_BOUNDARIES = [
    "", "x", "a" * 71, "b" * 5000, "ñandú", "with space", '"quoted"', "semi;colon", "--", "-",
    "\r\n", "=?utf-8?", "\x00",
]  # fmt: skip


@dataclass
class Part:
    """One part of a multipart body: its header lines and its content."""

    headers: list[bytes]
    body: bytes


@dataclass
class Upload:
    """A multipart request being mutated: the parts, the boundaries, and the request head."""

    parts: list[Part]
    boundary: bytes
    declared: str  # the Content-Type header's value
    extra_headers: list[bytes] = field(default_factory=list)
    body_edits: list[str] = field(default_factory=list)
    length: str = "exact"  # exact | smaller | larger | missing | chunked | bad-chunked | hang-up


@dataclass
class Sent:
    """What one request got: a status, or None when the server answered nothing."""

    status: int | None
    may_go_unanswered: bool
    description: str


def disposition(name: str, filename: str | None = None, *, star: str | None = None) -> bytes:
    value = f'Content-Disposition: form-data; name="{name}"'
    if filename is not None:
        value += f'; filename="{filename}"'
    if star is not None:
        value += f"; filename*={star}"
    return value.encode("utf-8", "surrogatepass")


def good_upload(chance: random.Random, number: int) -> Upload:
    conversation = uuid.UUID(int=chance.getrandbits(128)).hex[:16]
    content = chance.choice([PNG, JPEG, b"%PDF-1.4 factura", b"hola", b"<script>x</script>"])
    parts = [
        Part([disposition("conversation")], conversation.encode()),
        Part([disposition("message_id")], f"u-{number}".encode()),
        Part([disposition("text")], chance.choice([b"", b"mi foto", "ñandú".encode()])),
        Part([disposition("file", "foto.png"), b"Content-Type: image/png"], content),
    ]
    boundary = f"----hilo{chance.getrandbits(48):x}"
    return Upload(parts, boundary.encode(), f"multipart/form-data; boundary={boundary}")


def mutate_upload(upload: Upload, chance: random.Random) -> str:
    """Applies one mutation; returns its name (for the failure message)."""
    kind = chance.choice(
        [
            "boundary", "drop", "duplicate", "nameless", "field-name", "filename", "rfc2231",
            "part-type", "no-colon", "non-utf8-header", "non-utf8-value", "bad-charset",
            "file-content", "huge-file", "declared", "truncate", "garbage", "no-closing",
            "lf-only", "length", "not-multipart", "extra-header",
        ]
    )  # fmt: skip
    parts = upload.parts
    if kind == "boundary":
        choice = chance.choice(ODD_BOUNDARIES)
        how = chance.random()
        if how < 0.4:  # the header and the body agree on an odd boundary
            upload.boundary = choice.encode("utf-8")
            upload.declared = f"multipart/form-data; boundary={choice}"
        elif how < 0.7:  # they disagree
            upload.declared = f"multipart/form-data; boundary={choice}"
        elif how < 0.85:  # declared twice
            upload.declared += f"; boundary={choice}"
        else:  # not declared
            upload.declared = "multipart/form-data"
    elif kind == "drop" and parts:
        parts.pop(chance.randrange(len(parts)))
    elif kind == "duplicate" and parts:
        part = chance.choice(parts)
        parts.insert(chance.randrange(len(parts) + 1), Part(list(part.headers), part.body))
    elif kind == "nameless":
        headers = chance.choice([[], [b"Content-Disposition: form-data"], [b"X-Other: 1"]])
        parts.insert(chance.randrange(len(parts) + 1), Part(headers, b"value"))
    elif kind == "field-name" and parts:
        part = chance.choice(parts)
        part.headers[0] = disposition(chance.choice(ODD_NAMES), chance.choice([None, "a.png"]))
    elif kind == "filename":
        parts.append(Part([disposition("file", chance.choice(ODD_FILENAMES))], PNG))
    elif kind == "rfc2231":
        parts.append(Part([disposition("file", star=chance.choice(ODD_RFC2231))], PNG))
    elif kind == "part-type" and parts:
        part = chance.choice(parts)
        part.headers.append(f"Content-Type: {chance.choice(ODD_CONTENT_TYPES)}".encode())
    elif kind == "no-colon" and parts:
        chance.choice(parts).headers.append(chance.choice([b"no colon here", b":", b" "]))
    elif kind == "non-utf8-header" and parts:
        part = chance.choice(parts)
        part.headers.append(b'Content-Disposition: form-data; name="\xff\xfe"; filename="\xe9"')
    elif kind == "non-utf8-value" and parts:
        chance.choice(parts).body = chance.choice([b"\xff\xfe\xfd", b"caf\xe9", b"\xc3"])
    elif kind == "bad-charset" and parts:
        part = chance.choice(parts)
        charset = chance.choice(["bogus", "utf-16", "ascii", "", "utf-8'", "rot13"])
        part.headers.append(f"Content-Type: text/plain; charset={charset}".encode())
    elif kind == "file-content" and parts:
        chance.choice(parts).body = chance.choice(
            [b"", b"\x00" * 100, bytes(chance.getrandbits(8) for _ in range(200)), b"\r\n" * 50]
        )
    elif kind == "huge-file":
        # stored; refused as too large for a file; refused as too large a body (413)
        size = chance.choice([BODY_LIMIT // 2, BODY_LIMIT + 1024, BODY_LIMIT + 80 * 1024])
        parts.append(Part([disposition("file", "big.png")], PNG + b"\x00" * size))
    elif kind == "declared":
        upload.declared = chance.choice(
            [
                "", "multipart/form-data;", "multipart/mixed; boundary=x", "text/plain",
                "MULTIPART/FORM-DATA; boundary=" + upload.boundary.decode("utf-8", "replace"),
                "multipart/form-data; boundary=\"" + upload.boundary.decode("utf-8", "replace"),
                "multipart/form-data; boundary*=utf-8''x", "multipart/form-data; charset=bogus",
                "multipart/form-data; boundary=" + "x" * 8000,
            ]
        )  # fmt: skip
    elif kind in ("truncate", "garbage", "no-closing", "lf-only"):
        upload.body_edits.append(kind)
    elif kind == "length":
        upload.length = chance.choice(
            ["smaller", "larger", "missing", "chunked", "bad-chunked", "hang-up"]
        )
    elif kind == "not-multipart":
        upload.parts = []
        upload.body_edits.append(
            chance.choice(["json", "random", "empty", "form"])  # with a multipart Content-Type
        )
    elif kind == "extra-header":
        upload.extra_headers.append(
            chance.choice(
                [b"Content-Encoding: gzip", b"Expect: 100-continue", b"Content-Type: text/plain"]
            )
        )
    return kind


def render_body(upload: Upload, chance: random.Random) -> bytes:
    dash = b"--" + upload.boundary
    body = b"".join(
        dash + b"\r\n" + b"\r\n".join(part.headers) + b"\r\n\r\n" + part.body + b"\r\n"
        for part in upload.parts
    )
    body += dash + b"--\r\n"
    for edit in upload.body_edits:
        if edit == "truncate":
            body = body[: chance.randrange(len(body) + 1)]
        elif edit == "garbage":
            body += bytes(chance.getrandbits(8) for _ in range(chance.randrange(1, 300)))
        elif edit == "no-closing":
            body = body[: body.rfind(dash)] if dash in body else body
        elif edit == "lf-only":
            body = body.replace(b"\r\n", b"\n")
        elif edit == "json":
            body = json.dumps(
                {"conversation": "abcdefgh12", "message_id": "j", "text": "x"}
            ).encode()
        elif edit == "random":
            body = bytes(chance.getrandbits(8) for _ in range(chance.randrange(1, 2000)))
        elif edit == "empty":
            body = b""
        elif edit == "form":
            body = b"conversation=abcdefgh12&message_id=f&text=hola"
    return body


def request_bytes(
    content_type: str | None,
    body: bytes,
    *,
    length: str = "exact",
    extra_headers: list[bytes] | None = None,
) -> tuple[bytes, bool]:
    """The raw request, and whether the server may never see all of it (so not answer)."""
    head = [f"POST {PATH} HTTP/1.1".encode(), b"Host: 127.0.0.1", b"Connection: close"]
    if content_type is not None:
        head.append(b"Content-Type: " + content_type.encode("utf-8", "surrogateescape"))
    head += extra_headers or []
    unanswerable = False
    if length in ("exact", "hang-up"):
        head.append(f"Content-Length: {len(body)}".encode())
        unanswerable = length == "hang-up"  # all sent, and the client leaves at once
    elif length == "smaller":
        head.append(f"Content-Length: {max(0, len(body) - 1 - len(body) // 3)}".encode())
    elif length == "larger":
        head.append(f"Content-Length: {len(body) + 1000}".encode())
        unanswerable = True  # the server waits for the rest, and the client hangs up
    elif length == "chunked":
        head.append(b"Transfer-Encoding: chunked")
        body = b"".join(
            f"{len(body[i : i + 997]):x}\r\n".encode() + body[i : i + 997] + b"\r\n"
            for i in range(0, len(body), 997)
        )
        body += b"0\r\n\r\n"
    elif length == "bad-chunked":
        head.append(b"Transfer-Encoding: chunked")
        body = b"zz\r\n" + body + b"\r\n0\r\n\r\n"
    # "missing": no Content-Length at all (the body is then ignored or refused)
    return b"\r\n".join(head) + b"\r\n\r\n" + body, unanswerable


def exchange(port: int, raw: bytes, *, hang_up: bool) -> int | None:
    """Writes `raw` on a new connection; the final answer's status (None: no answer)."""
    received = b""
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        # The server may answer early (413) and close; its answer can still be read.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(raw)
        if hang_up:
            return None
        try:
            while True:
                statuses = [int(code) for code in STATUS_LINE.findall(received)]
                final = [code for code in statuses if code >= 200]  # not 100 Continue
                if final:
                    return final[0]
                chunk = sock.recv(65536)
                if not chunk:
                    return None
                received += chunk
        except ConnectionResetError:
            return None


@pytest.fixture
def hub(channels_db: str, tmp_path: Path) -> ChannelHub:
    """The connectors' hub, with files limited to `BODY_LIMIT` (so both limits are reached)."""
    return ChannelHub(
        make_engine(channels_db),
        media_store=LocalMediaStore(tmp_path / "media"),
        media_limits=MediaLimits(max_bytes=BODY_LIMIT),
    )


@pytest.fixture
def app(hub: ChannelHub, monkeypatch: pytest.MonkeyPatch) -> Iterator[ChannelApp]:
    monkeypatch.setenv("HILO_MEDIA_MAX_BYTES", str(BODY_LIMIT))  # the body cap, smaller here
    served = ChannelApp([SandboxInput(hub=hub)])
    yield served
    served.close()


def run(app: ChannelApp, requests: list[tuple[bytes, bool, str]]) -> list[Sent]:
    sent = []
    for raw, unanswerable, description in requests:
        status = exchange(app.port, raw, hang_up=unanswerable)
        sent.append(Sent(status, unanswerable, description))
    return sent


def assert_no_errors(sent: list[Sent], hub: ChannelHub, caplog: pytest.LogCaptureFixture) -> None:
    server_errors = [s for s in sent if s.status is not None and s.status >= 500]
    assert not server_errors, server_errors[:5]
    unanswered = [s for s in sent if s.status is None and not s.may_go_unanswered]
    assert not unanswered, unanswered[:5]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and set(hub.inbox.counts()) - {"done"}:
        time.sleep(0.05)  # the bot's turns (and their logs) finish before the logs are read
    assert set(hub.inbox.counts()) <= {"done"}, hub.inbox.counts()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [f"{r.name}: {r.getMessage()[:200]}" for r in errors[:5]]


def upload_requests(count: int, seed: int) -> list[tuple[bytes, bool, str]]:
    chance = random.Random(seed)
    made = []
    for number in range(count):
        upload = good_upload(chance, number)
        kinds = [mutate_upload(upload, chance) for _ in range(chance.randint(1, 4))]
        body = render_body(upload, chance)
        raw, unanswerable = request_bytes(
            upload.declared, body, length=upload.length, extra_headers=upload.extra_headers
        )
        made.append((raw, unanswerable, f"#{number} {'+'.join(kinds)} length={upload.length}"))
    return made


def text_message(chance: random.Random, number: int) -> dict[str, Any]:
    message: dict[str, Any] = {
        "conversation": uuid.UUID(int=chance.getrandbits(128)).hex[:16],
        "message_id": f"t-{number}",
    }
    if chance.random() < 0.2:
        message["payload"] = "/greet"
    else:
        message["text"] = chance.choice(["hola", "where is my order 10001?", "ñ" * 50])
    return message


def text_requests(count: int, seed: int) -> list[tuple[bytes, bool, str]]:
    chance = random.Random(seed)
    made = []
    for number in range(count):
        message = text_message(chance, number)
        how = chance.random()
        content_type: str | None = "application/json"
        if how < 0.55:  # values of every type in every field, or fields removed
            for _ in range(chance.randint(1, 4)):
                key = chance.choice([*message, "text", "payload", "conversation", "extra"])
                if chance.random() < 0.25:
                    message.pop(key, None)
                else:
                    message[key] = chance.choice(ODD_VALUES)
            body = json.dumps(message).encode()
            description = "json-values"
        elif how < 0.75:  # not JSON, or JSON that is not an object
            valid = json.dumps(message)
            body, description = chance.choice(
                [
                    (valid[: chance.randrange(len(valid))].encode(), "cut"),
                    (valid.encode() + b"\xff", "trailing-byte"),
                    (valid.encode("utf-16"), "utf-16"),
                    (valid.replace('"', "'").encode(), "single-quotes"),
                    (b"[" * 50_000 + b"]" * 50_000, "deep"),
                    (b'{"conversation": ' + b"9" * 5000 + b"}", "huge-number"),
                    (b'{"conversation": NaN, "text": Infinity}', "nan"),
                    (b"\xff\xfe\x00garbage", "binary"),
                    (b"", "empty"),
                    (chance.choice([b"null", b"[]", b'"x"', b"1", b"true"]), "not-object"),
                    (json.dumps([message]).encode(), "list"),
                ]
            )
        else:  # the page's message, sent with another content type or as a form
            content_type = chance.choice(
                [
                    None, "text/plain", "application/x-www-form-urlencoded", "application/json; "
                    "charset=bogus", "application/json; charset=utf-16", "APPLICATION/JSON",
                    "application/xml", "multipart/form-data-x", "*/*", "",
                ]
            )  # fmt: skip
            form = "&".join(f"{k}={v}" for k, v in message.items()).encode()
            body = chance.choice([json.dumps(message).encode(), form])
            description = f"content-type={content_type!r}"
        raw, unanswerable = request_bytes(content_type, body)
        made.append((raw, unanswerable, f"#{number} {description}"))
    return made


def test_mutated_uploads_get_an_answer_below_500_and_log_no_error(
    app: ChannelApp, hub: ChannelHub, caplog: pytest.LogCaptureFixture
) -> None:
    requests = upload_requests(UPLOAD_INPUTS, SEED)
    assert len(requests) >= 1000
    sent = run(app, requests)
    assert_no_errors(sent, hub, caplog)
    assert any(s.status == 200 for s in sent), "no mutated upload was accepted at all"
    assert any(s.status in (400, 413) for s in sent)


def test_mutated_text_messages_get_an_answer_below_500_and_log_no_error(
    app: ChannelApp, hub: ChannelHub, caplog: pytest.LogCaptureFixture
) -> None:
    requests = text_requests(TEXT_INPUTS, SEED)
    assert len(requests) >= 1000
    sent = run(app, requests)
    assert_no_errors(sent, hub, caplog)
    assert any(s.status == 200 for s in sent)
    assert any(s.status == 400 for s in sent)
