"""The stores where an order can be picked up (`pickup_stores.yml`), and naming one in a message.

Kept apart from facts.yml because the order form needs each store's address fields, not a
sentence: a pickup order is stored with the store's address.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

PATH = Path(__file__).with_name("pickup_stores.yml")


@dataclass(frozen=True)
class PickupStore:
    """One store: its key, its name per language, its address and the words naming it."""

    key: str
    names: dict[str, str]
    street: str
    city: str
    postal_code: str
    words: tuple[str, ...]

    def name(self, language: str) -> str:
        """The store's name in "es" or "en"."""
        return self.names.get(language, self.names["es"])


@lru_cache(maxsize=1)
def pickup_stores() -> tuple[PickupStore, ...]:
    """Every pickup store, in the file's order."""
    raw = yaml.safe_load(PATH.read_text(encoding="utf-8"))
    return tuple(
        PickupStore(
            key=str(item["key"]),
            names=dict(item["name"]),
            street=str(item["street"]),
            city=str(item["city"]),
            postal_code=str(item["postal_code"]),
            words=tuple(str(word) for word in item["words"]),
        )
        for item in raw["stores"]
    )


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def store_named(text: str) -> PickupStore | None:
    """The store a message names ("la de la Roma", "Monterrey"), if exactly one."""
    folded = _fold(text)
    named = [
        store
        for store in pickup_stores()
        if any(re.search(rf"(?<!\w){re.escape(word)}(?!\w)", folded) for word in store.words)
        or store.key == folded.strip()
    ]
    return named[0] if len(named) == 1 else None


def store_by_key(key: str | None) -> PickupStore | None:
    """The store with this key."""
    return next((store for store in pickup_stores() if store.key == key), None)
