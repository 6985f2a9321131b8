"""The designer's loop: which messages become candidates, how they group, what is exported."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from handoff.auth import Accounts
from handoff.facts import Facts
from handoff.nlu_candidates import (
    Candidates,
    ReviewError,
    label_of,
    labels,
    normalize,
    suggestion,
)
from handoff.store import CaseStore


def test_near_duplicates_share_a_key() -> None:
    assert normalize("¿Dónde está mi PEDIDOOO??") == normalize("donde esta mi pedido") != ""
    assert normalize("  hola,   q onda!! ") == "hola q onda"


def test_the_label_is_what_the_bot_acted_on_and_the_suggestion_skips_the_fallback() -> None:
    faq = {"intent": {"name": "faq", "full_retrieval_intent_name": "faq/delivery_times"}}
    assert label_of(faq) == "faq/delivery_times"
    selected = {
        "intent": {"name": "faq"},
        "response_selector": {"faq": {"response": {"intent_response_key": "faq/refund_times"}}},
    }
    assert label_of(selected) == "faq/refund_times"
    fell_back = {
        "intent": {"name": "nlu_fallback", "confidence": 0.3},
        "intent_ranking": [{"name": "nlu_fallback"}, {"name": "order_status"}],
    }
    assert suggestion(fell_back) == "order_status"
    assert suggestion({"intent": {"name": "nlu_fallback"}}) is None


def test_labels_are_the_domains_intents_and_faq_keys() -> None:
    known = labels()
    assert {"order_status", "faq/delivery_times", "greet"} <= set(known)
    assert "nlu_fallback" not in known
    assert "faq" not in known


def user(at: float, text: str, intent: str, confidence: float) -> dict:
    parse = {"intent": {"name": intent, "confidence": confidence}}
    return {"event": "user", "timestamp": at, "text": text, "parse_data": parse}


def test_only_messages_not_understood_well_become_candidates(store: CaseStore) -> None:
    facts = Facts(store.engine, gap=3600)
    facts.record_events("x:1", [user(1.0, "ni idea", "nlu_fallback", 0.2)])
    facts.record_events("x:2", [user(2.0, "eso mero", "affirm", 0.4)])  # low
    facts.record_events("x:3", [user(3.0, "donde esta mi pedido", "order_status", 0.95)])
    groups = {g.text: g.why for g in Candidates(store.engine).groups()}
    assert groups == {"ni idea": {"fallback": 1}, "eso mero": {"low_confidence": 1}}


def test_a_rephrase_within_ten_minutes_names_what_the_first_message_meant(
    store: CaseStore,
) -> None:
    facts = Facts(store.engine, gap=3600)
    facts.record_events("x:1", [user(100.0, "lo del cambio", "nlu_fallback", 0.2)])
    facts.record_events("x:1", [user(160.0, "quiero cambiar mi pedido", "change_order", 0.9)])
    facts.record_events("x:2", [user(100.0, "lo otro", "nlu_fallback", 0.2)])
    facts.record_events("x:2", [user(100.0 + 900, "quiero cambiar mi pedido", "change_order", 0.9)])
    found = {g.text: (g.why, g.suggested) for g in Candidates(store.engine).groups()}
    assert found["lo del cambio"] == ({"rephrased": 1}, "change_order")
    assert found["lo otro"] == ({"fallback": 1}, None)  # 15 minutes later: another request


def test_a_group_is_reviewed_once_and_only_with_a_known_label(
    store: CaseStore, accounts: Accounts, tmp_path: Path
) -> None:
    facts = Facts(store.engine, gap=3600)
    for n, text in enumerate(("ke onda mi paquete", "Ke onda mi paquete??", "que rollo")):
        facts.record_events(f"x:{n}", [user(float(n), text, "nlu_fallback", 0.1)])
    dora = accounts.create("dora", "password-123", role="designer")
    candidates = Candidates(store.engine)
    parcel, other = candidates.groups()
    assert (parcel.count, other.count) == (2, 1)
    with pytest.raises(ReviewError, match="not an intent"):
        candidates.review(parcel.id, dora.id, "paquete")
    assert candidates.review(parcel.id, dora.id, "order_status") == 2
    with pytest.raises(ReviewError, match="already"):
        candidates.review(parcel.id, dora.id, None)
    with pytest.raises(LookupError):
        candidates.review(99_999, dora.id, None)
    assert candidates.review(other.id, dora.id, None) == 1

    data = tmp_path / "data"
    data.mkdir()
    (data / "known.yml").write_text("nlu:\n- intent: greet\n  examples: |\n    - hola\n")
    counts = candidates.export(tmp_path / "out" / "reviewed.yml", data=data)
    assert counts == {"examples": 1, "personal": 0, "already_known": 0}
    written = yaml.safe_load((tmp_path / "out" / "reviewed.yml").read_text())
    assert written == {
        "version": "3.1",
        "nlu": [{"intent": "order_status", "examples": "- ke onda mi paquete\n"}],
    }
