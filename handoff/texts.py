"""What the handoff itself tells customers, in Spanish and English.

The bot's own words live in domain.yml; these are the messages of the handoff machinery,
sent when the bot cannot speak: after a bot failure, while a person owns the thread, and the
satisfaction survey once a person is done (handoff/csat.py).
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


# The satisfaction survey after a case (handoff/csat.py). The choices are stars with a word, so
# they read the same as buttons and as a numbered list ("4. ⭐⭐⭐⭐ Bien": "4" is the score).
_CSAT_QUESTION = {
    "es": "¿Cómo te atendió nuestro equipo? Califícanos del 1 (muy mal) al 5 (excelente) 🙏",
    "en": "How did our team do? Rate us from 1 (very bad) to 5 (excellent) 🙏",
}
_CSAT_CHOICES = {
    "es": ("Muy mal", "Mal", "Regular", "Bien", "Excelente"),
    "en": ("Very bad", "Bad", "OK", "Good", "Excellent"),
}
_CSAT_THANKS = {
    "es": (
        "¡Gracias! 🙌 Si quieres contarnos algo más, escríbelo aquí. Si no, sigo a tus órdenes."
    ),
    "en": "Thank you! 🙌 If you'd like to tell us more, write it here. If not, I'm here to help.",
}
_CSAT_SORRY = {
    "es": (
        "Gracias, y perdón por no haberlo hecho mejor 😓. ¿Qué pasó? Cuéntanos aquí y lo revisamos."
    ),
    "en": (
        "Thank you, and sorry we didn't do better 😓. What went wrong? Tell us here and we'll "
        "look into it."
    ),
}
_CSAT_FOLLOW_UP = {
    "es": (
        "Gracias por contarnos, y perdón 🙏. Le pasé tu comentario a una persona de nuestro "
        "equipo para que lo revise contigo: te responde {when}, por este mismo chat."
    ),
    "en": (
        "Thank you for telling us, and sorry 🙏. I've passed your comment to a person from our "
        "team to look into it with you: they'll reply {when}, in this same chat."
    ),
}
_CSAT_COMMENT_THANKS = {
    "es": "¡Gracias por contarnos! Tu comentario ya está con nuestro equipo 👍",
    "en": "Thanks for telling us! Your comment is with our team now 👍",
}


def csat_question(language: str) -> str:
    """After a case: how satisfied the customer was, 1 to 5."""
    return _CSAT_QUESTION[_lang(language)]


def csat_choices(language: str) -> tuple[str, ...]:
    """The five answers, worst first: "⭐ Muy mal" … "⭐⭐⭐⭐⭐ Excelente"."""
    words = _CSAT_CHOICES[_lang(language)]
    return tuple(f"{'⭐' * score} {word}" for score, word in enumerate(words, start=1))


def csat_thanks(score: int, language: str) -> str:
    """The score is recorded; a comment is welcome (and asked for when it was low)."""
    return (_CSAT_SORRY if score <= 2 else _CSAT_THANKS)[_lang(language)]


def csat_follow_up_notice(when: str, language: str) -> str:
    """A low score's comment went to a person, who will follow it up."""
    return _CSAT_FOLLOW_UP[_lang(language)].format(when=when)


def csat_comment_thanks(language: str) -> str:
    """The comment is recorded on the case."""
    return _CSAT_COMMENT_THANKS[_lang(language)]
