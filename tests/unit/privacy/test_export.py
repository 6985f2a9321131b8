"""Export: one archive with everything about the person (and nothing about John), audited."""

from __future__ import annotations

import io
import json
import stat
import zipfile
from pathlib import Path

from handoff.database import make_engine as handoff_engine
from privacy import audit
from privacy.export import export, export_bytes
from privacy.subject import Request
from tests.unit.privacy.conftest import (
    ANA_EMAIL,
    ANA_NAME,
    ANA_SAID,
    ANA_TELEGRAM,
    ANA_WHATSAPP,
    JOHN_NAME,
    JOHN_SAID,
    World,
)

FILES = {
    "README.txt",
    "subject.json",
    "messages.json",
    "cases.json",
    "orders.json",
    "trackers.json",
}


def archive(world: World, tmp_path: Path, **kw) -> tuple[zipfile.ZipFile, object]:
    out = tmp_path / "out" / "ana.zip"
    done = export(
        Request.of(phones=["+5215512345678"]),
        world.stores,
        out,
        actor="cli:test",
        reason="acceso",
        **kw,
    )
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # the person's data: its owner only
    assert not list(out.parent.glob(".*.part"))
    return zipfile.ZipFile(out), done


def load(zipped: zipfile.ZipFile, name: str):
    return json.loads(zipped.read(name))


def test_the_archive_holds_every_piece_and_nothing_of_john(world: World, tmp_path: Path) -> None:
    zipped, done = archive(world, tmp_path)
    names = set(zipped.namelist())
    assert names == FILES | {f"media/{name}" for name in world.ana_files}
    for name in world.ana_files:
        assert zipped.read(f"media/{name}") == (world.stores.media / name).read_bytes()

    subject = load(zipped, "subject.json")
    assert subject["requested_with"]["phones"] == ["+5215512345678"]
    assert set(subject["conversations"]) == {ANA_WHATSAPP, ANA_TELEGRAM}
    assert subject["emails"] == [ANA_EMAIL]
    (profile,) = subject["profiles"]
    assert {c["channel"] for c in profile["channels"]} == {"twilio", "telegram"}
    assert {"10001", "10004", "10005"} <= set(subject["orders"])

    messages = load(zipped, "messages.json")
    assert [m["at"] for m in messages] == sorted(m["at"] for m in messages)
    said = {(m["direction"], m["channel"], m["text"]) for m in messages}
    assert ("in", "twilio", ANA_SAID) in said
    assert ("in", "telegram", "hola, soy Ana otra vez") in said
    assert ("out", "twilio", "Hola Ana, ya revisé tu pedido") in said
    assert any(m["files"] == [world.ana_files[0]] for m in messages if m["direction"] == "in")
    assert any(m["files"] == [world.ana_files[1]] for m in messages if m["direction"] == "out")

    (case,) = load(zipped, "cases.json")
    assert case["collected"]["order_id"] == "10001"
    assert case["customer_name"] == ANA_NAME
    assert [m["text"] for m in case["agent_messages"]] == ["Hola Ana, ya revisé tu pedido"]
    assert "internal_notes" not in case  # the business's working notes: only when asked

    orders = {order["number"]: order for order in load(zipped, "orders.json")}
    assert orders["10001"]["items"][0]["quantity"] == 2
    assert orders["10001"]["email"] == ANA_EMAIL
    assert "10002" not in orders

    tracked = {t["conversation_id"]: t for t in load(zipped, "trackers.json")}
    assert tracked[ANA_WHATSAPP]["slots"] == {"contact": ANA_EMAIL, "customer_name": ANA_NAME}
    assert tracked[ANA_WHATSAPP]["messages"][0]["text"] == ANA_SAID
    assert tracked[ANA_TELEGRAM]["messages"][0]["intent"] == "order_status"

    readme = zipped.read("README.txt").decode()
    for name in FILES - {"README.txt"}:
        assert name in readme
    everything = b"".join(zipped.read(name) for name in zipped.namelist())
    for johns in (JOHN_NAME, JOHN_SAID, "+14155550123", "john@example.com"):
        assert johns.encode() not in everything

    assert done.counts["channels"]["messages"] == len(messages)
    assert done.counts["media"] == {"files": 2}
    engine = handoff_engine(world.urls["handoff"])
    (entry,) = audit.entries(engine)
    engine.dispose()
    assert (entry["action"], entry["id"], entry["counts"]) == ("export", done.audit_id, done.counts)


def test_internal_notes_only_when_asked(world: World, tmp_path: Path) -> None:
    zipped, _ = archive(world, tmp_path, internal_notes=True)
    (case,) = load(zipped, "cases.json")
    assert [note["text"] for note in case["internal_notes"]] == [
        f"{ANA_NAME} ya había reclamado antes"
    ]


def test_an_export_changes_nothing_and_works_in_memory(world: World) -> None:
    before = world.rows()
    data, done = export_bytes(
        Request.of(conversations=[ANA_TELEGRAM]), world.stores, actor="desk:admin", reason="r"
    )
    after = world.rows()
    audit_rows = after.pop("handoff_privacy_audit")
    before.pop("handoff_privacy_audit", None)
    assert after == before
    assert len(audit_rows) == 1
    with zipfile.ZipFile(io.BytesIO(data)) as zipped:
        assert set(load(zipped, "subject.json")["conversations"]) == {ANA_WHATSAPP, ANA_TELEGRAM}
    assert done.found["conversations"] == 2
