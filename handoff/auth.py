"""Who may use the desk: agents, hashed passwords, login sessions, roles.

Passwords are hashed with scrypt (Python's standard library; memory-hard, salted per agent)
and compared in constant time. A login creates a session token, given to the browser as an
HttpOnly cookie and to API clients as a bearer token; only its SHA-256 is stored, so a copy
of the database does not let anyone in. Each session has its own CSRF token: requests that
authenticate with the cookie must echo it in `X-CSRF-Token` (a bearer token is not sent by
browsers on their own, so it needs none).

Roles, each including the one before: agent (answers cases), supervisor (sees every case and
the team's numbers, transfers and closes), admin (manages agents and canned responses).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from handoff.database import reader
from handoff.models import ROLES, agents, sessions
from handoff.store import DEFAULT_CAPACITY, Agent, NotFound, _to_agent

SESSION_SECONDS = 12 * 3600  # a working day
# OWASP's Password Storage Cheat Sheet (2025): scrypt with N=2^17, r=8, p=1, or an equal
# cost such as N=2^14 (16 MiB of memory), r=8, p=5, taken here so that the desk's parallel
# logins do not need 128 MiB each. Hashes made with other parameters are remade at the next
# right login (`needs_rehash`).
_SCRYPT = {"n": 2**14, "r": 8, "p": 5}
RANK = {role: index for index, role in enumerate(ROLES)}
# The agents table's limits (handoff/models.py), and more cases than anyone works at once.
MAX_USERNAME, MAX_DISPLAY_NAME, MAX_TEAM = 64, 120, 64
MAX_CAPACITY = 1000


class AuthError(Exception):
    """Wrong credentials, an expired session, or not allowed."""


class UserExists(Exception):
    """The username is taken."""


def hash_password(password: str) -> str:
    """`scrypt$n$r$p$salt$hash` (base64), for the agents table."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    b64 = base64.b64encode
    return "scrypt${n}${r}${p}$".format(**_SCRYPT) + f"{b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` is the one `stored` was made from (constant-time compare)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(
        password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p)
    )
    return hmac.compare_digest(candidate, base64.b64decode(digest))


def needs_rehash(stored: str) -> bool:
    """Whether a stored hash was made with other parameters than today's."""
    parts = stored.split("$")
    current = ["scrypt", str(_SCRYPT["n"]), str(_SCRYPT["r"]), str(_SCRYPT["p"])]
    return len(parts) != 6 or parts[:4] != current


def allowed(role: str, needed: str) -> bool:
    """Whether `role` includes `needed` (admin ⊇ supervisor ⊇ designer ⊇ agent)."""
    return RANK.get(role, -1) >= RANK[needed]


@dataclass(frozen=True)
class Session:
    """A logged-in agent: the token to present, and the CSRF token for cookie requests."""

    token: str
    csrf_token: str
    agent: Agent
    expires_at: float


class Accounts:
    """Agents and sessions in the handoff database."""

    def __init__(self, engine: Engine) -> None:
        """Uses `engine` (migrated with `handoff.database.migrate`)."""
        self.engine = engine
        self.reader = reader(engine)

    def create(
        self,
        username: str,
        password: str,
        *,
        role: str = "agent",
        display_name: str | None = None,
        team: str | None = None,
        capacity: int = DEFAULT_CAPACITY,
    ) -> Agent:
        """A new agent; `UserExists` if the username is taken, `ValueError` if invalid.

        Lengths and capacity are checked here, against the columns: PostgreSQL refused a
        longer name or a capacity past its integer range with an error the desk took for
        the database being down, and a negative capacity was reported as a taken username.
        """
        username = username.strip().lower()
        name = (display_name or username).strip()
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        if (
            not username
            or not username.replace(".", "").replace("-", "").replace("_", "").isalnum()
        ):
            raise ValueError("username: letters, digits, '.', '-' or '_'")
        if len(username) > MAX_USERNAME:
            raise ValueError(f"username: at most {MAX_USERNAME} characters")
        if len(name) > MAX_DISPLAY_NAME:
            raise ValueError(f"display name: at most {MAX_DISPLAY_NAME} characters")
        if team is not None and len(team) > MAX_TEAM:
            raise ValueError(f"team: at most {MAX_TEAM} characters")
        if not 0 <= capacity <= MAX_CAPACITY:
            raise ValueError(f"capacity: from 0 to {MAX_CAPACITY} cases")
        if len(password) < 8:
            raise ValueError("the password must have at least 8 characters")
        try:
            with self.engine.begin() as connection:
                agent_id = connection.execute(
                    agents.insert().values(
                        username=username,
                        display_name=name,
                        password_hash=hash_password(password),
                        role=role,
                        team=team,
                        capacity=capacity,
                        created_at=time.time(),
                    )
                ).inserted_primary_key[0]
        except IntegrityError as error:
            raise UserExists(username) from error
        return self.get(int(agent_id))

    def get(self, agent_id: int) -> Agent:
        """One agent; `NotFound` if there is none."""
        with self.reader.connect() as connection:
            row = connection.execute(sa.select(agents).where(agents.c.id == agent_id)).first()
        if row is None:
            raise NotFound(f"agent {agent_id}")
        return _to_agent(row)

    def by_username(self, username: str) -> Agent:
        """One agent by username; `NotFound` if there is none."""
        with self.reader.connect() as connection:
            row = connection.execute(
                sa.select(agents).where(agents.c.username == username.strip().lower())
            ).first()
        if row is None:
            raise NotFound(f"agent {username}")
        return _to_agent(row)

    def all(self) -> list[Agent]:
        """Every active agent, by name."""
        with self.reader.connect() as connection:
            rows = connection.execute(
                sa.select(agents).where(agents.c.active.is_(True)).order_by(agents.c.display_name)
            ).all()
        return [_to_agent(row) for row in rows]

    def set_available(self, agent_id: int, available: bool) -> Agent:
        """Whether the agent takes new cases (auto-assignment skips them otherwise)."""
        with self.engine.begin() as connection:
            connection.execute(
                agents.update().where(agents.c.id == agent_id).values(available=available)
            )
        return self.get(agent_id)

    def login(self, username: str, password: str) -> Session:
        """A new session for valid credentials; `AuthError` otherwise (same error either way)."""
        with self.reader.connect() as connection:
            row = connection.execute(
                sa.select(agents).where(agents.c.username == username.strip().lower())
            ).first()
        # Hash even for unknown users, so timing does not tell which usernames exist.
        stored = row.password_hash if row is not None else _dummy_hash()
        if not verify_password(password, stored) or row is None or not row.active:
            raise AuthError("wrong username or password")
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        now = time.time()
        with self.engine.begin() as connection:
            if needs_rehash(stored):
                connection.execute(
                    agents.update()
                    .where(agents.c.id == row.id)
                    .values(password_hash=hash_password(password))
                )
            _forget_expired(connection, now)
            connection.execute(
                sessions.insert().values(
                    token_hash=_digest(token),
                    agent_id=row.id,
                    csrf_token=csrf,
                    created_at=now,
                    expires_at=now + SESSION_SECONDS,
                )
            )
        return Session(token, csrf, _to_agent(row), now + SESSION_SECONDS)

    def session(self, token: str) -> Session:
        """The live session of a token; `AuthError` if unknown or expired."""
        if not token:
            raise AuthError("not logged in")
        with self.reader.connect() as connection:
            row = connection.execute(
                sa.select(sessions.c.csrf_token, sessions.c.expires_at, agents)
                .join(agents, agents.c.id == sessions.c.agent_id)
                .where(sessions.c.token_hash == _digest(token))
            ).first()
        if row is None or row.expires_at < time.time() or not row.active:
            raise AuthError("session expired; log in again")
        return Session(token, row.csrf_token, _to_agent(row), row.expires_at)

    def set_active(self, username: str, active: bool) -> Agent:
        """Lets a user in again, or keeps them out: a deactivated user's sessions end at once.

        Deactivated users stay in the database, so their cases, notes and audit entries
        keep naming who did what.
        """
        agent = self.by_username(username)
        with self.engine.begin() as connection:
            connection.execute(agents.update().where(agents.c.id == agent.id).values(active=active))
            if not active:
                connection.execute(sessions.delete().where(sessions.c.agent_id == agent.id))
        return self.get(agent.id)

    def reset_password(self, username: str, password: str) -> Agent:
        """A new password; every session of the user ends (whoever had it is out)."""
        if len(password) < 8:
            raise ValueError("the password must have at least 8 characters")
        agent = self.by_username(username)
        with self.engine.begin() as connection:
            connection.execute(
                agents.update()
                .where(agents.c.id == agent.id)
                .values(password_hash=hash_password(password))
            )
            connection.execute(sessions.delete().where(sessions.c.agent_id == agent.id))
        return agent

    def revoke_sessions(self, username: str) -> int:
        """Ends every session of a user (a lost laptop); how many there were."""
        agent = self.by_username(username)
        with self.engine.begin() as connection:
            ended = connection.execute(sessions.delete().where(sessions.c.agent_id == agent.id))
        return int(ended.rowcount or 0)

    def prune(self, now: float | None = None) -> int:
        """Forgets expired sessions; how many."""
        now = time.time() if now is None else now
        with self.engine.begin() as connection:
            return _forget_expired(connection, now)

    def alive(self, token: str) -> bool:
        """Whether the token's session still lets its agent in (not ended, expired, disabled)."""
        try:
            self.session(token)
        except AuthError:
            return False
        return True

    def logout(self, token: str) -> None:
        """Ends a session."""
        with self.engine.begin() as connection:
            connection.execute(sessions.delete().where(sessions.c.token_hash == _digest(token)))


def _forget_expired(connection: Connection, now: float) -> int:
    """Deletes sessions past their expiry (at each login and by `hilo prune`); how many."""
    ended = connection.execute(sessions.delete().where(sessions.c.expires_at < now))
    return int(ended.rowcount or 0)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@functools.cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))
