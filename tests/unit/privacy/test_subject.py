"""Finding a person in every store from a phone (any spelling), an email or a conversation."""

from __future__ import annotations

import pytest

from privacy.stores import opened
from privacy.subject import BadRequest, Request, phone_spellings, resolve
from tests.unit.privacy.conftest import (
    ANA_EMAIL,
    ANA_TELEGRAM,
    ANA_WHATSAPP,
    JOHN_WHATSAPP,
    World,
)

ANA_ORDERS = {"10001", "10004", "10005"}


def found(world: World, **named: list[str]):
    with opened(world.stores) as engines:
        return resolve(Request.of(**named), engines)


@pytest.mark.parametrize("phone", ["+5215512345678", "+52 55 1234 5678", "55 1234 5678"])
def test_a_phone_in_any_spelling_finds_both_channels_and_the_orders(
    world: World, phone: str
) -> None:
    subject = found(world, phones=[phone])
    assert set(subject.conversation_ids) == {ANA_WHATSAPP, ANA_TELEGRAM}
    assert set(subject.channels) == {"twilio", "telegram"}
    assert len(subject.profile_ids) == 1
    assert set(subject.order_numbers) >= ANA_ORDERS
    assert subject.emails == (ANA_EMAIL,)
    assert {"+525512345678", "+5215512345678"} <= set(subject.phones)
    assert JOHN_WHATSAPP not in subject.conversation_ids
    assert "10002" not in subject.order_numbers  # John's


def test_an_email_leads_to_the_orders_and_through_their_phone_to_the_channels(
    world: World,
) -> None:
    subject = found(world, emails=["ANA@Example.com "])
    assert set(subject.conversation_ids) == {ANA_WHATSAPP, ANA_TELEGRAM}
    assert set(subject.order_numbers) >= ANA_ORDERS


def test_a_conversation_leads_to_its_profile_and_so_to_the_others(world: World) -> None:
    subject = found(world, conversations=[ANA_TELEGRAM])
    assert set(subject.conversation_ids) == {ANA_WHATSAPP, ANA_TELEGRAM}
    assert set(subject.order_numbers) >= ANA_ORDERS
    assert subject.summary() == {
        "conversations": 2,
        "channels": ["telegram", "twilio"],
        "profiles": 1,
        "orders": len(subject.order_numbers),
    }


def test_somebody_nobody_knows_is_found_nowhere(world: World) -> None:
    subject = found(world, phones=["+5215500000001"], conversations=["telegram:404"])
    assert subject.conversation_ids == ("telegram:404",)  # looked for everywhere, as asked
    assert (subject.profile_ids, subject.order_numbers, subject.emails) == ((), (), ())


def test_requests_are_checked() -> None:
    for bad in (
        {},
        {"phones": [""]},
        {"phones": ["hola"]},
        {"phones": ["1"]},
        {"emails": ["no-es-correo"]},
        {"conversations": ["x" * 300]},
        {"conversations": ["a\x00b"]},
        {"phones": [5512345678]},
    ):
        with pytest.raises(BadRequest):
            Request.of(**bad)


def test_the_reference_is_the_same_for_every_spelling_and_says_nothing() -> None:
    refs = {
        Request.of(phones=[phone]).ref()
        for phone in ("+5215512345678", "+52 55 1234 5678", "+52 1 55 1234 5678")
    }
    assert len(refs) == 1
    ref = refs.pop()
    assert len(ref) == 32
    assert "5512345678" not in ref
    assert Request.of(emails=["Ana@Example.com"]).ref() == Request.of(emails=[ANA_EMAIL]).ref()
    assert Request.of(emails=[ANA_EMAIL]).ref() != ref


def test_phone_spellings() -> None:
    assert phone_spellings("+52 1 55 1234 5678") == {"+525512345678", "+5215512345678"}
    assert phone_spellings("+14155550123") == {"+14155550123"}
    assert phone_spellings("nope") == set()
