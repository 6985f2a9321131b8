"""Email from the bot: the one-time codes that prove owning an order (actions/commerce/codes.py).

`HILO_SMTP_URL` names the mail server: `smtp://[user:password@]host[:port]`, or
`smtps://…` for TLS from the start; `?starttls=1` upgrades a plain connection. `HILO_MAIL_FROM`
is the sender ("Tienda <pedidos@tienda.example>").

Without a server, development writes each email into `var/mail/` (HILO_VAR_DIR) so that
`make run` works on a laptop and the code can be read there; production sends no codes at all
(the bot asks for the order's email instead), rather than pretend it sent one. Nothing here
logs an address or a code.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import time
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from hilo.profile import is_production

logger = logging.getLogger(__name__)

SMTP_TIMEOUT = 10.0
DEFAULT_SENDER = "Hilo <no-reply@hilo.invalid>"


class MailError(Exception):
    """The email could not be handed to the mail server."""


def _url() -> str:
    return os.environ.get("HILO_SMTP_URL", "").strip()


def mail_available() -> bool:
    """Whether the bot can send email here (a server, or development's mail folder)."""
    return bool(_url()) or not is_production()


def mail_folder() -> Path:
    """Where development writes the emails it would send."""
    return Path(os.environ.get("HILO_VAR_DIR", "var")) / "mail"


def _message(to: str, subject: str, text: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = os.environ.get("HILO_MAIL_FROM", DEFAULT_SENDER)
    message["To"] = to
    message["Subject"] = subject
    message.set_content(text)
    return message


def send_mail(to: str, subject: str, text: str) -> None:
    """Sends a plain-text email; raises MailError when the server does not take it."""
    message = _message(to, subject, text)
    url = _url()
    if not url:
        if is_production():
            raise MailError("HILO_SMTP_URL is not set")
        folder = mail_folder()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{time.time_ns()}.eml"
        path.write_bytes(bytes(message))
        logger.info("actions.mail.saved folder=%s", folder)
        return
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise MailError("HILO_SMTP_URL must be smtp://host[:port] or smtps://host[:port]")
    options = parse_qs(parts.query)
    try:
        if parts.scheme == "smtps":
            server: smtplib.SMTP = smtplib.SMTP_SSL(
                parts.hostname,
                parts.port or 465,
                timeout=SMTP_TIMEOUT,
                context=ssl.create_default_context(),
            )
        else:
            server = smtplib.SMTP(parts.hostname, parts.port or 25, timeout=SMTP_TIMEOUT)
        with server:
            if options.get("starttls") == ["1"]:
                server.starttls(context=ssl.create_default_context())
            if parts.username:
                server.login(unquote(parts.username), unquote(parts.password or ""))
            server.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        logger.warning("actions.mail.failed error=%s", type(error).__name__)
        raise MailError(type(error).__name__) from error
    logger.info("actions.mail.sent")


def erase_saved_mail(addresses: set[str], folder: Path | None = None) -> int:
    """Deletes development's saved emails to any of `addresses` (lowercase); how many went.

    Only development saves mail (var/mail/); a mail server's copies are its operator's to
    erase. Each file is a whole message, so one addressed to the person goes whole.
    """
    folder = folder or mail_folder()
    if not addresses or not folder.is_dir():
        return 0
    removed = 0
    for path in folder.glob("*.eml"):
        try:
            recipient = BytesParser(policy=policy.default).parsebytes(
                path.read_bytes(), headersonly=True
            )["To"]
        except (OSError, ValueError):
            continue
        if recipient and str(recipient).strip().lower() in addresses:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
