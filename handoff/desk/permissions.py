"""What a desk user may do with a case: the one rule the handlers enforce and the page shows.

`refusal(agent, case, action)` is the rule; every case handler calls it (through
`handoff.desk.app.require`) before acting, and every case the API returns carries
`allowed_actions(agent, case)`, the actions it does not refuse. The page enables a button
only when the server lists its action, so the two cannot disagree
(tests/integration/handoff/test_allowed_actions.py checks every state × who).

Roles come from handoff/auth.py (`allowed`: each role includes the ones below it), statuses
and their moves from handoff/case.py. What is not a property of the case and the user stays
a 409 of the moment, not in the list: an agent at capacity (claim), a closed channel window
(reply without the re-engagement template).
"""

from __future__ import annotations

from dataclasses import dataclass

from handoff.auth import allowed
from handoff.case import Case, Status
from handoff.store import Agent

# In the order the page shows them. `close` is `POST /resolve` with `return_to_bot: false`.
ACTIONS = ("claim", "reply", "note", "transfer", "release", "resolve", "close")


@dataclass(frozen=True)
class Refusal:
    """Why an action is refused: the HTTP status (403 who, 409 the case's state) and words."""

    status: int
    message: str


NOT_YOURS = Refusal(403, "this case is not assigned to you (claim it first)")


def refusal(agent: Agent, case: Case, action: str) -> Refusal | None:
    """None if `agent` may do `action` on `case` now; else why not.

    - note: anyone logged in, on any case;
    - claim: a queued case;
    - transfer: a queued case (anyone), or an assigned one (its assignee, supervisors);
    - close: a queued case nobody took (supervisors), or an assigned one (as resolve);
    - reply, release, resolve: an assigned case, by its assignee or a supervisor; reply
      also needs a channel that can carry it (not Rasa's REST channel).
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    supervisor = allowed(agent.role, "supervisor")
    status = case.status
    if action == "note":
        return None
    if action == "claim":
        if status is Status.QUEUED:
            return None
        return Refusal(409, f"the case is {status.value}: only a queued case can be claimed")
    if status is Status.QUEUED and action == "transfer":
        return None
    if status is Status.QUEUED and action == "close":
        if supervisor:
            return None
        return Refusal(403, "closing a case nobody took needs the supervisor role")
    if not supervisor and case.assignee_id != agent.id:
        return NOT_YOURS
    if status is not Status.ASSIGNED:
        return Refusal(409, f"the case is {status.value}")
    if action == "reply" and case.channel == "rest":
        return Refusal(409, "this conversation's channel (REST) cannot receive messages")
    return None


def allowed_actions(agent: Agent, case: Case) -> list[str]:
    """The actions `agent` may take on `case` now, in `ACTIONS` order."""
    return [action for action in ACTIONS if refusal(agent, case, action) is None]
