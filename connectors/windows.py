"""Messaging windows: when a channel lets a business write to a customer, and how.

WhatsApp (Cloud API and Twilio) accepts free-form messages only within 24 hours of the
customer's last message; after that only an approved template goes out (Meta error 131047,
Twilio 63016). Messenger allows 24 hours for any message and, with the HUMAN_AGENT tag, up to
7 days for replies written by a person (never for the bot's). Telegram, SMS and the sandbox
have no window. See `../shared/reference/channel-specs.md` §1.5, §2.6, §3.5.

This module knows how windows work, not which channel has which: each channel's adapter
states that (connectors/registry.py), and the hub and the desk ask it for a conversation's
`WindowRules`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

HOUR = 3600.0
DAY = 24 * HOUR


class Window(str, Enum):
    """How a channel's window works."""

    NONE = "none"  # Telegram, SMS, sandbox
    WHATSAPP = "whatsapp"  # 24 h, then a template
    MESSENGER = "messenger"  # 24 h, then HUMAN_AGENT for people up to 7 days

    @property
    def ends_in_template(self) -> bool:
        """Whether a re-engagement template is what may go once the window closes."""
        return self is Window.WHATSAPP


@dataclass(frozen=True)
class Decision:
    """What may be sent now: the message as is, the template instead, with a tag, or nothing."""

    send: bool
    template: bool = False
    tag_human_agent: bool = False
    reason: str | None = None  # why not (or why the template), for the outbound store


FREE = Decision(send=True)


def decide(
    window: Window,
    last_inbound_at: float | None,
    now: float,
    *,
    from_agent: bool,
    template_configured: bool,
) -> Decision:
    """Whether and how a message may go out `now`, given the customer's last message time."""
    if window is Window.NONE:
        return FREE
    age = None if last_inbound_at is None else now - last_inbound_at
    if age is not None and age < DAY:
        return FREE
    since = "never wrote" if age is None else f"last wrote {age / HOUR:.0f} h ago"
    if window.ends_in_template:
        if template_configured:
            return Decision(send=True, template=True, reason=f"window closed: customer {since}")
        return Decision(
            send=False,
            reason=f"window closed: customer {since}, and no re-engagement template is configured",
        )
    if from_agent and age is not None and age < 7 * DAY:
        return Decision(send=True, tag_human_agent=True)
    who = "an agent's reply" if from_agent else "the bot may not write"
    limit = "7 days" if from_agent else "24 h"
    return Decision(send=False, reason=f"window closed ({who}, {limit}): customer {since}")


def closes_at(window: Window, last_inbound_at: float | None, *, from_agent: bool) -> float | None:
    """When free-form messages stop being allowed (None: never, or already impossible)."""
    if window is Window.NONE or last_inbound_at is None:
        return None
    if window is Window.MESSENGER and from_agent:
        return last_inbound_at + 7 * DAY
    return last_inbound_at + DAY


@dataclass(frozen=True)
class WindowRules:
    """One conversation's window, as its channel's adapter states it, and what follows from it.

    The hub (sending) and the desk (showing and refusing an agent's text) ask the same object,
    so they cannot disagree about whether a message reaches the customer.
    """

    window: Window
    template_configured: bool = False  # a re-engagement template is set for when it closes

    def closes_at(self, last_inbound_at: float | None, *, from_agent: bool) -> float | None:
        """When free-form messages stop being allowed (None: never, or already impossible)."""
        return closes_at(self.window, last_inbound_at, from_agent=from_agent)

    def is_open(self, last_inbound_at: float | None, now: float, *, from_agent: bool) -> bool:
        """Whether free-form text reaches the customer `now`."""
        until = self.closes_at(last_inbound_at, from_agent=from_agent)
        return self.window is Window.NONE or (until is not None and now < until)

    def decide(self, last_inbound_at: float | None, now: float, *, from_agent: bool) -> Decision:
        """Whether and how a message may go out `now` (see `decide`)."""
        return decide(
            self.window,
            last_inbound_at,
            now,
            from_agent=from_agent,
            template_configured=self.template_configured,
        )
