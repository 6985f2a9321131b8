"""The profile comes from HILO_ENV; a typo is an error, never a silent development profile."""

from __future__ import annotations

import pytest

from hilo.profile import Profile, UnknownProfile, current, is_production


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, Profile.DEVELOPMENT),
        ("", Profile.DEVELOPMENT),
        ("development", Profile.DEVELOPMENT),
        ("production", Profile.PRODUCTION),
        (" Production ", Profile.PRODUCTION),
    ],
)
def test_profile_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, value: str | None, expected: Profile
) -> None:
    if value is None:
        monkeypatch.delenv("HILO_ENV", raising=False)
    else:
        monkeypatch.setenv("HILO_ENV", value)
    assert current() is expected
    assert is_production() is (expected is Profile.PRODUCTION)


@pytest.mark.parametrize("typo", ["prod", "prodution", "staging"])
def test_an_unknown_profile_is_an_error(monkeypatch: pytest.MonkeyPatch, typo: str) -> None:
    monkeypatch.setenv("HILO_ENV", typo)
    with pytest.raises(UnknownProfile, match="development or production"):
        is_production()
