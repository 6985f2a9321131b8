"""The Telegram channel: a bot in webhook mode, through python-telegram-bot's `Bot`.

Wire formats, limits and errors: /work/shared/reference/channel-specs.md §4.

Inbound, Telegram POSTs one JSON `Update` per request to `/webhooks/telegram/webhook` with
the secret given to `setWebhook` in `X-Telegram-Bot-Api-Secret-Token`. Conversations are
`telegram:<chat_id>`; the delivery id is the `update_id` (Telegram repeats undelivered
updates, and ids restart at random after a quiet week, so the inbox dedupes on the id seen,
never on "greater than the last one"). Only private chats are served: a customer-service bot
added to a group would otherwise answer everybody in it.

Choices worth knowing:

- An `edited_message` is processed as the customer's corrected words: a new turn with
  `edited=True`, sent at the edit time. The bot cannot take back what it answered to the
  first version, and answering the correction is what a person would do. Edits of a
  location are ignored: a live location sends one every few seconds.
- A button tap (`callback_query`) reaches the bot as the button's payload, with the
  tapped button's title as text (found in the keyboard of the message it was tapped on), so
  a tap on a stale keyboard still gives the bot the customer's words. Before the turn the
  query is answered (`answerCallbackQuery`), which stops the spinner on the customer's phone.
- Telegram's `/start` (the START button every new chat begins with, maybe with a deep-link
  parameter) reaches the bot as `/greet`: Rasa would otherwise read `/start` as an unknown
  intent.
- A contact card the customer shares of themselves (`contact.user_id` is the sender) gives
  the customer's phone number, which links their profile across channels.
- Callback data is limited to 64 bytes: longer payloads go out as `#<n>` (`button_key`),
  resolved by the core to the n-th offered button.
- Hilo's own media links (invoices) point at this server, which Telegram cannot reach from
  the internet on a laptop: such files are uploaded; any other URL is passed to Telegram.

`python -m connectors.telegram set-webhook [--url URL]` registers the webhook and
`python -m connectors.telegram webhook-info` shows Telegram's view of it (pending updates,
last delivery error).
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import json
import logging
import re
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from sanic.request import Request
from telegram import (
    Bot,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
    User,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from connectors.adapter import BUTTON_KEY, Batch, ChannelSender, PerLoop, button_key, sender_ref
from connectors.core import ChannelHub
from connectors.errors import MediaError, PayloadError, SendError, SignatureError
from connectors.media_store import FILES_PATH, LocalMediaStore, MediaStore, public_base_url
from connectors.messages import (
    Button,
    InboundMessage,
    Kind,
    Location,
    MediaRef,
    OutboundPart,
)
from connectors.registry import TelegramRules
from connectors.render import numbered
from connectors.settings import MediaLimits, TelegramSettings, public_url
from connectors.webhook import HiloInput, HiloOutput

logger = logging.getLogger(__name__)

CHANNEL = "telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64  # bytes of UTF-8
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
WEBHOOK_PATH = "/webhooks/telegram/webhook"
START_COMMAND = re.compile(r"^/start(?:@\w+)?(?:\s+(?P<parameter>\S.*))?$", re.DOTALL)
START_PAYLOAD = "/greet"  # what Hilo's domain calls a first hello
BOT_TOKEN = re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{5,}")
TOKEN_IN_URL = re.compile(r"/(file/)?bot[0-9]+(?::|%3A)[A-Za-z0-9_-]+", re.IGNORECASE)


# --- inbound: verify and parse --------------------------------------------------------------


def check_secret(received: str | None, expected: str) -> None:
    """Raises `SignatureError` unless the webhook carried the secret given to `setWebhook`."""
    if not received:
        raise SignatureError(f"missing {SECRET_HEADER}")
    if not expected or not hmac.compare_digest(received.encode(), expected.encode()):
        raise SignatureError(f"wrong {SECRET_HEADER}")


def batch_from_body(body: bytes, now: float | None = None) -> Batch:
    """The webhook body (one JSON `Update`) as a batch; `PayloadError` if it is not one."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise PayloadError("not JSON") from error
    if not isinstance(data, dict):
        raise PayloadError("expected a JSON object")
    update_id = data.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        raise PayloadError("no update_id")
    try:
        update = Update.de_json(data, None)
    except Exception as error:  # PTB raises KeyError/TypeError/AttributeError on bad objects
        raise PayloadError(f"not a Telegram update ({type(error).__name__})") from error
    kind = _update_type(data)
    try:
        return batch_from_update(update, kind, time.time() if now is None else now)
    except (AttributeError, TypeError, ValueError, KeyError) as error:
        # PTB builds objects from fields of the wrong type ("chat": null, a number for a
        # name) without complaint; translating them fails. A 400, never a 500 (found by
        # fuzzing mutated fixtures).
        raise PayloadError(f"malformed {kind} ({type(error).__name__})") from error


def _update_type(data: dict[str, Any]) -> str:
    """The update's kind: the one field set besides `update_id` (future kinds included)."""
    return next((key for key in data if key != "update_id"), "empty")


def batch_from_update(update: Update, kind: str, now: float) -> Batch:
    """Translates one update; anything that is not a private chat's message is ignored."""
    message: InboundMessage | None
    if update.message is not None:
        chat = update.message.chat
        if chat.type != "private":
            return Batch(ignored=["group_message"])
        message = _from_message(update.update_id, update.message, edited=False)
    elif update.edited_message is not None:
        chat = update.edited_message.chat
        if chat.type != "private":
            return Batch(ignored=["group_message"])
        if update.edited_message.location is not None:
            return Batch(ignored=["edited_message.location"])  # live location ticks
        message = _from_message(update.update_id, update.edited_message, edited=True)
    elif update.callback_query is not None:
        query = update.callback_query
        if query.message is None or query.data is None:
            return Batch(ignored=["callback_query.inline"])  # inline-mode or game buttons
        if query.message.chat.type != "private":
            return Batch(ignored=["group_message"])
        message = _from_callback(update.update_id, query, query.message.chat.id, now)
    else:
        return Batch(ignored=[kind])
    if message is None:
        return Batch(ignored=[f"{kind}.unsupported"])
    return Batch(messages=[message])


def _display_name(user: User | None) -> str | None:
    if user is None:
        return None
    name = " ".join(part for part in (user.first_name, user.last_name) if part)
    return name or None


def _media_of(message: Message) -> MediaRef | None:
    """The message's file, if any, as something `fetch_media` can download."""
    if message.photo:
        largest = message.photo[-1]  # sizes come smallest first
        return MediaRef(largest.file_id, content_type="image/jpeg", size=largest.file_size)
    if message.document is not None:
        doc = message.document
        return MediaRef(
            doc.file_id,
            content_type=doc.mime_type or "application/octet-stream",
            filename=doc.file_name,
            size=doc.file_size,
        )
    if message.voice is not None:
        voice = message.voice
        return MediaRef(
            voice.file_id, content_type=voice.mime_type or "audio/ogg", size=voice.file_size
        )
    if message.audio is not None:
        audio = message.audio
        return MediaRef(
            audio.file_id,
            content_type=audio.mime_type or "audio/mpeg",
            filename=audio.file_name,
            size=audio.file_size,
        )
    if message.video is not None:
        video = message.video
        return MediaRef(
            video.file_id,
            content_type=video.mime_type or "video/mp4",
            filename=video.file_name,
            size=video.file_size,
        )
    if message.video_note is not None:
        note = message.video_note
        return MediaRef(note.file_id, content_type="video/mp4", size=note.file_size)
    if message.sticker is not None:
        sticker = message.sticker
        if sticker.is_animated:
            content_type = "application/x-tgsticker"
        elif sticker.is_video:
            content_type = "video/webm"
        else:
            content_type = "image/webp"
        return MediaRef(sticker.file_id, content_type=content_type, size=sticker.file_size)
    return None


def _e164(phone_number: str) -> str | None:
    digits = re.sub(r"\D", "", phone_number or "")
    return f"+{digits}" if 7 <= len(digits) <= 15 else None


def _from_message(update_id: int, message: Message, *, edited: bool) -> InboundMessage | None:
    """A private chat's message (or its edit); None when it carries nothing we handle."""
    text = message.text or message.caption or ""
    user = message.from_user
    kind = Kind.TEXT
    payload: str | None = None
    media: tuple[MediaRef, ...] = ()
    location: Location | None = None
    phone: str | None = None
    extra: dict[str, Any] = {"message_id": message.message_id}
    file = _media_of(message)
    if file is not None:
        kind, media = Kind.MEDIA, (file,)
    elif message.venue is not None:
        venue = message.venue
        kind = Kind.LOCATION
        location = Location(
            venue.location.latitude,
            venue.location.longitude,
            name=venue.title or None,
            address=venue.address or None,
        )
    elif message.location is not None:
        kind = Kind.LOCATION
        location = Location(message.location.latitude, message.location.longitude)
    elif message.contact is not None:
        contact = message.contact
        kind = Kind.CONTACT
        extra["contact"] = {
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "phone_number": contact.phone_number,
            "user_id": contact.user_id,
        }
        if user is not None and contact.user_id == user.id:
            phone = _e164(contact.phone_number)  # the customer's own number: links the profile
            # Shared with the "share my number" button, usually when the bot asked for it.
            text = text or (phone or "")
    elif not text.strip():
        return None  # a poll, a dice, a service message: nothing for the bot
    if message.text:
        start = START_COMMAND.match(message.text.strip())
        if start:
            payload = START_PAYLOAD
            extra["command"] = "start"
            if start.group("parameter"):
                extra["start_parameter"] = start.group("parameter")
    when = message.edit_date if edited and message.edit_date else message.date
    return InboundMessage(
        channel=CHANNEL,
        conversation_id=f"{CHANNEL}:{message.chat.id}",
        provider_id=str(update_id),
        kind=kind,
        sent_at=when.timestamp(),
        text=text,
        payload=payload,
        media=media,
        location=location,
        reply_to=(str(message.reply_to_message.message_id) if message.reply_to_message else None),
        display_name=_display_name(user),
        phone=phone,
        edited=edited,
        extra=extra,
    )


def _tapped_title(query: CallbackQuery) -> str | None:
    """The title of the button whose data the tap carried, from the message's keyboard."""
    markup = getattr(query.message, "reply_markup", None)
    for row in getattr(markup, "inline_keyboard", None) or ():
        for button in row:
            if button.callback_data == query.data:
                return str(button.text)
    return None


def _from_callback(
    update_id: int, query: CallbackQuery, chat_id: int, now: float
) -> InboundMessage:
    """A tap on one of the bot's inline buttons (in the chat `chat_id`)."""
    data = str(query.data)
    title = _tapped_title(query)
    if title is None:
        title = "" if BUTTON_KEY.match(data) else data
    return InboundMessage(
        channel=CHANNEL,
        conversation_id=f"{CHANNEL}:{chat_id}",
        provider_id=str(update_id),
        kind=Kind.BUTTON,
        sent_at=now,
        text=title,
        payload=data,
        display_name=_display_name(query.from_user),
        extra={"callback_query_id": query.id},
    )


# --- outbound ---------------------------------------------------------------------------


def callback_data(index: int, payload: str) -> str:
    """What a button carries back: its payload, or `#<index>` when over 64 bytes (1-based)."""
    if payload and len(payload.encode("utf-8")) <= CALLBACK_DATA_LIMIT:
        return payload
    return button_key(index)


def keyboard(buttons: Sequence[Button]) -> InlineKeyboardMarkup | None:
    """An inline keyboard, one button per row (titles are often long on a phone)."""
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(button.title, callback_data=callback_data(index, button.payload))]
            for index, button in enumerate(buttons, start=1)
        ]
    )


def scrub(text: str, token: str = "") -> str:
    """`text` without the bot token (PTB names it in some errors, URLs carry it)."""
    if token:
        text = text.replace(token, "<token>")
    return BOT_TOKEN.sub("<token>", text)


def map_error(error: TelegramError, token: str = "") -> SendError:
    """A Bot API error as a `SendError` (the core retries the retryable ones)."""
    message = scrub(error.message or type(error).__name__, token)
    if isinstance(error, RetryAfter):
        return SendError("429", message, retryable=True, retry_after=_retry_seconds(error))
    if isinstance(error, Forbidden):
        return SendError("403", message or "blocked by the user")
    if isinstance(error, InvalidToken):
        return SendError("401", message)
    if isinstance(error, (BadRequest, ChatMigrated)):  # BadRequest is a NetworkError in PTB
        return SendError("400", message)
    if isinstance(error, Conflict):
        return SendError("409", message)
    if isinstance(error, (TimedOut, NetworkError)):
        return SendError("network", message, retryable=True)
    return SendError("telegram", message)


def _retry_seconds(error: RetryAfter) -> float:
    """The wait Telegram asked for; PTB 22 warns when `retry_after` is read as an int."""
    value = getattr(error, "_retry_after", None)
    if not isinstance(value, timedelta):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def chat_id_of(conversation_id: str) -> int:
    """The chat id in `telegram:<chat_id>`."""
    prefix, _, chat = conversation_id.partition(":")
    if prefix != CHANNEL or not re.fullmatch(r"-?\d{1,20}", chat):
        raise SendError("invalid_recipient", "not a telegram conversation id")
    return int(chat)


def make_bot(settings: TelegramSettings) -> Bot:
    """A Bot pointed at `settings.api_base_url` (a fake Bot API in tests)."""
    base = settings.api_base_url.rstrip("/")
    return Bot(str(settings.bot_token), base_url=f"{base}/bot", base_file_url=f"{base}/file/bot")


class TelegramSender(TelegramRules, ChannelSender):
    """Sends through the Bot API with one `Bot` (one HTTP client) per event loop."""

    text_limit = TEXT_LIMIT
    settings: TelegramSettings

    def __init__(
        self,
        settings: TelegramSettings,
        *,
        max_bytes: int | None = None,
        media_store: Callable[[], MediaStore] | None = None,
    ) -> None:
        """`media_store` gives the store Hilo's own media links point into (for uploads)."""
        self.settings = settings
        self.max_bytes = max_bytes if max_bytes is not None else MediaLimits.from_env().max_bytes
        self._media_store = media_store or LocalMediaStore
        self._bots: PerLoop[Bot] = PerLoop(lambda: make_bot(settings))

    def bot(self) -> Bot:
        """The running loop's Bot. Sending needs no `initialize()` (which would call getMe)."""
        return self._bots.get()

    async def send(self, conversation_id: str, part: OutboundPart) -> str | None:
        """Sends one part; returns Telegram's message id."""
        chat_id = chat_id_of(conversation_id)
        if part.template:
            raise SendError("unsupported", "telegram has no message templates")
        bot = self.bot()
        try:
            if part.image_url or part.document_url:
                message = await self._send_file(bot, chat_id, part)
            elif part.text.strip() or part.buttons:
                text = part.text if part.text.strip() else numbered("", part.buttons)
                message = await bot.send_message(
                    chat_id=chat_id, text=text, reply_markup=keyboard(part.buttons)
                )
            else:
                raise SendError("empty", "nothing to send")
        except TelegramError as error:
            raise map_error(error, self.settings.bot_token) from error
        return str(message.message_id)

    async def _send_file(self, bot: Bot, chat_id: int, part: OutboundPart) -> Message:
        """A photo or document, with the text as caption when it fits (else a message after)."""
        url = str(part.image_url or part.document_url)
        upload = await self._own_file(url)
        caption = part.text if part.text and len(part.text) <= CAPTION_LIMIT else None
        markup = keyboard(part.buttons)
        markup_here = markup if caption is not None or not part.text else None
        if part.image_url:
            photo: Any = upload[0] if upload else _remote(url)
            message = await bot.send_photo(
                chat_id=chat_id,
                photo=photo,
                caption=caption,
                reply_markup=markup_here,
                filename=upload[1] if upload else None,
            )
        else:
            document: Any = upload[0] if upload else _remote(url)
            filename = part.filename or (upload[1] if upload else None)
            message = await bot.send_document(
                chat_id=chat_id,
                document=document,
                caption=caption,
                reply_markup=markup_here,
                filename=filename if upload else None,
            )
        if part.text and caption is None:
            await bot.send_message(chat_id=chat_id, text=part.text, reply_markup=markup)
        return message

    async def _own_file(self, url: str) -> tuple[bytes, str] | None:
        """The bytes and name of a Hilo media link (Telegram cannot fetch localhost)."""
        prefix = f"{public_base_url()}{FILES_PATH}/"
        if not url.startswith(prefix):
            return None
        name = url[len(prefix) :].split("?", 1)[0]
        path = self._media_store().path(name)
        if path is None:
            raise SendError("media_not_found", "the media link points to no stored file")
        return await asyncio.to_thread(path.read_bytes), name

    async def fetch_media(self, media: MediaRef) -> tuple[bytes, str]:
        """getFile, then the file itself (the Bot API serves files up to 20 MB)."""
        bot = self.bot()
        try:
            file = await bot.get_file(media.provider_ref)
        except BadRequest as error:
            if "too big" in (error.message or "").lower():
                raise MediaError("too_large") from error
            raise MediaError("download", type(error).__name__) from error
        except TelegramError as error:
            raise MediaError("download", type(error).__name__) from error
        if file.file_size is not None and file.file_size > self.max_bytes:
            raise MediaError("too_large")
        if not str(file.file_path or "").startswith(bot.base_file_url):
            # PTB reads a local path from disk: only ever download from the Bot API.
            raise MediaError("download", "no file path")
        try:
            data = await file.download_as_bytearray()
        except TelegramError as error:
            raise MediaError("download", type(error).__name__) from error
        if len(data) > self.max_bytes:
            raise MediaError("too_large")
        return bytes(data), media.content_type

    async def before_turn(self, message: InboundMessage) -> None:
        """Answers a button tap's callback query: the customer's spinner stops."""
        query_id = message.extra.get("callback_query_id")
        if not query_id:
            return
        try:
            await self.bot().answer_callback_query(callback_query_id=str(query_id))
        except Exception as error:  # a spinner is cosmetic: never fail the turn for it
            logger.warning(
                "connectors.telegram.answer_callback_failed sender=%s error=%s",
                sender_ref(message.conversation_id),
                type(error).__name__,
            )


def _remote(url: str) -> str:
    """A URL for Telegram to fetch; PTB would upload a string naming a local file instead."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise SendError("invalid_url", "media URLs must be http(s)")
    return url


# --- channel ----------------------------------------------------------------------------


class TelegramOutput(HiloOutput):
    """Responses to Telegram chats."""

    channel = CHANNEL


class TelegramInput(HiloInput):
    """The Telegram webhook (`/webhooks/telegram/webhook`)."""

    channel = CHANNEL
    output_class = TelegramOutput

    def __init__(
        self, settings: TelegramSettings | None = None, hub: ChannelHub | None = None
    ) -> None:
        """Reads TELEGRAM_* unless given `settings`; unconfigured, the webhook answers 503."""
        self.settings = settings or TelegramSettings.from_env()
        sender = TelegramSender(self.settings, media_store=lambda: self.hub.media_store)
        super().__init__(
            sender,
            configured=self.settings.configured,
            missing=self.settings.missing(),
            hub=hub,
        )
        _redact_token_in_logs()

    def verify(self, request: Request) -> None:
        """The secret token given to `setWebhook`, compared in constant time."""
        check_secret(request.headers.get(SECRET_HEADER), self.settings.secret_token)

    def parse(self, request: Request) -> Batch:
        """One `Update` per request."""
        return batch_from_body(request.body or b"")


# --- the token stays out of logs -----------------------------------------------------------


class _RedactToken(logging.Filter):
    """httpx logs every request URL at INFO, and the Bot API puts the token in the path."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrites `/bot<id>:<secret>/` to `/bot<token>/`; never drops a record."""
        text = record.getMessage()
        scrubbed = scrub(TOKEN_IN_URL.sub(lambda m: f"/{m.group(1) or ''}bot<token>", text))
        if scrubbed != text:
            record.msg, record.args = scrubbed, None
        return True


_redactor = _RedactToken()


def _redact_token_in_logs() -> None:
    """Installs the filter on the loggers that print Bot API URLs (idempotent)."""
    for name in ("httpx", "telegram.Bot"):
        target = logging.getLogger(name)
        if _redactor not in target.filters:
            target.addFilter(_redactor)


# --- command line -------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """`set-webhook [--url URL]` or `webhook-info`; exit 2 when the bot is not configured."""
    parser = argparse.ArgumentParser(
        prog="python -m connectors.telegram", description="Telegram webhook setup for Hilo."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    set_webhook = commands.add_parser("set-webhook", help="point Telegram at this Hilo")
    set_webhook.add_argument(
        "--url", help=f"webhook URL (default: HILO_PUBLIC_URL + {WEBHOOK_PATH})"
    )
    commands.add_parser("webhook-info", help="what Telegram knows about the webhook")
    args = parser.parse_args(argv)
    settings = TelegramSettings.from_env()
    if not settings.configured:
        print(f"Telegram is not configured: set {', '.join(settings.missing())}.", file=sys.stderr)
        return 2
    _redact_token_in_logs()
    try:
        if args.command == "set-webhook":
            url = args.url or f"{public_url()}{WEBHOOK_PATH}"
            return asyncio.run(_set_webhook(settings, url))
        return asyncio.run(_webhook_info(settings))
    except TelegramError as error:
        reason = scrub(error.message, settings.bot_token)
        print(f"Telegram refused: {type(error).__name__}: {reason}", file=sys.stderr)
        return 1


async def _set_webhook(settings: TelegramSettings, url: str) -> int:
    if urlsplit(url).scheme != "https":
        print(
            "warning: Telegram only delivers to https URLs (ports 443, 80, 88 or 8443); "
            "set HILO_PUBLIC_URL or pass --url.",
            file=sys.stderr,
        )
    async with make_bot(settings) as bot:  # initialize() calls getMe: checks the token
        done = await bot.set_webhook(
            url, secret_token=str(settings.secret_token), allowed_updates=ALLOWED_UPDATES
        )
        print(f"setWebhook for @{bot.username}: {'ok' if done else 'refused'} ({url})")
    return 0 if done else 1


async def _webhook_info(settings: TelegramSettings) -> int:
    async with make_bot(settings) as bot:
        info = await bot.get_webhook_info()
    print(f"url: {info.url or '(none)'}")
    print(f"pending_update_count: {info.pending_update_count}")
    print(f"last_error_message: {info.last_error_message or '(none)'}")
    if info.last_error_date is not None:
        print(f"last_error_date: {info.last_error_date.isoformat()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
