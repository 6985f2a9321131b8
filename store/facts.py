"""Load `store/facts.yml`: the store facts that bot answers quote.

Answers in domain.yml name facts as placeholders (`{shipping_standard_price}`); the response
generator fills them in the conversation's language. Keeping facts out of the response texts
means an operator changes a price or an address in one place, without retraining.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

DEFAULT_PATH = Path(__file__).with_name("facts.yml")
ENV_VAR = "HILO_STORE_FACTS"


class FactsError(ValueError):
    """The facts file is missing, malformed, or lacks a language for some fact."""


@dataclass(frozen=True)
class StoreFacts:
    """Facts by placeholder name, each with one text per language."""

    by_language: Mapping[str, Mapping[str, str]]

    def for_language(self, language: str) -> Mapping[str, str]:
        """All facts in one language ("es" or "en"); unknown languages get Spanish."""
        return self.by_language.get(language, self.by_language["es"])

    @property
    def names(self) -> frozenset[str]:
        """Every placeholder name the facts define."""
        return frozenset(self.by_language["es"])


def parse_facts(raw: object, languages: tuple[str, ...] = ("es", "en")) -> StoreFacts:
    """Builds StoreFacts from the parsed YAML, checking every fact has every language."""
    if not isinstance(raw, dict):
        raise FactsError("the facts file must be a mapping of fact names to values")
    by_language: dict[str, dict[str, str]] = {language: {} for language in languages}
    for name, value in raw.items():
        if isinstance(value, (str, int, float)):
            for language in languages:
                by_language[language][str(name)] = str(value)
        elif isinstance(value, dict):
            missing = [language for language in languages if language not in value]
            if missing:
                raise FactsError(f"fact {name!r} has no text for {', '.join(missing)}")
            for language in languages:
                by_language[language][str(name)] = str(value[language])
        else:
            raise FactsError(f"fact {name!r} must be a text or a mapping of language to text")
    return StoreFacts(by_language)


def load_facts(path: Path | None = None) -> StoreFacts:
    """Reads the facts file: `path`, else $HILO_STORE_FACTS, else store/facts.yml."""
    source = path or Path(os.environ.get(ENV_VAR) or DEFAULT_PATH)
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    except OSError as error:
        raise FactsError(f"cannot read store facts from {source}: {error}") from error
    return parse_facts(raw)
