"""What a reply means at a question: only a clear yes is a yes (issue: confirmations).

Irreversible steps (cancel, change of address, return, placing an order) run only on YES,
so the cases that must never be YES matter most: a "no" that names the action, a hedge,
"wait", a question, a yes with a "but".
"""

from __future__ import annotations

import pytest

from actions.replies import (
    Reply,
    corrected_part,
    is_aside,
    is_drop,
    is_small_talk,
    read_confirmation,
)

CLEAR_YES = [
    # a yes relayed from whoever the customer checked with
    "ok he says go for it, yes please",
    "mi esposo dice que si, dale",
    "si", "sí", "Sí, confirmar", "sii", "sip", "dale", "va", "ok", "órale", "claro que si",
    "sí, cancélalo", "ok, entonces si cancelalo", "confirmo", "va, confirmo", "si porfa",
    "de acuerdo", "pues si", "mmm si", "yes", "yep confirm", "yes go ahead", "sure",
    "go ahead", "yes please", "correct", "that's right", "do it", "absolutely", "👍",
    "no problem, go ahead", "YES", "SI CANCELALO", "ok va, si cambiala",
]  # fmt: skip
NOT_YES = [
    # a no that names the action
    ("hmm no, better not cancel it", Reply.NO),
    ("mmm no mejor no, dejalo", Reply.NO),
    ("no lo cancelen", Reply.NO),
    ("nel", Reply.NO),
    ("no", Reply.NO),
    ("nope, keep it", Reply.NO),
    ("don't cancel it", Reply.NO),
    ("better not", Reply.NO),
    # wait, think, later
    ("espera... dejame pensarlo", Reply.HOLD),
    ("mmm ok dejame lo platico con mi esposo", Reply.HOLD),
    ("hold on, let me double-check with my roommate first", Reply.HOLD),
    ("hmm wait, let me think about it", Reply.HOLD),
    ("no, espera", Reply.HOLD),
    ("luego te digo", Reply.HOLD),
    ("maybe tomorrow", Reply.HOLD),
    ("no estoy segura", Reply.HOLD),
    ("si pero mañana", Reply.HOLD),
    ("yes but not yet", Reply.HOLD),
    ("ahorita no", Reply.HOLD),
    # a question instead of an answer
    ("wait, will I get my money back to my paypal?", Reply.QUESTION),
    ("y el reembolso en cuanto tiempo me cae?", Reply.QUESTION),
    ("how long does the refund take", Reply.QUESTION),
    ("ok let me talk to my sister first. bye", Reply.HOLD),
    # a relayed answer is the answer it relays
    ("my wife says no", Reply.NO),
    ("mi esposo dice que mejor no", Reply.NO),
    ("she says yes but next week", Reply.HOLD),
    ("oye y eso no me cuesta extra? y se retrasa?", Reply.QUESTION),
    # an acknowledgement is not a decision
    ("ok thanks", Reply.UNCLEAR),
    ("ok gracias, bye", Reply.UNCLEAR),
    ("ok I was wondering whether the colour is the same as in the photos", Reply.UNCLEAR),
    # nothing to go on
    ("", Reply.UNCLEAR),
    ("la camiseta", Reply.UNCLEAR),
]


@pytest.mark.parametrize("text", CLEAR_YES)
def test_a_clear_yes_is_yes(text: str) -> None:
    assert read_confirmation(text) is Reply.YES


@pytest.mark.parametrize(("text", "meaning"), NOT_YES)
def test_anything_but_a_clear_yes_is_not_yes(text: str, meaning: Reply) -> None:
    assert read_confirmation(text) is meaning


def test_the_intent_backs_up_words_but_never_overrides_them() -> None:
    assert read_confirmation("/affirm", "affirm") is Reply.YES  # a button tap
    assert read_confirmation("/deny", "deny") is Reply.NO
    # The classifier called it affirm; the words say wait.
    assert read_confirmation("ok pero dejame pensarlo", "affirm") is Reply.HOLD
    assert read_confirmation("no, mejor no", "affirm") is Reply.NO


@pytest.mark.parametrize(
    "text",
    [
        "olvidalo", "sabes q, dejalo asi, luego veo", "ya no quiero nada", "mejor otro dia",
        "You know what, forget it, maybe later", "never mind", "nah forget about it",
        "i'll pass", "no longer want it",
    ],
)  # fmt: skip
def test_dropping_the_flow(text: str) -> None:
    assert is_drop(text)


@pytest.mark.parametrize(
    "text", ["ya no me llegó", "para mi hermana", "no se cual talla", "no tengo el numero"]
)
def test_a_no_inside_an_answer_is_not_a_drop(text: str) -> None:
    assert not is_drop(text)


def test_a_bare_no_drops_only_as_the_deny_intent() -> None:
    assert is_drop("no", "deny")
    assert is_drop("nel, gracias", "deny")
    assert not is_drop("no", None)
    assert not is_drop("normal", "deny")  # a misread answer to "how should we ship it?"


@pytest.mark.parametrize(
    "text", ["ah ok, thanks", "jaja ok", "👍", "gracias!", "ok", "🙏🙏", "..."]
)
def test_small_talk_is_never_a_form_value(text: str) -> None:
    assert is_small_talk(text)


@pytest.mark.parametrize("text", ["Mariana Torres", "zapatillas", "Calle Durango 210", "M"])
def test_values_are_not_small_talk(text: str) -> None:
    assert not is_small_talk(text)


@pytest.mark.parametrize(
    "text",
    [
        "haha sorry my dog is barking like crazy 🐶",
        "perdon, estaba manejando",
        "jajaja ok espera",
        "un momento, me llaman",
        "sorry one sec",
    ],
)
def test_asides(text: str) -> None:
    assert is_aside(text)


@pytest.mark.parametrize(
    "text", ["Sarah O'Connor", "me quedaron chicas", "perdon, es el 10002", "Calle Durango 210"]
)
def test_answers_are_no_asides(text: str) -> None:
    assert not is_aside(text)


@pytest.mark.parametrize(
    ("text", "meant"),
    [
        ("negra... no, mejor gris", "gris"),
        ("red, no sorry, blue", "blue"),
        ("la L, perdon, la XL", "la xl"),
        ("gris", "gris"),  # nothing corrected: the whole message
    ],
)
def test_the_value_after_a_self_correction_is_the_one_meant(text: str, meant: str) -> None:
    assert corrected_part(text) == meant


@pytest.mark.parametrize("text", ["no mejor en azul", "no, better in black", "nel, mejor en gris"])
def test_a_no_that_brings_a_new_value_is_no_drop(text: str) -> None:
    assert not is_drop(text, "deny")


@pytest.mark.parametrize(
    "text", ["no, mejor no", "no, mejor dejemos asi", "no, mejor luego", "no wait, forget it"]
)
def test_a_no_then_giving_up_is_still_a_drop(text: str) -> None:
    assert is_drop(text, "deny")
