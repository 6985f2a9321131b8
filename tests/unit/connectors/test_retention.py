"""The channels' side of retention: quiet conversations, whole removals, checks made again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from connectors import retention
from connectors.storage import conversations, inbound, make_engine, outbound, profiles
from tests.support.databases import BACKENDS, database

NOW = 1_800_000_000.0
DAY = 86400.0
BEFORE = NOW - 365 * DAY


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with database(request.param, tmp_path, "channels") as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


def add(
    engine: Engine,
    conversation: str,
    *,
    received: float | None = None,
    sent_updated: float | None = None,
    seen: float = NOW - 900 * DAY,
    profile: int | None = None,
    status: str = "done",
    body: str = "{}",
) -> int:
    with engine.begin() as connection:
        if profile is None:
            profile = int(
                connection.execute(
                    profiles.insert().values(phone=None, created_at=seen)
                ).inserted_primary_key[0]
            )
        connection.execute(
            conversations.insert().values(
                conversation_id=conversation,
                channel="telegram",
                profile_id=profile,
                first_seen_at=seen,
                last_inbound_at=received,
            )
        )
        if received is not None:
            connection.execute(
                inbound.insert().values(
                    channel="telegram",
                    provider_id=f"{conversation}:{received}",
                    conversation_id=conversation,
                    sent_at=received,
                    received_at=received,
                    body=body,
                    status=status,
                    attempts=0,
                )
            )
        if sent_updated is not None:
            connection.execute(
                outbound.insert().values(
                    channel="telegram",
                    conversation_id=conversation,
                    source="bot",
                    kind="text",
                    body=body,
                    status="read",
                    created_at=sent_updated - DAY,
                    updated_at=sent_updated,
                )
            )
    return profile


def test_a_conversation_is_quiet_when_every_record_of_it_is_old(engine: Engine) -> None:
    add(engine, "telegram:1", received=NOW - 400 * DAY, sent_updated=NOW - 400 * DAY)
    add(engine, "telegram:2", received=NOW - 400 * DAY, sent_updated=NOW - 2 * DAY)  # read lately
    add(engine, "telegram:3", received=NOW - 10 * DAY)
    add(engine, "telegram:4", seen=NOW - 500 * DAY)  # a record, never a message
    with engine.connect() as connection:
        assert retention.quiet_conversations(connection, BEFORE) == {"telegram:1", "telegram:4"}
        assert retention.active_among(connection, ["telegram:1", "telegram:2"], BEFORE) == {
            "telegram:2"
        }


def test_a_message_still_owed_an_answer_keeps_its_conversation(engine: Engine) -> None:
    add(engine, "telegram:1", received=NOW - 400 * DAY, status="processing")
    with engine.begin() as connection:
        assert retention.active_among(connection, ["telegram:1"], BEFORE) == {"telegram:1"}
        counts = retention.forget_conversations(connection, ["telegram:1"], BEFORE, apply=True)
    assert counts == {"inbound_messages": 0, "outbound_messages": 0, "conversations": 0}


def test_removal_checks_again_that_the_conversation_is_still_quiet(engine: Engine) -> None:
    """A customer who writes between the plan and the removal keeps every message."""
    add(engine, "telegram:1", received=NOW - 400 * DAY, sent_updated=NOW - 400 * DAY)
    add(engine, "telegram:2", received=NOW - 400 * DAY, sent_updated=NOW - 400 * DAY)
    with engine.connect() as connection:
        planned = retention.quiet_conversations(connection, BEFORE)
    with engine.begin() as connection:
        connection.execute(
            inbound.insert().values(
                channel="telegram",
                provider_id="late",
                conversation_id="telegram:2",
                sent_at=NOW,
                received_at=NOW,
                body="{}",
                status="done",
                attempts=0,
            )
        )
    with engine.begin() as connection:
        dry = retention.forget_conversations(connection, planned, BEFORE, apply=False)
    with engine.begin() as connection:
        counts = retention.forget_conversations(connection, planned, BEFORE, apply=True)
    assert counts == dry == {"inbound_messages": 1, "outbound_messages": 1, "conversations": 1}
    with engine.connect() as connection:
        left = connection.execute(sa.select(inbound.c.conversation_id)).scalars().all()
    assert sorted(left) == ["telegram:2", "telegram:2"]


def test_a_profile_goes_only_with_its_last_conversation(engine: Engine) -> None:
    shared = add(engine, "telegram:1", received=NOW - 400 * DAY)
    add(engine, "whatsapp:+5215512345678", received=NOW - 1 * DAY, profile=shared)
    alone = add(engine, "telegram:3", received=NOW - 400 * DAY)
    with engine.connect() as connection:
        found = retention.profiles_of(connection, ["telegram:1", "telegram:3"])
    assert found == {shared: {"telegram:1", "whatsapp:+5215512345678"}, alone: {"telegram:3"}}
    with engine.begin() as connection:
        retention.forget_conversations(connection, ["telegram:1", "telegram:3"], BEFORE, apply=True)
        # Even when asked to, a profile that still has a conversation stays.
        assert retention.forget_profiles(connection, [shared, alone], apply=True) == 1
    with engine.connect() as connection:
        assert connection.execute(sa.select(profiles.c.id)).scalars().all() == [shared]


def test_media_names_are_found_in_both_directions(engine: Engine) -> None:
    photo = "A" * 32 + ".jpg"
    invoice = "b-" * 16 + ".pdf"
    add(
        engine,
        "telegram:1",
        received=NOW,
        body=json.dumps({"media": [{"stored_name": photo}]}),
    )
    add(
        engine,
        "telegram:2",
        sent_updated=NOW,
        body=json.dumps({"document_url": f"https://h/webhooks/media/files/{invoice}?e=1"}),
    )
    with engine.connect() as connection:
        assert retention.media_names(connection, ["telegram:1", "telegram:2"]) == {photo, invoice}
        assert retention.media_names(connection, ["telegram:2"]) == {invoice}
