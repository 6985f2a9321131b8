"""Messaging windows: WhatsApp 24 h then a template; Messenger 24 h, HUMAN_AGENT up to 7 days.

Which channel has which window: tests/unit/connectors/test_registry.py.
"""

from __future__ import annotations

import pytest

from connectors.windows import DAY, HOUR, Window, WindowRules, closes_at, decide

NOW = 1_800_000_000.0


def whatsapp(age: float | None, template: bool = True, agent: bool = False):
    last = None if age is None else NOW - age
    return decide(Window.WHATSAPP, last, NOW, from_agent=agent, template_configured=template)


def messenger(age: float | None, agent: bool):
    last = None if age is None else NOW - age
    return decide(Window.MESSENGER, last, NOW, from_agent=agent, template_configured=False)


def test_inside_24_hours_anything_goes() -> None:
    assert whatsapp(23 * HOUR).send
    assert not whatsapp(23 * HOUR).template
    assert messenger(23 * HOUR, agent=False).send
    assert not messenger(23 * HOUR, agent=True).tag_human_agent


@pytest.mark.parametrize("age", [DAY, 25 * HOUR, 30 * DAY, None])
def test_whatsapp_after_24_hours_sends_the_template_or_nothing(age: float | None) -> None:
    with_template = whatsapp(age)
    assert with_template.send
    assert with_template.template
    without = whatsapp(age, template=False)
    assert not without.send
    assert "no re-engagement template" in (without.reason or "")


def test_messenger_tags_only_people_and_only_for_7_days() -> None:
    assert not messenger(30 * HOUR, agent=False).send
    agent = messenger(30 * HOUR, agent=True)
    assert agent.send
    assert agent.tag_human_agent
    assert not messenger(8 * DAY, agent=True).send
    assert not messenger(None, agent=True).send


def test_channels_without_window_always_send() -> None:
    assert decide(Window.NONE, None, NOW, from_agent=False, template_configured=False).send


def test_when_the_window_closes() -> None:
    assert closes_at(Window.WHATSAPP, NOW, from_agent=True) == NOW + DAY
    assert closes_at(Window.MESSENGER, NOW, from_agent=True) == NOW + 7 * DAY
    assert closes_at(Window.MESSENGER, NOW, from_agent=False) == NOW + DAY
    assert closes_at(Window.NONE, NOW, from_agent=False) is None


def test_only_whatsapps_window_ends_in_a_template() -> None:
    assert [w for w in Window if w.ends_in_template] == [Window.WHATSAPP]


@pytest.mark.parametrize("window", list(Window))
@pytest.mark.parametrize("template", [True, False])
def test_rules_answer_as_the_functions_do(window: Window, template: bool) -> None:
    rules = WindowRules(window, template_configured=template)
    for age in (None, HOUR, 23 * HOUR, DAY, 30 * HOUR, 6 * DAY, 8 * DAY):
        last = None if age is None else NOW - age
        for agent in (True, False):
            assert rules.decide(last, NOW, from_agent=agent) == decide(
                window, last, NOW, from_agent=agent, template_configured=template
            )
            assert rules.closes_at(last, from_agent=agent) == closes_at(
                window, last, from_agent=agent
            )


@pytest.mark.parametrize("window", list(Window))
def test_open_means_an_agents_free_text_goes_out_as_is(window: Window) -> None:
    """What the desk shows as open is what the hub sends untouched (or tagged, on Messenger)."""
    rules = WindowRules(window, template_configured=True)
    for age in (None, HOUR, DAY - 1, DAY, 30 * HOUR, 7 * DAY - 1, 7 * DAY, 30 * DAY):
        last = None if age is None else NOW - age
        decision = rules.decide(last, NOW, from_agent=True)
        assert rules.is_open(last, NOW, from_agent=True) == (
            decision.send and not decision.template
        ), (window, age)
