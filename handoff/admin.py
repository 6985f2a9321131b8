"""What admins edit in the desk beyond logins: agents' team and capacity, canned replies, teams.

Teams are not a table: a team is the `team` name on agents (who works in it) and on cases
(whose queue a case waits in, `POST /api/cases/{id}/transfer {team}`). So an admin edits a
team by moving agents into or out of it; the overview (`teams()`) lists every name in use
with its members and open cases. Business hours are one policy for everyone
(handoff/support.yml), not per team, and are shown as such.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from handoff.auth import MAX_CAPACITY, MAX_DISPLAY_NAME, MAX_TEAM
from handoff.case import Status
from handoff.database import reader
from handoff.models import agents, canned, cases
from handoff.store import Agent, NotFound, _to_agent

MAX_TITLE = 120
LANGUAGES = ("es", "en")
UNSET: Any = object()  # a field the request did not name: left as it is


@dataclass(frozen=True)
class Team:
    """One team name in use, with its active members and the open cases in its queue."""

    name: str | None  # None: agents and cases with no team (everyone's queue)
    members: list[dict[str, Any]]
    queued: int
    assigned: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "name": self.name,
            "members": self.members,
            "queued": self.queued,
            "assigned": self.assigned,
        }


class Admin:
    """Admin edits on the handoff database (the desk checks the admin role first)."""

    def __init__(self, engine: Engine) -> None:
        """Uses `engine` (migrated with `handoff.database.migrate`)."""
        self.engine = engine
        self.reader = reader(engine)

    # --- agents -----------------------------------------------------------------------

    def every_agent(self) -> list[Agent]:
        """Every agent, deactivated ones included, by name."""
        with self.reader.connect() as connection:
            rows = connection.execute(
                sa.select(agents).order_by(agents.c.display_name, agents.c.id)
            ).all()
        return [_to_agent(row) for row in rows]

    def update_agent(
        self,
        username: str,
        *,
        team: str | None = UNSET,
        capacity: int = UNSET,
        display_name: str = UNSET,
    ) -> Agent:
        """Changes an agent's team (None or "": no team), capacity or display name.

        `ValueError` for a value the column cannot hold, `NotFound` for an unknown username.
        Open cases stay where they are: a case follows its assignee, not their team.
        """
        values: dict[str, Any] = {}
        if team is not UNSET:
            team = (team or "").strip() or None
            if team is not None and len(team) > MAX_TEAM:
                raise ValueError(f"team: at most {MAX_TEAM} characters")
            values["team"] = team
        if capacity is not UNSET:
            if not 0 <= capacity <= MAX_CAPACITY:
                raise ValueError(f"capacity: from 0 to {MAX_CAPACITY} cases")
            values["capacity"] = capacity
        if display_name is not UNSET:
            display_name = display_name.strip()
            if not display_name or len(display_name) > MAX_DISPLAY_NAME:
                raise ValueError(f"display name: 1 to {MAX_DISPLAY_NAME} characters")
            values["display_name"] = display_name
        if not values:
            raise ValueError("send team, capacity or display_name")
        key = username.strip().lower()
        with self.engine.begin() as connection:
            done = connection.execute(
                agents.update().where(agents.c.username == key).values(**values)
            )
            if not done.rowcount:
                raise NotFound(f"agent {username}")
            row = connection.execute(sa.select(agents).where(agents.c.username == key)).one()
        return _to_agent(row)

    # --- teams ------------------------------------------------------------------------

    def teams(self) -> list[Team]:
        """Every team name on an active agent or an open case, with members and open cases."""
        with self.reader.connect() as connection:
            members = connection.execute(
                sa.select(agents)
                .where(agents.c.active.is_(True))
                .order_by(agents.c.display_name, agents.c.id)
            ).all()
            counts = connection.execute(
                sa.select(cases.c.team, cases.c.status, sa.func.count())
                .where(cases.c.status.in_([Status.QUEUED.value, Status.ASSIGNED.value]))
                .group_by(cases.c.team, cases.c.status)
            ).all()
        names: dict[str | None, dict[str, Any]] = {}

        def entry(name: str | None) -> dict[str, Any]:
            return names.setdefault(name, {"members": [], "queued": 0, "assigned": 0})

        for row in members:
            agent = _to_agent(row)
            entry(agent.team)["members"].append(
                {k: v for k, v in agent.to_dict().items() if k != "active"}
            )
        for team, status, count in counts:
            entry(team)[str(status)] = int(count)
        ordered = sorted(names.items(), key=lambda item: (item[0] is None, item[0] or ""))
        return [Team(name, **data) for name, data in ordered]

    # --- canned replies ---------------------------------------------------------------

    def update_canned(self, canned_id: int, title: str, text: str, language: str) -> dict[str, Any]:
        """Rewrites a canned reply; `NotFound` if there is none with that id."""
        if language not in LANGUAGES:
            raise ValueError("'language' must be es or en")
        with self.engine.begin() as connection:
            done = connection.execute(
                canned.update()
                .where(canned.c.id == canned_id)
                .values(title=title[:MAX_TITLE], text=text, language=language)
            )
            if not done.rowcount:
                raise NotFound(f"canned reply {canned_id}")
        return {"id": canned_id, "title": title[:MAX_TITLE], "text": text, "language": language}

    def delete_canned(self, canned_id: int) -> None:
        """Deletes a canned reply (nothing refers to one); `NotFound` if there is none."""
        with self.engine.begin() as connection:
            done = connection.execute(canned.delete().where(canned.c.id == canned_id))
            if not done.rowcount:
                raise NotFound(f"canned reply {canned_id}")
