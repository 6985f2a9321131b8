"""The designer's loop, end to end: the bot's failures become candidates as turns are
recorded, a designer reviews them through the desk's API, and `hilo nlu candidates --export`
writes training data that `rasa data validate --fail-on-warnings` accepts with the project's.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from handoff import cli
from handoff.facts import Facts
from tests.conftest import ROOT
from tests.integration.handoff.conftest import DeskWorld

CONVERSATION = "telegram:5151"


def said(at: float, text: str, intent: str, confidence: float, **parse: object) -> dict:
    ranking = [{"name": intent, "confidence": confidence}, *parse.pop("ranking", [])]
    return {
        "event": "user",
        "timestamp": at,
        "text": text,
        "input_channel": "telegram",
        "parse_data": {
            "intent": {"name": intent, "confidence": confidence},
            "intent_ranking": ranking,
            "language": "es",
            **parse,
        },
    }


def play(world: DeskWorld) -> None:
    """A day of turns with failures of every kind, as the Rasa server saves them."""
    facts = Facts(world.store.engine)
    second_best = [{"name": "order_status", "confidence": 0.2}]
    # Near-duplicates that fell back, from three customers: one group of three.
    for n, text in enumerate(
        ("ke onda con mi paqueteee", "Ke onda con mi paquete??", "ke onda con mi paquete")
    ):
        facts.record_events(
            f"whatsapp:52155{n}", [said(1000.0 + n, text, "nlu_fallback", 0.2, ranking=second_best)]
        )
    # Scored low, then said again in other words and understood: "rephrased".
    facts.record_events(CONVERSATION, [said(2000.0, "y lo del cambio q onda", "greet", 0.31)])
    facts.record_events(
        CONVERSATION, [said(2030.0, "quiero cambiar la talla de mi pedido", "change_order", 0.93)]
    )
    # A repeated-fallback handoff: the message that led to it.
    handoff = [
        said(3000.0, "nada de eso, otra cosa", "nlu_fallback", 0.1),
        {
            "event": "slot",
            "name": "handoff_reason",
            "value": "repeated_fallback",
            "timestamp": 3000.5,
        },
    ]
    facts.record_events("messenger:77", handoff)
    # Personal data, and something already in the training data: kept for review, never
    # exported.
    facts.record_events(
        "whatsapp:52199", [said(4000.0, "mi correo es ana@example.com", "nlu_fallback", 0.1)]
    )
    facts.record_events("whatsapp:52198", [said(4001.0, "hola", "nlu_fallback", 0.1)])
    # Understood: no candidate.
    facts.record_events(
        "whatsapp:52197", [said(5000.0, "donde esta mi pedido", "order_status", 0.97)]
    )
    assert facts.lost == 0


def test_a_designer_turns_the_bots_failures_into_valid_training_data(
    world: DeskWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    play(world)
    world.accounts.create("dora", "password-123", role="designer", display_name="Dora")
    assert world.login("ana").get("/api/nlu/candidates").status_code == 403
    designer = world.login("dora")

    listed = designer.get("/api/nlu/candidates").json()
    groups = {group["normalized"]: group for group in listed["groups"]}
    assert "order_status" in listed["labels"]
    assert "faq/delivery_times" in listed["labels"]
    parcel = groups["ke onda con mi paquete"]
    assert (parcel["count"], parcel["why"], parcel["suggested"]) == (
        3,
        {"fallback": 3},
        "order_status",
    )
    size = groups["y lo del cambio q onda"]
    assert (size["why"], size["suggested"]) == ({"rephrased": 1}, "change_order")
    assert groups["nada de eso otra cosa"]["why"] == {"handoff": 1}
    assert "quiero cambiar la talla de mi pedido" not in groups  # understood
    assert "donde esta mi pedido" not in groups

    review = f"/api/nlu/candidates/{parcel['id']}/review"
    assert designer.post(review, json={"label": "no_such_intent"}).status_code == 400
    accepted = designer.post(review, json={"label": "order_status"})
    assert accepted.json() == {"reviewed": 3, "label": "order_status"}
    assert designer.post(review, json={"label": "order_status"}).status_code == 409
    for key, label in (
        ("y lo del cambio q onda", "change_order"),
        ("mi correo es ana example com", "order_status"),
        ("hola", "greet"),
    ):
        reply = designer.post(
            f"/api/nlu/candidates/{groups[key]['id']}/review", json={"label": label}
        )
        assert reply.status_code == 200, reply.text
    rejected = designer.post(
        f"/api/nlu/candidates/{groups['nada de eso otra cosa']['id']}/review", json={"reject": True}
    )
    assert rejected.json()["reviewed"] == 1
    assert designer.get("/api/nlu/candidates").json()["groups"] == []
    assert designer.get("/api/nlu/candidates/999999/review").status_code == 405
    assert (
        designer.post("/api/nlu/candidates/999999/review", json={"reject": True}).status_code == 404
    )

    exported = tmp_path / "reviewed.yml"
    monkeypatch.setenv(
        "HANDOFF_DATABASE_URL", world.store.engine.url.render_as_string(hide_password=False)
    )
    assert cli.main(["nlu", "candidates", "--export", str(exported)]) == 0
    written = yaml.safe_load(exported.read_text())
    examples = {item["intent"]: item["examples"].splitlines() for item in written["nlu"]}
    # One example per group; the email and the known "hola" left out.
    assert examples == {
        "change_order": ["- y lo del cambio q onda"],
        "order_status": ["- ke onda con mi paqueteee"],
    }
    validated = subprocess.run(  # noqa: S603 (our own venv's rasa)
        [sys.executable, "-m", "rasa", "data", "validate", "--fail-on-warnings", "--quiet",
         "--data", "data", str(exported), "--domain", "domain.yml"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert validated.returncode == 0, validated.stdout[-2000:] + validated.stderr[-2000:]
