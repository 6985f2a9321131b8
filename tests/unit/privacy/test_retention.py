"""Retention on a clock: exactly what is past its period goes, on SQLite and PostgreSQL.

One deployment's stores (channels, handoff, store, Rasa's trackers, media) are seeded with
conversations, cases, files and counters of known ages around a fixed moment `NOW`; the run
is given that moment (nothing waits). A dry run must change nothing at all (every row of
every table and every file compared), and count what the real run then removes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from actions.commerce import database as commerce_database
from actions.commerce.models import LookupAttempt, OneTimeCode, VerificationFailure
from connectors import storage as channels_storage
from connectors.media_store import LocalMediaStore
from handoff import database as handoff_database
from handoff.facts import Facts, conversation_ref
from handoff.models import (
    agents,
    case_events,
    cases,
    contacts,
    facts,
    login_throttle,
    notes,
    ownership,
    privacy_audit,
    sessions,
)
from handoff.personal_data import ERASED_PREFIX
from hilo.database import make_engine
from privacy import retention
from privacy.retention import (
    ConfigError,
    Period,
    Periods,
    Report,
    exclusive,
    load_periods,
    retain,
    retain_now,
)
from privacy.stores import Stores
from privacy.trackers import events
from privacy.trackers import metadata as tracker_metadata
from tests.conftest import ROOT
from tests.support.databases import BACKENDS, postgres_schema
from tests.support.imports import heavy_modules_loaded

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc).timestamp()
DAY = 86400.0
STORES = ("channels", "handoff", "commerce", "trackers")

# Conversations, by what they are (ids look like the real ones: phones and chat ids).
OLD = "whatsapp:+5215500000001"  # everything 400 days old: goes, with its profile
RECENT = "telegram:2000000002"  # last contact 330 days ago: stays
TRACKER_RECENT = "whatsapp:+5215500000003"  # channels old, tracker 10 days: stays
TRACKER_ONLY = "rest:tracker-only-4"  # only tracker events, 400 days: go
PEOPLE = "whatsapp:+5215500000005"  # 3 years old, people own it (closed case): all stays
OPEN_CASE = "whatsapp:+5215500000006"  # 3 years old, a queued case: all stays
SHARED_OLD = "whatsapp:+5215500000007"  # old; its profile also has SHARED_NEW: profile stays
SHARED_NEW = "telegram:7000000007"
CASE_NAMED = "whatsapp:+5215500000009"  # old; a recent case names its profile: profile stays
EXPIRED_CASE = "whatsapp:+5215500000010"  # 800 days: conversation and case both expire
PENDING = "whatsapp:+5215500000011"  # 400 days old but a message is still pending: stays
TWO_CASES = "whatsapp:+5215500000012"  # an 800-day case goes, a 700-day one stays
SECRET = "Ana Ruiz, Calle Falsa 123"  # something customers wrote, searched in outputs


@dataclass
class World:
    stores: Stores
    engines: dict[str, Engine]
    media: LocalMediaStore
    ids: dict[str, Any]


def _ago(days: float, now: float = NOW) -> float:
    return now - days * DAY


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            urls = {name: f"sqlite:///{tmp_path / f'{name}.db'}" for name in STORES}
        else:  # one PostgreSQL for everything, as DATABASE_URL alone makes it
            url = stack.enter_context(postgres_schema("hilo_retention_test"))
            urls = dict.fromkeys(STORES, url)
        channels_storage.migrate(urls["channels"])
        handoff_database.migrate(urls["handoff"])
        commerce_database.migrate(urls["commerce"])
        engines = {name: make_engine(url) for name, url in urls.items()}
        tracker_metadata.create_all(engines["trackers"])
        media = LocalMediaStore(tmp_path / "media")
        media.directory.mkdir()
        stores = Stores(
            channels=urls["channels"],
            handoff=urls["handoff"],
            commerce=urls["commerce"],
            trackers=urls["trackers"],
            media=media.directory,
        )
        yield World(stores, engines, media, {})
        for engine in engines.values():
            engine.dispose()


def defaults() -> Periods:
    return load_periods(retention.DEFAULT_FILE)


# --- seeding ------------------------------------------------------------------------------


def _photo(world: World, days: float, now: float) -> str:
    stored = world.media.put(b"\xff\xd8\xff\xe0 a photo", "jpg")
    path = world.media.directory / stored.name
    os.utime(path, (_ago(days, now), _ago(days, now)))
    return stored.name


def _conversation(
    world: World,
    conversation: str,
    days: float,
    now: float,
    *,
    profile: int | None = None,
    media: str | None = None,
    status: str = "done",
    sent: bool = True,
) -> int:
    """A conversation whose every message is `days` old; its profile id."""
    at = _ago(days, now)
    channel = conversation.split(":")[0]
    phone = conversation.split(":")[-1] if "+" in conversation else None
    body = {"text": f"hola, soy {SECRET}", "phone": phone}
    if media:
        body["media"] = [{"stored_name": media, "stored_url": f"http://h/files/{media}"}]
    with world.engines["channels"].begin() as connection:
        if profile is None:
            profile = int(
                connection.execute(
                    channels_storage.profiles.insert().values(
                        phone=phone, display_name=SECRET, created_at=at
                    )
                ).inserted_primary_key[0]
            )
        connection.execute(
            channels_storage.conversations.insert().values(
                conversation_id=conversation,
                channel=channel,
                profile_id=profile,
                display_name=SECRET,
                phone=phone,
                first_seen_at=at - DAY,
                last_inbound_at=at,
            )
        )
        for n in range(2):
            connection.execute(
                channels_storage.inbound.insert().values(
                    channel=channel,
                    provider_id=f"{conversation}-{n}",
                    conversation_id=conversation,
                    sent_at=at - n,
                    received_at=at - n,
                    body=json.dumps(body),
                    status=status if n == 0 else "done",
                    attempts=0,
                )
            )
        if sent:
            connection.execute(
                channels_storage.outbound.insert().values(
                    channel=channel,
                    conversation_id=conversation,
                    source="bot",
                    kind="text",
                    body=json.dumps({"text": f"Hola {SECRET}"}),
                    status="delivered",
                    created_at=at,
                    updated_at=at,
                )
            )
    return profile


def _tracker(world: World, conversation: str, days: float, now: float, count: int = 3) -> None:
    with world.engines["trackers"].begin() as connection:
        for n in range(count):
            connection.execute(
                events.insert().values(
                    sender_id=conversation,
                    type_name="user",
                    timestamp=_ago(days, now) + n,
                    data=json.dumps({"text": SECRET}),
                )
            )


def _case(
    world: World,
    conversation: str,
    status: str,
    days: float,
    now: float,
    *,
    profile: int | None = None,
    media: str | None = None,
    owner: str | None = None,
    agent: int | None = None,
) -> int:
    at = _ago(days, now)
    files = [{"url": f"http://h/files/{media}", "content_type": "image/jpeg"}] if media else []
    with world.engines["handoff"].begin() as connection:
        case_id = int(
            connection.execute(
                cases.insert().values(
                    conversation_id=conversation,
                    channel=conversation.split(":")[0],
                    profile_id=profile,
                    customer_name=SECRET,
                    status=status,
                    reason="customer_asked",
                    priority="normal",
                    language="es",
                    created_at=at,
                    sla_due_at=at + 3600,
                    urgent_at=at + 3600,
                    collected=json.dumps({"customer_name": SECRET}),
                    media=json.dumps(files),
                    summary=f"{SECRET} wants a refund",
                    updated_at=at,
                )
            ).inserted_primary_key[0]
        )
        connection.execute(
            case_events.insert().values(
                case_id=case_id, at=at, actor="bot", action="opened", detail='{"reason": "x"}'
            )
        )
        if agent is not None:
            connection.execute(
                notes.insert().values(case_id=case_id, agent_id=agent, text=SECRET, at=at)
            )
        if owner is not None:
            connection.execute(
                ownership.delete().where(ownership.c.conversation_id == conversation)
            )
            connection.execute(
                ownership.insert().values(
                    conversation_id=conversation,
                    owner=owner,
                    case_id=case_id,
                    changed_at=at,
                    applied_at=at,
                )
            )
    return case_id


def seed(world: World, now: float = NOW) -> dict[str, Any]:
    """The scenario of the module docstring; what the assertions need to name."""
    ids: dict[str, Any] = {}
    with world.engines["handoff"].begin() as connection:
        agent = int(
            connection.execute(
                agents.insert().values(
                    username="ana",
                    display_name="Ana",
                    password_hash="x",
                    role="agent",
                    capacity=5,
                    available=True,
                    active=True,
                    created_at=_ago(900, now),
                )
            ).inserted_primary_key[0]
        )
        for token, created, expires in (
            ("old-ended", _ago(40, now), _ago(40, now) + 3600),
            ("today", _ago(0.1, now), now + 3600),
            ("old-but-alive", _ago(40, now), now + 3600),
        ):
            connection.execute(
                sessions.insert().values(
                    token_hash=token,
                    agent_id=agent,
                    csrf_token="c",
                    created_at=created,
                    expires_at=expires,
                )
            )
        for key, updated in (("user:old", _ago(40, now)), ("user:new", _ago(1, now))):
            connection.execute(
                login_throttle.insert().values(
                    key=key, attempts=3, next_allowed_at=updated + 60, updated_at=updated
                )
            )
    ids["old_photo"] = _photo(world, 400, now)
    ids["people_photo"] = _photo(world, 1000, now)
    ids["case_photo"] = _photo(world, 1000, now)
    ids["new_photo"] = _photo(world, 10, now)
    ids["old_invoice"] = world.media.put(b"%PDF-1.7 invoice", "pdf").name
    os.utime(world.media.directory / ids["old_invoice"], (_ago(100, now), _ago(100, now)))
    partial = world.media.directory / f".{ids['new_photo'][:-4]}x.jpg.part"
    partial.write_bytes(b"half")
    os.utime(partial, (_ago(100, now), _ago(100, now)))
    (world.media.directory / "README.txt").write_text("not a stored file")
    os.utime(world.media.directory / "README.txt", (_ago(900, now), _ago(900, now)))

    ids["profiles"] = {}
    ids["profiles"][OLD] = _conversation(world, OLD, 400, now, media=ids["old_photo"])
    _tracker(world, OLD, 400, now)
    ids["profiles"][RECENT] = _conversation(world, RECENT, 330, now)
    # The reports' record of a conversation that goes and of one that stays.
    for conversation, days in ((OLD, 400), (RECENT, 330)):
        said = {
            "event": "user",
            "timestamp": _ago(days, now),
            "text": "algo que el bot no entendio",
            "input_channel": "whatsapp",
            "parse_data": {"intent": {"name": "nlu_fallback", "confidence": 0.1}},
        }
        Facts(world.engines["handoff"]).record_events(conversation, [said])
    _tracker(world, RECENT, 330, now)
    ids["profiles"][TRACKER_RECENT] = _conversation(world, TRACKER_RECENT, 400, now)
    _tracker(world, TRACKER_RECENT, 10, now)
    _tracker(world, TRACKER_ONLY, 400, now)
    ids["profiles"][PEOPLE] = _conversation(world, PEOPLE, 1100, now, media=ids["people_photo"])
    _tracker(world, PEOPLE, 1100, now)
    ids["people_case"] = _case(world, PEOPLE, "closed", 1100, now, owner="people", agent=agent)
    ids["profiles"][OPEN_CASE] = _conversation(world, OPEN_CASE, 1100, now)
    ids["open_case"] = _case(world, OPEN_CASE, "queued", 1100, now, media=ids["case_photo"])
    shared = _conversation(world, SHARED_OLD, 400, now)
    ids["profiles"][SHARED_OLD] = _conversation(world, SHARED_NEW, 10, now, profile=shared)
    ids["profiles"][CASE_NAMED] = _conversation(world, CASE_NAMED, 400, now)
    ids["named_case"] = _case(
        world, CASE_NAMED, "bot", 300, now, profile=ids["profiles"][CASE_NAMED], owner="bot"
    )
    ids["profiles"][EXPIRED_CASE] = _conversation(world, EXPIRED_CASE, 800, now)
    ids["expired_case"] = _case(
        world,
        EXPIRED_CASE,
        "bot",
        800,
        now,
        profile=ids["profiles"][EXPIRED_CASE],
        owner="bot",
        agent=agent,
    )
    ids["profiles"][PENDING] = _conversation(world, PENDING, 400, now, status="pending")
    ids["old_of_two"] = _case(world, TWO_CASES, "bot", 800, now)
    ids["new_of_two"] = _case(world, TWO_CASES, "resolved", 700, now)
    # The hand-back of the newer one was applied: the bot owns it (no 'people' record).
    with world.engines["handoff"].begin() as connection:
        connection.execute(
            ownership.insert().values(
                conversation_id=TWO_CASES,
                owner="bot",
                case_id=ids["new_of_two"],
                changed_at=_ago(700, now),
                applied_at=_ago(700, now),
            )
        )

    def at(days: float) -> datetime:
        return datetime.fromtimestamp(now, timezone.utc) - timedelta(days=days)

    with world.engines["commerce"].begin() as connection:
        for days in (31, 29):
            connection.execute(
                LookupAttempt.__table__.insert().values(sender="d" * 64, at=at(days))
            )
        for days in (40, 1):
            connection.execute(
                VerificationFailure.__table__.insert().values(
                    order_number="10001", source="s" * 32, at=at(days)
                )
            )
        for days in (31, -0.01):  # expired a month ago; still valid
            connection.execute(
                OneTimeCode.__table__.insert().values(
                    order_number="10001",
                    source="s" * 32,
                    digest="0" * 64,
                    expires_at=at(days),
                    attempts=0,
                    used=False,
                )
            )
    world.ids = ids
    return ids


# --- reading back -------------------------------------------------------------------------


def rows(world: World, store: str, query: Any) -> list[Any]:
    with world.engines[store].connect() as connection:
        return list(connection.execute(query).all())


def snapshot(world: World) -> dict[Any, Any]:
    """Every row of every table of every store, and every file with its size and time."""
    found: dict[Any, Any] = {}
    for store, engine in world.engines.items():
        with engine.connect() as connection:
            for table in sorted(sa.inspect(connection).get_table_names()):
                whole = sa.table(table)  # a name the database itself listed
                result = connection.execute(sa.select(sa.text("*")).select_from(whole)).all()
                found[store, table] = sorted(repr(tuple(row)) for row in result)
    found["media"] = sorted(
        (path.name, path.stat().st_size, path.stat().st_mtime)
        for path in world.media.directory.iterdir()
    )
    return found


def conversations_left(world: World) -> set[str]:
    return {
        row[0]
        for row in rows(
            world, "channels", sa.select(channels_storage.conversations.c.conversation_id)
        )
    }


# --- what goes and what stays -------------------------------------------------------------


def test_retention_removes_exactly_what_is_past_its_period(world: World) -> None:
    ids = seed(world)
    report = retain(world.stores, defaults(), now=NOW)

    assert conversations_left(world) == {
        RECENT,
        TRACKER_RECENT,
        PEOPLE,
        OPEN_CASE,
        SHARED_NEW,
        PENDING,
    }
    inbox = {
        row[0]
        for row in rows(world, "channels", sa.select(channels_storage.inbound.c.conversation_id))
    }
    assert inbox == conversations_left(world)
    sent = {
        row[0]
        for row in rows(world, "channels", sa.select(channels_storage.outbound.c.conversation_id))
    }
    assert sent == conversations_left(world)
    profiles = {
        row[0] for row in rows(world, "channels", sa.select(channels_storage.profiles.c.id))
    }
    gone = {OLD, EXPIRED_CASE}  # SHARED_OLD's profile is SHARED_NEW's; CASE_NAMED's is named
    assert profiles == {p for c, p in ids["profiles"].items() if c not in gone}
    trackers = {row[0] for row in rows(world, "trackers", sa.select(events.c.sender_id))}
    assert trackers == {RECENT, TRACKER_RECENT, PEOPLE}

    remaining = {
        row.id: row for row in rows(world, "handoff", sa.select(cases).order_by(cases.c.id))
    }
    assert set(remaining) == {
        ids["people_case"],
        ids["open_case"],
        ids["named_case"],
        ids["expired_case"],
        ids["old_of_two"],
        ids["new_of_two"],
    }
    for case_id in (ids["expired_case"], ids["old_of_two"]):  # anonymised, kept for statistics
        case = remaining[case_id]
        assert case.conversation_id.startswith(ERASED_PREFIX)
        assert (case.customer_name, case.profile_id, case.summary, case.outcome) == (
            None,
            None,
            "",
            None,
        )
        assert (case.collected, case.media, case.corrections) == ("{}", "[]", "{}")
        assert (case.status, case.reason) == ("bot", "customer_asked")
        assert case.updated_at == _ago(800)  # not made the newest change of every desk feed
    for case_id in (ids["people_case"], ids["open_case"], ids["named_case"], ids["new_of_two"]):
        assert SECRET in remaining[case_id].customer_name
    expired = (ids["expired_case"], ids["old_of_two"])
    assert not rows(world, "handoff", sa.select(notes).where(notes.c.case_id.in_(expired)))
    assert rows(world, "handoff", sa.select(notes).where(notes.c.case_id == ids["people_case"]))
    audit = rows(world, "handoff", sa.select(case_events).where(case_events.c.case_id.in_(expired)))
    assert {(row.action, row.detail) for row in audit} == {("opened", "{}"), ("anonymised", "{}")}
    owners = {
        row.conversation_id: row.case_id for row in rows(world, "handoff", sa.select(ownership))
    }
    assert owners == {
        PEOPLE: ids["people_case"],
        CASE_NAMED: ids["named_case"],
        TWO_CASES: ids["new_of_two"],
    }

    files = {path.name for path in world.media.directory.iterdir()}
    assert files == {ids["people_photo"], ids["case_photo"], ids["new_photo"], "README.txt"}

    with world.engines["commerce"].connect() as connection:
        left = {
            name: connection.execute(
                sa.select(sa.func.count()).select_from(model.__table__)
            ).scalar()
            for name, model in (
                ("lookups", LookupAttempt),
                ("failures", VerificationFailure),
                ("codes", OneTimeCode),
            )
        }
    assert left == {"lookups": 1, "failures": 1, "codes": 1}
    assert {row.token_hash for row in rows(world, "handoff", sa.select(sessions))} == {
        "today",
        "old-but-alive",
    }
    assert {row.key for row in rows(world, "handoff", sa.select(login_throttle))} == {"user:new"}
    # Still counted, no longer linked: the gone conversation's facts and contact lose the
    # keyed pseudonym; the kept one's keep it.
    refs = {row.conversation_ref for row in rows(world, "handoff", sa.select(facts))}
    assert len(refs) == 2
    assert conversation_ref(RECENT) in refs
    assert conversation_ref(OLD) not in refs
    contact_refs = {row.conversation_ref for row in rows(world, "handoff", sa.select(contacts))}
    assert contact_refs == refs

    assert report.removed == {
        "handoff": {
            "facts": 1,
            "contacts": 1,
            "nlu_candidates": 1,
            "cases_anonymised": 2,
            "notes": 1,
            "case_events_blanked": 2,
            "ownership_records": 1,
            "sessions": 1,
            "login_attempts": 1,
        },
        "trackers": {"events": 6, "conversations": 2},
        "channels": {
            "inbound_messages": 8,
            "outbound_messages": 4,
            "conversations": 4,
            "profiles": 2,
        },
        "media": {"files": 3, "bytes": report.removed["media"]["bytes"]},
        "commerce": {"lookup_attempts": 1, "verification_failures": 1, "one_time_codes": 1},
    }
    assert report.kept_conversations == 2  # PEOPLE and OPEN_CASE (PENDING is not quiet)
    assert not report.missing
    (record,) = rows(world, "handoff", sa.select(privacy_audit))
    assert (record.action, record.actor, record.subject_ref, record.at) == (
        "retain",
        "retention",
        "-",
        NOW,
    )
    assert json.loads(record.counts) == report.removed
    assert "media 90 days" in record.reason


def test_a_second_run_finds_nothing_left(world: World) -> None:
    seed(world)
    retain(world.stores, defaults(), now=NOW)
    before = snapshot(world)
    again = retain(world.stores, defaults(), now=NOW)
    assert again.total() == 0
    assert snapshot(world) == before


def test_a_dry_run_changes_nothing_and_counts_what_the_run_removes(world: World) -> None:
    seed(world)
    before = snapshot(world)
    dry = retain(world.stores, defaults(), now=NOW, dry_run=True)
    assert snapshot(world) == before
    assert dry.total() > 0
    real = retain(world.stores, defaults(), now=NOW)
    assert dry.removed == real.removed
    assert dry.kept_conversations == real.kept_conversations
    assert snapshot(world) != before


def test_a_conversation_goes_whole_or_not_at_all(world: World) -> None:
    """One recent message keeps every older one (no message by message)."""
    seed(world)
    with world.engines["channels"].begin() as connection:
        connection.execute(
            channels_storage.outbound.insert().values(
                channel="whatsapp",
                conversation_id=OLD,
                source="agent",
                kind="text",
                body="{}",
                status="sent",
                created_at=_ago(1),
                updated_at=_ago(1),
            )
        )
    retain(world.stores, defaults(), now=NOW)
    assert OLD in conversations_left(world)
    assert (
        len(
            rows(
                world,
                "channels",
                sa.select(channels_storage.inbound).where(
                    channels_storage.inbound.c.conversation_id == OLD
                ),
            )
        )
        == 2
    )
    assert {row[0] for row in rows(world, "trackers", sa.select(events.c.sender_id))} >= {OLD}


def test_never_keeps_a_kind_forever(world: World) -> None:
    ids = seed(world)
    periods = replace(defaults(), media=None, conversations=None)
    report = retain(world.stores, periods, now=NOW)
    assert ids["old_photo"] in {path.name for path in world.media.directory.iterdir()}
    assert OLD in conversations_left(world)
    assert "media" not in report.removed
    assert report.removed["handoff"]["cases_anonymised"] == 2


def test_a_deployment_without_some_stores_runs_on_the_others(tmp_path: Path) -> None:
    handoff_url = f"sqlite:///{tmp_path / 'handoff.db'}"
    handoff_database.migrate(handoff_url)
    stores = Stores(
        channels=f"sqlite:///{tmp_path / 'none.db'}",
        handoff=handoff_url,
        commerce=None,
        trackers=f"sqlite:///{tmp_path / 'tracker.db'}",
        media=tmp_path / "no-media",
    )
    report = retain(stores, defaults(), now=NOW, dry_run=True)
    assert set(report.missing) == {"channels", "commerce", "trackers", "media"}
    assert not (tmp_path / "none.db").exists()
    assert not (tmp_path / "tracker.db").exists()  # nothing is created by looking
    assert "not found" in "\n".join(report.lines())


# --- the periods --------------------------------------------------------------------------


def test_the_defaults_are_the_issues() -> None:
    assert load_periods(retention.DEFAULT_FILE) == Periods(
        conversations=Period(12, "months"),
        media=Period(90, "days"),
        closed_cases=Period(24, "months"),
        lookup_attempts=Period(30, "days"),
        desk_sessions=Period(30, "days"),
    )


def test_the_file_comes_from_the_environment_and_may_change_one_kind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    custom = tmp_path / "retention.yml"
    custom.write_text("media: 2 weeks\nclosed_cases: never\n")
    monkeypatch.setenv("HILO_RETENTION_FILE", str(custom))
    periods = load_periods()
    assert periods.media == Period(2, "weeks")
    assert periods.closed_cases is None
    assert periods.conversations == Period(12, "months")


@pytest.mark.parametrize(
    "text",
    [
        "media: 90 dais",
        "media: 0 days",
        "media: -3 months",
        "media: 90",
        "media: ninety days",
        "media: 200 years",
        "media: [90, days]",
        "media:",
    ],
)
def test_a_bad_period_is_refused_with_the_file_the_kind_and_an_example(
    tmp_path: Path, text: str
) -> None:
    custom = tmp_path / "mine.yml"
    custom.write_text(text + "\n")
    with pytest.raises(ConfigError) as error:
        load_periods(custom)
    message = str(error.value)
    assert str(custom) in message
    assert "media:" in message
    assert "not a period" in message
    assert "'90 days'" in message


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("medias: 90 days\n", "unknown kind(s) medias"),
        ("- media\n", "expected 'kind: period' lines"),
        ("media: [\n", "not valid YAML"),
    ],
)
def test_a_bad_file_is_refused_clearly(tmp_path: Path, text: str, says: str) -> None:
    custom = tmp_path / "mine.yml"
    custom.write_text(text)
    with pytest.raises(ConfigError, match=r".*") as error:
        load_periods(custom)
    assert says in str(error.value)
    assert str(custom) in str(error.value)


def test_a_missing_file_is_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot be read"):
        load_periods(tmp_path / "nowhere.yml")


def _utc(*parts: int) -> float:
    return datetime(*parts, tzinfo=timezone.utc).timestamp()


@pytest.mark.parametrize(
    ("period", "now", "before"),
    [
        (Period(12, "months"), _utc(2026, 3, 31, 10), _utc(2025, 3, 31, 10)),
        (Period(1, "months"), _utc(2026, 3, 31, 10), _utc(2026, 2, 28, 10)),
        (Period(1, "years"), _utc(2024, 2, 29), _utc(2023, 2, 28)),
        (Period(24, "months"), _utc(2026, 1, 15), _utc(2024, 1, 15)),
        (Period(90, "days"), _utc(2026, 6, 1), _utc(2026, 6, 1) - 90 * DAY),
        (Period(2, "weeks"), _utc(2026, 6, 1), _utc(2026, 6, 1) - 14 * DAY),
    ],
)
def test_periods_count_calendar_months(period: Period, now: float, before: float) -> None:
    assert period.before(now) == before


# --- one run at a time, by hand and on a schedule -----------------------------------------


def test_only_one_process_runs_it_at_a_time_on_postgresql(world: World) -> None:
    if not world.stores.handoff or world.stores.handoff.startswith("sqlite"):
        with exclusive(world.stores) as alone, exclusive(world.stores) as again:
            assert alone  # SQLite: one machine, one desk
            assert again
        return
    seed(world)
    before = snapshot(world)
    with exclusive(world.stores) as alone:
        assert alone
        with exclusive(world.stores) as second:
            assert not second
        assert retain_now(stores=world.stores, periods=defaults(), now=NOW) is None
        assert snapshot(world) == before
    report = retain_now(stores=world.stores, periods=defaults(), now=NOW)
    assert report is not None
    assert report.total() > 0


def _environment(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHANNELS_DATABASE_URL", world.stores.channels or "")
    monkeypatch.setenv("HANDOFF_DATABASE_URL", world.stores.handoff or "")
    monkeypatch.setenv("DATABASE_URL", world.stores.commerce or "")
    monkeypatch.setenv("TRACKER_DATABASE_URL", world.stores.trackers or "")
    monkeypatch.setenv("HILO_MEDIA_DIR", str(world.stores.media))
    monkeypatch.delenv("HILO_RETENTION_FILE", raising=False)


def test_the_command_prints_counts_per_store_and_no_personal_data(
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    seed(world, now=time.time())
    _environment(world, monkeypatch)
    before = snapshot(world)
    caplog.set_level(logging.INFO, logger="privacy.retention")
    assert retention.run(argparse.Namespace(dry_run=True)) == 0
    printed = capsys.readouterr().out
    assert snapshot(world) == before
    assert "--dry-run" in printed
    assert "nothing changed" in printed
    assert "channels:" in printed
    assert "4 conversations" in printed
    assert retention.run(argparse.Namespace(dry_run=False)) == 0
    printed += capsys.readouterr().out
    assert snapshot(world) != before
    logged = caplog.text
    assert "privacy.retention.done" in logged
    for secret in (SECRET, "+52155", "5215500000001", "2000000002", "tracker-only"):
        assert secret not in printed
        assert secret not in logged


def test_the_command_says_what_is_wrong_with_the_file(
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    _environment(world, monkeypatch)
    bad = tmp_path / "bad.yml"
    bad.write_text("media: 3 moons\n")
    monkeypatch.setenv("HILO_RETENTION_FILE", str(bad))
    assert retention.run(argparse.Namespace(dry_run=True)) == 2
    assert "media: '3 moons' is not a period" in capsys.readouterr().err


def test_python_m_runs_the_command(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    _environment(world, monkeypatch)
    done = subprocess.run(
        [sys.executable, "-m", "privacy.retention", "--dry-run"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "would remove, nothing changed" in done.stdout


def test_the_interval_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HILO_RETENTION_INTERVAL_HOURS", raising=False)
    assert retention.interval_seconds() == 24 * 3600
    monkeypatch.setenv("HILO_RETENTION_INTERVAL_HOURS", "0.5")
    assert retention.interval_seconds() == 1800
    monkeypatch.setenv("HILO_RETENTION_INTERVAL_HOURS", "0")
    assert retention.interval_seconds() is None
    for bad in ("daily", "-1", "nan"):
        monkeypatch.setenv("HILO_RETENTION_INTERVAL_HOURS", bad)
        with pytest.raises(ConfigError, match="HILO_RETENTION_INTERVAL_HOURS"):
            retention.interval_seconds()


async def test_the_schedule_runs_again_after_a_failure(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []

    def once() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the database is down, with a phone +5215512345678")

    task = asyncio.create_task(retention.run_periodically(once, first_delay=0, every=0.01))
    for _ in range(200):
        if len(calls) >= 3:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert len(calls) >= 3
    assert "privacy.retention.failed error=RuntimeError" in caplog.text
    assert "+5215512345678" not in caplog.text


async def test_the_desk_job_runs_on_its_schedule_and_stops_with_the_desk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runs: list[float] = []
    monkeypatch.setenv("HILO_RETENTION_INTERVAL_HOURS", "24")
    monkeypatch.delenv("HILO_RETENTION_FILE", raising=False)
    monkeypatch.setattr(retention, "FIRST_RUN_DELAY_SECONDS", 0.0)
    monkeypatch.setattr(retention, "scheduled_run", lambda: runs.append(1.0))
    job = retention.retention_job(object())
    await job.__anext__()  # the desk starts
    for _ in range(100):
        if runs:
            break
        await asyncio.sleep(0.01)
    assert runs == [1.0]  # the first run; the next is a day later
    with pytest.raises(StopAsyncIteration):
        await job.__anext__()  # the desk stops: the job with it


async def test_a_bad_file_stops_the_desk_at_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("media: soon\n")
    monkeypatch.setenv("HILO_RETENTION_FILE", str(bad))
    monkeypatch.setenv("HILO_RETENTION_INTERVAL_HOURS", "24")
    with pytest.raises(ConfigError, match="soon"):
        await retention.retention_job(object()).__anext__()


async def test_the_job_is_off_at_zero_hours(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HILO_RETENTION_INTERVAL_HOURS", "0")
    monkeypatch.setattr(retention, "scheduled_run", lambda: pytest.fail("it ran"))
    job = retention.retention_job(object())
    await job.__anext__()
    with pytest.raises(StopAsyncIteration):
        await job.__anext__()


def test_the_desk_runs_the_job_and_loads_no_rasa_for_it() -> None:
    """`hilo desk` appends the job; importing it loads neither Rasa nor a channel's library."""
    source = (ROOT / "handoff" / "cli.py").read_text()
    assert "app.cleanup_ctx.append(retention_job)" in source
    assert heavy_modules_loaded("privacy.retention", "handoff.cli") == []


def test_the_report_reads_as_counts() -> None:
    report = Report(dry_run=False, now=NOW, periods=defaults())
    report.add("channels", {"conversations": 3, "profiles": 1})
    report.add("channels", {"conversations": 2})
    report.add("media", {"files": 2, "bytes": 3_500_000})
    assert report.total() == 8
    assert report.summary().startswith("channels.conversations=5 channels.profiles=1")
    text = "\n".join(report.lines())
    assert "5 conversations, 1 profiles" in text
    assert "2 files, 3.5 MB" in text
    assert "conversations 12 months" in text


def test_hilo_privacy_retain_is_the_command(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from handoff.cli import main

    seed(world, now=time.time())
    _environment(world, monkeypatch)
    before = snapshot(world)
    assert main(["privacy", "retain", "--dry-run"]) == 0
    assert "would remove, nothing changed" in capsys.readouterr().out
    assert snapshot(world) == before
    assert main(["privacy", "retain"]) == 0
    assert "removed" in capsys.readouterr().out
    (record,) = rows(world, "handoff", sa.select(privacy_audit))
    assert record.actor.startswith("cli")
