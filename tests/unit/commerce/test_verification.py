"""Ownership checks and contact validation: pure functions, no database."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from actions.commerce import Address, InvalidAddress, contact_matches
from actions.commerce.verification import (
    normalize_email,
    normalize_phone,
    phone_last4,
    validate_address,
)

HOSTILE = [
    "10001' OR '1'='1",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "ana@example.com<script>",
    "${jndi:ldap://x}",
    "5512345678\x00",
    "\u202e5512345678",
]


@dataclass(frozen=True)
class Contact:
    phone: str | None
    email: str | None


ANA = Contact("+525512345678", "ana@example.com")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+5215512345678", "+525512345678"),  # WhatsApp-era mobile "1"
        ("5215512345678", "+525512345678"),  # WhatsApp sender id: no "+"
        ("+525512345678", "+525512345678"),
        ("525512345678", "+525512345678"),
        ("5512345678", "+525512345678"),  # national
        ("55 1234 5678", "+525512345678"),
        ("(55) 1234-5678", "+525512345678"),
        ("55.1234.5678", "+525512345678"),
        ("+52 1 55 1234 5678", "+525512345678"),
        ("0052 55 1234 5678", "+525512345678"),
        ("044 55 1234 5678", "+525512345678"),  # legacy mobile prefix
        ("  +52 33 1234 5678 ", "+523312345678"),
        ("+14155550123", "+14155550123"),
        ("14155550123", "+14155550123"),  # international without "+"
        ("+1 (415) 555-0123", "+14155550123"),
        ("+5491155551234", "+5491155551234"),
        ("5491155551234", "+5491155551234"),
        ("+34 612 34 56 78", "+34612345678"),
    ],
)
def test_normalize_phone(text: str, expected: str) -> None:
    assert normalize_phone(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "   ", "12", "123456", "5512345", "+52 55 1234 567", "+999 5512345678", "phone",
     "55-CALL-LUMEN", "5512345678 ext. 3", "1" * 20, "+", "++525512345678", None, 5512345678,
     *HOSTILE],
)  # fmt: skip
def test_normalize_phone_rejects(text: object) -> None:
    assert normalize_phone(text) is None  # type: ignore[arg-type]


def test_normalize_phone_default_region() -> None:
    assert normalize_phone("(415) 555-0123", default_region="US") == "+14155550123"
    assert normalize_phone("011 5555-1234", default_region="AR") is not None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ana@example.com", "ana@example.com"),
        ("  Ana@Example.COM \n", "ana@example.com"),
        ("ana.martinez+pedidos@mail.example.mx", "ana.martinez+pedidos@mail.example.mx"),
        ("o'brien@example.com", "o'brien@example.com"),
        ("a_b-c@sub-domain.example.co", "a_b-c@sub-domain.example.co"),
    ],
)
def test_normalize_email(text: str, expected: str) -> None:
    assert normalize_email(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "ana", "ana@", "@example.com", "ana@example", "ana@@example.com", "ana@example..com",
     "ana.@example.com", ".ana@example.com", "ana..m@example.com", "ana @example.com",
     "ana@-example.com", "ana@example.c", "ana@exam_ple.com", "añá@example.com",
     "a" * 65 + "@example.com", "ana@" + "a" * 250 + ".com", "ana@example.com, bob@example.com",
     None, 42, *HOSTILE],
)  # fmt: skip
def test_normalize_email_rejects(text: object) -> None:
    assert normalize_email(text) is None  # type: ignore[arg-type]


def test_contact_matches_phone_in_any_spelling() -> None:
    for phone in ("5215512345678", "+5215512345678", "525512345678", "55 1234 5678"):
        assert contact_matches(ANA, phone=phone)
    assert contact_matches(Contact("+5215512345678", "x@example.com"), phone="525512345678")
    assert not contact_matches(ANA, phone="5512345679")
    assert not contact_matches(ANA, phone="14155550123")


def test_contact_matches_email_and_last4() -> None:
    assert contact_matches(ANA, email=" ANA@example.com ")
    assert not contact_matches(ANA, email="ana@example.org")
    assert contact_matches(ANA, last4="5678")
    assert contact_matches(ANA, last4=" 5678 ")
    for wrong in ("1234", "678", "45678", "56a8", "", "5678' OR '1'='1"):
        assert not contact_matches(ANA, last4=wrong), wrong


def test_contact_matches_needs_every_given_detail() -> None:
    assert contact_matches(ANA, phone="5215512345678", email="ana@example.com", last4="5678")
    assert not contact_matches(ANA, phone="5215512345678", email="someone@example.com")
    assert not contact_matches(ANA, email="ana@example.com", last4="0000")
    assert not contact_matches(ANA)  # nothing given proves nothing
    assert not contact_matches(ANA, phone=None, email=None, last4=None)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_contact_matches_rejects_hostile_input(hostile: str) -> None:
    assert not contact_matches(ANA, phone=hostile)
    assert not contact_matches(ANA, email=hostile)
    assert not contact_matches(ANA, last4=hostile)


def test_contact_matches_never_matches_a_malformed_order_contact() -> None:
    broken = Contact("", "")
    assert not contact_matches(broken, phone="")
    assert not contact_matches(broken, email="")
    assert not contact_matches(broken, last4="")


def test_contact_matches_an_order_with_one_contact() -> None:
    email_only = Contact(None, "ana@example.com")
    assert contact_matches(email_only, email="ana@example.com")
    assert not contact_matches(email_only, phone="5512345678")
    assert not contact_matches(email_only, last4="5678")
    assert not contact_matches(email_only, email="ana@example.com", last4="5678")
    phone_only = Contact("+525512345678", None)
    assert contact_matches(phone_only, phone="5215512345678")
    assert contact_matches(phone_only, last4="5678")
    assert not contact_matches(phone_only, email="ana@example.com")
    assert not contact_matches(phone_only, phone="5512345678", email="ana@example.com")
    for nothing in (Contact(None, None), phone_only, email_only):
        assert not contact_matches(nothing)
        assert not contact_matches(nothing, phone="", email="", last4="")


def test_phone_last4() -> None:
    assert phone_last4("+525512345678") == "5678"
    assert phone_last4("12") == ""
    assert phone_last4(None) == ""


def test_validate_address() -> None:
    assert validate_address(Address(" Calle  Durango 210 ", " CDMX ", " 06700 ", "mx")) == Address(
        "Calle Durango 210", "CDMX", "06700", "MX"
    )
    assert validate_address(Address("Av. Corrientes 1234", "CABA", "C1043", "AR")).postal_code == (
        "C1043"
    )
    for bad, field in [
        (Address("", "CDMX", "06700"), "street"),
        (Address("Calle 1", "  ", "06700"), "city"),
        (Address("Calle 1", "CDMX", "0670"), "postal_code"),
        (Address("Calle 1", "CDMX", "06700", "MEX"), "country"),
        (Address("Calle {1}", "CDMX", "06700"), "street"),
    ]:
        with pytest.raises(InvalidAddress) as raised:
            validate_address(bad)
        assert raised.value.field == field
