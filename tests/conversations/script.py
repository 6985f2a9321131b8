"""Conversation scripts (FORMAT.md): loaded, checked for shape, and turned into dataclasses.

A script that does not follow the format is an error at load time, with its file and id, so a
typo in a pattern or an unknown outcome key never turns into a silently weaker test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SCRIPTS = Path(__file__).with_name("scripts")
LANGUAGES = ("es", "en")
FLOWS = frozenset(
    {"status", "buy", "cancel", "change", "return", "invoice", "payment"}
    | {"faq", "handoff", "smalltalk", "multi"}
)
KINDS = frozenset(
    {"confirmation", "correction", "drop", "language", "no_repeat", "multi", "followup"}
    | {"pickup", "smalltalk", "typos", "regional", "emoji", "caps", "security", "bad_input"}
    | {"media"}
)
# What a customer can give, and the form slots whose question would ask for it again.
GIVES = {
    "order_id": ("order_id",),
    "email": ("order_verification",),
    "phone_digits": ("order_verification",),
    "return_reason": ("return_reason",),
    "product": ("product",),
    "size": ("product_size",),
    "colour": ("product_colour",),
    "quantity": ("quantity",),
    "name": ("customer_name",),
    "address": ("delivery_street",),
    "city": ("delivery_city",),
    "postal_code": ("delivery_postal_code",),
    "contact": ("contact",),
    "delivery": ("delivery_option",),
    "payment": ("payment_method",),
    "payment_problem": ("payment_problem",),
}
OUTCOME_KEYS = frozenset({"order", "order_address", "new_order", "return", "case"})
CASE_REASONS = frozenset(
    {"customer_asked", "complaint", "repeated_fallback", "payment_problem"}
    | {"damaged_item", "failed_verification", "account_help"}
)


class ScriptError(ValueError):
    """A script does not follow FORMAT.md."""


@dataclass(frozen=True)
class Expect:
    """What the bot's replies to one message must (not) contain."""

    any: tuple[re.Pattern[str], ...] = ()
    all: tuple[re.Pattern[str], ...] = ()
    none: tuple[re.Pattern[str], ...] = ()
    lang: str | None = None


@dataclass(frozen=True)
class Turn:
    """One customer message: text, a button tap, or a photo with a caption."""

    user: str | None = None
    button: re.Pattern[str] | None = None
    photo: str | None = None
    gives: tuple[str, ...] = ()
    expect: Expect = field(default_factory=Expect)

    def shown(self) -> str:
        """The turn as the report prints it."""
        if self.button is not None:
            return f"[button {self.button.pattern}]"
        if self.photo is not None:
            return f"[photo: {self.photo}]"
        return str(self.user)


@dataclass(frozen=True)
class Conversation:
    """One scripted customer."""

    id: str
    lang: str
    flow: str
    kinds: tuple[str, ...]
    turns: tuple[Turn, ...]
    never_shown: tuple[str, ...]
    outcome: dict[str, Any]
    source: str


def pattern(text: Any, where: str) -> re.Pattern[str]:
    """A FORMAT.md pattern: a regex matched case- and accent-insensitively (on folded text)."""
    try:
        return re.compile(fold(str(text)), re.IGNORECASE)
    except re.error as error:
        raise ScriptError(f"{where}: bad pattern {text!r}: {error}") from None


def fold(text: str) -> str:
    """Lowercase without accents ("Envío" -> "envio"), so patterns need no accents."""
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def _expect(raw: Any, where: str) -> Expect:
    if raw is None:
        return Expect()
    if not isinstance(raw, dict) or set(raw) - {"any", "all", "none", "lang"}:
        raise ScriptError(f"{where}: expect takes any, all, none, lang")
    lang = raw.get("lang")
    if lang is not None and lang not in LANGUAGES:
        raise ScriptError(f"{where}: expect.lang must be es or en")
    return Expect(
        **{
            key: tuple(pattern(p, where) for p in raw.get(key) or ())
            for key in ("any", "all", "none")
        },
        lang=lang,
    )


def _turn(raw: Any, where: str) -> Turn:
    if not isinstance(raw, dict):
        raise ScriptError(f"{where}: a turn is a mapping")
    said = [key for key in ("user", "button", "photo") if key in raw]
    if len(said) != 1:
        raise ScriptError(f"{where}: a turn has exactly one of user, button, photo")
    gives = tuple(raw.get("gives") or ())
    unknown = set(gives) - set(GIVES)
    if unknown:
        raise ScriptError(f"{where}: unknown gives {sorted(unknown)}")
    return Turn(
        user=str(raw["user"]) if "user" in raw else None,
        button=pattern(raw["button"], where) if "button" in raw else None,
        photo=str(raw["photo"] or "") if "photo" in raw else None,
        gives=gives,
        expect=_expect(raw.get("expect"), where),
    )


def _conversation(raw: Any, source: str) -> Conversation:
    if not isinstance(raw, dict) or "id" not in raw:
        raise ScriptError(f"{source}: every conversation needs an id")
    where = f"{source}:{raw['id']}"
    if raw.get("lang") not in LANGUAGES or raw.get("flow") not in FLOWS:
        raise ScriptError(f"{where}: lang must be es/en and flow one of {sorted(FLOWS)}")
    kinds = tuple(raw.get("kinds") or ())
    if set(kinds) - KINDS:
        raise ScriptError(f"{where}: unknown kinds {sorted(set(kinds) - KINDS)}")
    outcome = dict(raw.get("outcome") or {})
    if set(outcome) - OUTCOME_KEYS:
        raise ScriptError(f"{where}: unknown outcome keys {sorted(set(outcome) - OUTCOME_KEYS)}")
    case = outcome.get("case")
    if isinstance(case, dict) and case.get("reason") not in CASE_REASONS:
        raise ScriptError(f"{where}: unknown case reason {case.get('reason')!r}")
    turns = tuple(_turn(t, f"{where} turn {n + 1}") for n, t in enumerate(raw.get("turns") or ()))
    if not turns:
        raise ScriptError(f"{where}: no turns")
    return Conversation(
        id=str(raw["id"]),
        lang=raw["lang"],
        flow=raw["flow"],
        kinds=kinds,
        turns=turns,
        never_shown=tuple(str(s) for s in raw.get("never_shown") or ()),
        outcome=outcome,
        source=source,
    )


def load(directory: Path = SCRIPTS) -> list[Conversation]:
    """Every conversation under `directory`, in file order; ids must be unique."""
    conversations: list[Conversation] = []
    for path in sorted(directory.glob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for raw in document.get("conversations") or ():
            conversations.append(_conversation(raw, path.name))
    ids = [c.id for c in conversations]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ScriptError(f"duplicate conversation ids: {duplicates}")
    return conversations
