"""The designer's loop: the bot's failures, reviewed, become training data.

A customer message becomes a **training candidate** when the bot did not understand it well:

- `fallback`: NLU found nothing (`nlu_fallback`) or the core fallback answered;
- `low_confidence`: the intent it acted on scored under `HILO_NLU_LOW_CONFIDENCE` (0.5);
- `rephrased`: a message not understood was followed, within 10 minutes of the same
  contact, by one that was: the customer said it again in other words, and what the second
  message meant is the first one's suggested label;
- `handoff`: the message ended in a repeated-fallback or bot-error handoff.

handoff/facts.py proposes them as it records each turn, in the same transaction. Each gets a
suggested label (the best intent other than the fallback, `faq/<key>` for an FAQ) and a
normalized form that groups near-duplicates ("Donde esta mi pedido??" and "donde está mi
pedido" are one group): a designer reviews a group at once in the desk (`designer` role),
accepting it with an intent or FAQ key of the domain, or rejecting it. `hilo nlu candidates
--export data/nlu/reviewed.yml` writes what was accepted as Rasa training data (one example
per group; examples holding an email, a phone or any number, or already in data/nlu, are
left out and counted), which `rasa data validate` accepts; `make nlu-report` then compares
the model before and after retraining with it (bench/nlu_report.py).

Candidates hold the customer's words: they are erased with the person and removed with the
conversation by retention (handoff/personal_data.py, handoff/retention.py).
"""

from __future__ import annotations

import os
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Connection, Engine

from handoff.database import reader
from handoff.models import nlu_candidates

ROOT = Path(__file__).resolve().parent.parent
FALLBACK_INTENT = "nlu_fallback"
DEFAULT_LOW_CONFIDENCE = 0.5
REPHRASE_WINDOW = 600.0
HANDOFF_REASONS = frozenset({"repeated_fallback", "bot_error"})
MAX_TEXT = 500
# Not training data: the bot's own commands and what only the system says.
NOT_LABELS = frozenset({FALLBACK_INTENT, "send_media", "session_start", "restart", "stop"})
_REPEATS = re.compile(r"(\w)\1{2,}")
_NOT_WORD = re.compile(r"[^\w\s]+")
_SPACES = re.compile(r"\s+")
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")
_PERSONAL = re.compile(r"@|\d")


def low_confidence() -> float:
    """The confidence under which an understood message is still worth a designer's look."""
    return float(os.environ.get("HILO_NLU_LOW_CONFIDENCE", DEFAULT_LOW_CONFIDENCE))


def normalize(text: str) -> str:
    """The group key of a message: lower case, no accents, punctuation or repeated letters."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(char for char in folded if not unicodedata.combining(char))
    plain = _REPEATS.sub(r"\1", _NOT_WORD.sub(" ", plain))
    return _SPACES.sub(" ", plain).strip()[:255]


def label_of(parse: Mapping[str, Any]) -> str | None:
    """What the bot acted on: the intent, or `faq/<key>` when an FAQ answered."""
    intent = parse.get("intent") or {}
    name = intent.get("name")
    if name == "faq" and intent.get("full_retrieval_intent_name"):
        return str(intent["full_retrieval_intent_name"])
    if name == "faq":
        selector = parse.get("response_selector") or {}
        for key in ("faq", "default"):
            response = (selector.get(key) or {}).get("response") or {}
            found = response.get("intent_response_key")
            if found:
                return str(found)
    return str(name) if name else None


def suggestion(parse: Mapping[str, Any]) -> str | None:
    """The label a message most likely meant: the best ranked one that is not the fallback."""
    acted_on = label_of(parse)
    if acted_on and acted_on not in NOT_LABELS:
        return acted_on
    for ranked in parse.get("intent_ranking") or []:
        name = ranked.get("name")
        if name and name not in NOT_LABELS:
            return "faq" if name == "faq" else str(name)
    return None


@dataclass(frozen=True)
class Said:
    """A customer message as the record sees it (handoff/facts.py)."""

    at: float
    text: str
    language: str | None
    predicted: str | None
    confidence: float | None
    fallback: bool
    suggested: str | None


def consider(connection: Connection, ref: str, said: Said) -> None:
    """In the record's transaction: a message not understood well becomes a candidate.

    One understood marks the conversation's latest candidate of the last 10 minutes as
    rephrased, with what it meant as the suggestion (contacts are hours apart, so the window
    never reaches into another contact).
    """
    if not said.text.strip():
        return
    understood = not said.fallback and (said.confidence or 0.0) >= low_confidence()
    if understood:
        if said.predicted and said.predicted not in NOT_LABELS:
            _mark_rephrased(connection, ref, said, said.at - REPHRASE_WINDOW)
        return
    _propose(connection, ref, said, "fallback" if said.fallback else "low_confidence")


def after_handoff(connection: Connection, ref: str, reason: str, said: Said | None) -> None:
    """A repeated-fallback or bot-error handoff: the message that led to it is a candidate."""
    if reason not in HANDOFF_REASONS or said is None or not said.text.strip():
        return
    latest = connection.execute(
        sa.select(nlu_candidates.c.id, nlu_candidates.c.at)
        .where(nlu_candidates.c.conversation_ref == ref)
        .order_by(nlu_candidates.c.id.desc())
        .limit(1)
    ).first()
    if latest is not None and float(latest.at) == said.at:
        connection.execute(
            nlu_candidates.update()
            .where(nlu_candidates.c.id == latest.id, nlu_candidates.c.status == "new")
            .values(why="handoff")
        )
        return
    _propose(connection, ref, said, "handoff")


def _propose(connection: Connection, ref: str, said: Said, why: str) -> None:
    text = said.text.strip()[:MAX_TEXT]
    connection.execute(
        nlu_candidates.insert().values(
            at=said.at,
            conversation_ref=ref,
            text=text,
            normalized=normalize(text) or text[:255],
            language=said.language,
            predicted=said.predicted,
            confidence=said.confidence,
            why=why,
            suggested=said.suggested,
        )
    )


def _mark_rephrased(connection: Connection, ref: str, said: Said, since: float) -> None:
    latest = connection.execute(
        sa.select(nlu_candidates.c.id)
        .where(
            nlu_candidates.c.conversation_ref == ref,
            nlu_candidates.c.status == "new",
            nlu_candidates.c.why.in_(("fallback", "low_confidence")),
            nlu_candidates.c.at >= since,
            nlu_candidates.c.at < said.at,
        )
        .order_by(nlu_candidates.c.at.desc(), nlu_candidates.c.id.desc())
        .limit(1)
    ).scalar()
    if latest is not None:
        connection.execute(
            nlu_candidates.update()
            .where(nlu_candidates.c.id == latest)
            .values(why="rephrased", suggested=said.predicted)
        )


# --- review and export ------------------------------------------------------------------


class ReviewError(ValueError):
    """A review the loop cannot take (an unknown label, a group already reviewed)."""


@dataclass(frozen=True)
class Group:
    """Near-duplicate candidates, reviewed together."""

    id: int  # the group's first candidate: what the desk names it by
    normalized: str
    text: str  # the first candidate's words
    count: int
    why: dict[str, int]
    suggested: str | None  # the most frequent suggestion
    language: str | None
    first_at: float
    last_at: float
    status: str
    label: str | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return dict(self.__dict__)


def labels(domain: Path = ROOT / "domain.yml") -> list[str]:
    """What a designer may label a group with: the domain's intents and FAQ keys."""
    data = yaml.safe_load(domain.read_text()) or {}
    intents = {
        next(iter(item)) if isinstance(item, dict) else str(item)
        for item in data.get("intents") or []
    }
    faqs = {
        name.removeprefix("utter_")
        for name in data.get("responses") or {}
        if name.startswith("utter_faq/")
    }
    return sorted((intents - NOT_LABELS - {"faq"}) | faqs)


class Candidates:
    """Reads, reviews and exports the candidates (the desk and `hilo nlu candidates`)."""

    def __init__(self, engine: Engine, clock: Any = time.time) -> None:
        """Uses the handoff database."""
        self._engine = engine
        self._reader = reader(engine)
        self._clock = clock

    def groups(self, status: str = "new", limit: int = 200) -> list[Group]:
        """Groups of candidates in `status`, the largest first."""
        table = nlu_candidates
        with self._reader.connect() as connection:
            keys = connection.execute(
                sa.select(table.c.normalized, sa.func.count().label("n"))
                .where(table.c.status == status)
                .group_by(table.c.normalized)
                .order_by(sa.func.count().desc(), table.c.normalized)
                .limit(limit)
            ).all()
            found = []
            for key in keys:
                rows = connection.execute(
                    sa.select(table)
                    .where(table.c.status == status, table.c.normalized == key.normalized)
                    .order_by(table.c.id)
                ).all()
                suggestions = Counter(row.suggested for row in rows if row.suggested)
                found.append(
                    Group(
                        id=int(rows[0].id),
                        normalized=key.normalized,
                        text=rows[0].text,
                        count=len(rows),
                        why=dict(Counter(row.why for row in rows)),
                        suggested=suggestions.most_common(1)[0][0] if suggestions else None,
                        language=rows[0].language,
                        first_at=min(float(row.at) for row in rows),
                        last_at=max(float(row.at) for row in rows),
                        status=status,
                        label=rows[0].label,
                    )
                )
        return found

    def review(self, candidate_id: int, reviewer_id: int, label: str | None) -> int:
        """Accepts (`label`) or rejects (None) the group of `candidate_id`; how many.

        The whole group's new candidates take the decision. `ReviewError` for a label that is
        not the domain's or a group already reviewed; `LookupError` for no such candidate.
        """
        if label is not None and label not in labels():
            raise ReviewError(f"{label!r} is not an intent or FAQ key of the domain")
        table = nlu_candidates
        with self._engine.begin() as connection:
            row = connection.execute(
                sa.select(table.c.normalized, table.c.status).where(table.c.id == candidate_id)
            ).first()
            if row is None:
                raise LookupError(f"no candidate {candidate_id}")
            if row.status != "new":
                raise ReviewError("this group was already reviewed")
            return int(
                connection.execute(
                    table.update()
                    .where(table.c.normalized == row.normalized, table.c.status == "new")
                    .values(
                        status="accepted" if label else "rejected",
                        label=label,
                        reviewed_by=reviewer_id,
                        reviewed_at=self._clock(),
                    )
                ).rowcount
            )

    def export(self, path: Path, data: Path = ROOT / "data" / "nlu") -> dict[str, int]:
        """Writes the accepted groups as Rasa training data; what was written and left out."""
        known = _known_examples(data)
        by_label: dict[str, list[str]] = {}
        counts = {"examples": 0, "personal": 0, "already_known": 0}
        for group in self.groups("accepted", limit=100_000):
            if group.label is None:
                continue
            if _PERSONAL.search(group.text):
                counts["personal"] += 1
                continue
            if group.normalized in known:
                counts["already_known"] += 1
                continue
            known.add(group.normalized)
            by_label.setdefault(group.label, []).append(_one_line(group.text))
            counts["examples"] += 1
        nlu = [
            {"intent": label, "examples": "".join(f"- {text}\n" for text in texts)}
            for label, texts in sorted(by_label.items())
        ]
        path.parent.mkdir(parents=True, exist_ok=True)
        header = (
            "# Reviewed by conversation designers in the desk; written by\n"
            "# `hilo nlu candidates --export` (handoff/nlu_candidates.py).\n"
        )
        body = yaml.dump(
            {"version": "3.1", "nlu": nlu},
            Dumper=_LiteralDumper,
            allow_unicode=True,
            sort_keys=False,
        )
        path.write_text(header + body)
        return counts


def _one_line(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def _known_examples(data: Path) -> set[str]:
    """The normalized examples already in the training data (an export never repeats one)."""
    known: set[str] = set()
    for file in sorted(data.rglob("*.yml")):
        document = yaml.safe_load(file.read_text()) or {}
        for item in document.get("nlu") or []:
            for line in str(item.get("examples") or "").splitlines():
                example = line.strip().removeprefix("- ")
                if example:
                    known.add(normalize(_ANNOTATION.sub(r"\1", example)))
    return known


class _LiteralDumper(yaml.SafeDumper):
    """Writes the examples block as `examples: |`, the way Rasa's own files are written."""


def _literal(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_LiteralDumper.add_representer(str, _literal)
