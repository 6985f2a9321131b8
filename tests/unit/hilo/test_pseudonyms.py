"""Pseudonyms are keyed: stable under one key, different under another, not a plain hash."""

from __future__ import annotations

import hashlib

import pytest

from hilo import pseudonyms


def test_pseudonyms_are_stable_and_keyed(monkeypatch: pytest.MonkeyPatch) -> None:
    phone = "whatsapp:+5215512345678"
    first = pseudonyms.pseudonym(phone)
    assert first == pseudonyms.pseudonym(phone)
    assert len(first) == 16
    assert phone not in first
    assert first not in hashlib.sha256(phone.encode()).hexdigest()  # not reversible by hashing
    monkeypatch.setenv("HILO_SECRET_KEY", "another key")
    pseudonyms._key.cache_clear()
    try:
        assert pseudonyms.pseudonym(phone) != first
    finally:
        monkeypatch.undo()
        pseudonyms._key.cache_clear()
