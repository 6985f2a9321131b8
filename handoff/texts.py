"""What the handoff itself tells customers, in Spanish and English.

The bot's own words live in domain.yml; these are the messages of the handoff machinery,
sent when the bot cannot speak: after a bot failure, and while a person owns the thread.
`when` is the promise from handoff/hours.py ("hoy antes de las 17:00").
"""

from __future__ import annotations

_BOT_ERROR = {
    "es": (
        "Perdón, tuve un problema para responderte 😓. Te comunico con una persona de nuestro "
        "equipo: te responde {when}, por este mismo chat."
    ),
    "en": (
        "Sorry, I had a problem answering you 😓. I'm passing you to a person from our team: "
        "they'll reply {when}, in this same chat."
    ),
}
_RECEIVED = {
    "es": "Recibido 👍. Ya está con nuestro equipo; te responden {when}.",
    "en": "Got it 👍. It's with our team; they'll reply {when}.",
}


def _lang(language: str) -> str:
    return "en" if language == "en" else "es"


def bot_error_notice(when: str, language: str) -> str:
    """The bot failed on this message: a person takes over."""
    return _BOT_ERROR[_lang(language)].format(when=when)


def received_notice(when: str, language: str) -> str:
    """The customer wrote while waiting for a person (sent at most once every few hours)."""
    return _RECEIVED[_lang(language)].format(when=when)
