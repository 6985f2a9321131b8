"""Logs that name nobody: no message text, phone number or email in any Hilo process's log.

Every Hilo process (the Rasa server, the action server, the desk and the `hilo` command)
calls `install()` before anything logs. It works where every record is made, in
`logging.Logger.makeRecord`, because the loggers that matter belong to libraries that set up
their own handlers after Hilo starts (Rasa's coloredlogs and structlog, Sanic's access and
error loggers, aiohttp's, httpx's): a filter on today's handlers would miss tomorrow's.

Two rules, applied to the formatted message, its extra fields and its traceback:

1. **Rasa's and the Rasa SDK's debug records keep their leading words only.** At DEBUG they
   print the conversation itself: each message's text, its parse, the slots, the bot's
   replies, in free form that no pattern can find ("Received user message 'quiero cancelar,
   soy Ana' with intent ..."). What is left says what happened ("Received user message");
   a structlog record keeps its event name and the names of its fields, not their values.
   At INFO and above they name actions and intents, not content.
2. **Phone numbers and emails are replaced everywhere**, at every level, URL-encoded forms
   included: conversation ids are phone numbers ("whatsapp:+5215512345678", which a URL
   spells "whatsapp%3A%2B5215512345678"), and an exception's message may quote what the
   customer typed. Any run of 7 or more digits counts (a Telegram chat id identifies a
   person as well); dates, times and the digits inside ids and hashes are kept.

Hilo's own log lines name conversations by keyed pseudonyms (hilo/pseudonyms.py) and never
carry text; these rules are the net under that, and under every library's logging.
`tests/integration/test_logs.py` runs the whole stack at DEBUG and searches its logs.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

PHONE_MARK = "<phone>"
EMAIL_MARK = "<email>"

_EMAIL = re.compile(r"[\w.%+\-]+(?:@|%40)[\w\-]+(?:\.[\w\-]+)*\.[A-Za-z]{2,}", re.ASCII)
# 7+ digits, optionally after "+" (or its URL-encoding) and with spaces, dashes or parentheses
# between them; not inside a longer word, id or hash (a letter, digit, "-", "." or "_" beside).
_PHONE = re.compile(
    r"(?<![\w\-.])(?:\+|%2[bB])?\(?\d(?:[ \-()]{0,2}\d){6,}(?![\w\-:])",
    re.ASCII,
)
_ENCODED = re.compile(r"(?:%2[bB]|%3[aA])(?:%2[bB])?\d{7,}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{2}-\d{2}-\d{4}")
# Where a Rasa debug line's content starts: a quote, a bracket, a colon or "=".
_CONTENT_START = re.compile(r"[\"'`(\[{:=<]")
_CONTENT_LOGGERS = ("rasa", "rasa_sdk")
# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
}
_FORMATTER = logging.Formatter()
_ORIGINAL_MAKE_RECORD = logging.Logger.makeRecord


def _phone_or_date(match: re.Match[str]) -> str:
    text = match.group(0)
    return text if _DATE.fullmatch(text) else PHONE_MARK


def redact(text: str) -> str:
    """`text` with every email address and phone-like number replaced by a mark."""
    text = _ENCODED.sub(PHONE_MARK, _EMAIL.sub(EMAIL_MARK, text))
    return _PHONE.sub(_phone_or_date, text)


def content_free(message: str) -> str:
    """What a Rasa debug line says happened, without what the customer or the bot said."""
    stripped = message.strip()
    if stripped.startswith("{"):
        try:
            fields = json.loads(stripped)
        except ValueError:
            fields = None
        if isinstance(fields, dict):
            names = sorted(set(fields) - {"event", "log_level", "timestamp", "level"})
            event = str(fields.get("event", ""))
            return f"{_CONTENT_START.split(event, 1)[0].strip()} [{', '.join(names)}]".strip()
    return _CONTENT_START.split(stripped, 1)[0].rstrip()


def _holds_content(record: logging.LogRecord) -> bool:
    return record.levelno < logging.INFO and record.name.split(".", 1)[0] in _CONTENT_LOGGERS


def scrub(record: logging.LogRecord) -> logging.LogRecord:
    """The record with its message formatted and cleaned, its extras and traceback redacted."""
    try:
        message = record.getMessage()
    except Exception:  # a wrong format string is the caller's bug, not a reason to leak args
        message = str(record.msg)
    if _holds_content(record):
        message = content_free(message)
        record.exc_info, record.exc_text, record.stack_info = None, None, None
    record.msg, record.args = redact(message), None
    for key, value in list(vars(record).items()):
        if key not in _STANDARD and isinstance(value, str):
            setattr(record, key, redact(value))
    if record.exc_info and not record.exc_text:
        # Formatted now, so every handler prints this text instead of formatting it again.
        record.exc_text = redact(_FORMATTER.formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


def _make_record(self: logging.Logger, *args: Any, **kwargs: Any) -> logging.LogRecord:
    return scrub(_ORIGINAL_MAKE_RECORD(self, *args, **kwargs))


def install() -> None:
    """Cleans every log record this process makes from now on (idempotent)."""
    logging.Logger.makeRecord = _make_record  # type: ignore[method-assign]


def installed() -> bool:
    """Whether `install()` is in force in this process."""
    return logging.Logger.makeRecord is _make_record
