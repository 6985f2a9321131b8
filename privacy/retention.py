"""Retention: remove what is past its period, store by store, and nothing else.

The periods are in one file, privacy/retention.yml (or `HILO_RETENTION_FILE`): conversations
(channel messages, Rasa's tracker events and the channel records, counted from the
conversation's last contact), media files, finished cases, lookup attempts and desk
sessions. `retain(stores, periods, now=...)` works out, for the moment `now`, what each store
holds past its period, and removes exactly that (or, with `dry_run`, only counts it):

- **conversations** whose last contact, in every store, is older than the period: their
  inbox and sent messages and channel record (connectors/retention.py), their tracker events,
  and a customer profile once its last conversation is gone (unless a case still names it);
  a conversation goes whole, never message by message;
- **media files** stored before the period (`HILO_MEDIA_DIR`, connectors/media_store.py);
- **finished cases** last updated before the period are anonymised as an erasure leaves
  them (privacy/inventory.py): the case stays for statistics, nothing in it says who the
  customer was; its notes and ownership record go (handoff/retention.py);
- **lookup attempts, wrong proofs and one-time codes** (the store's database) and **desk
  sessions and wrong-password counters** (the handoff's).

Never cut mid-way: a conversation people own (handed over, closed and kept with people, or
with a hand-back pending) or with an open case (queued, assigned) keeps everything whatever
its age (its messages, tracker, files and cases); so does one with a message still pending or
in a turn. Each removal checks again, in its own short transaction, that what it removes is
still past its period, so a customer who writes while the job runs keeps their conversation.

Where the stores are is privacy/stores.py's `Stores` (the variables every process reads);
Rasa's `events` table is privacy/trackers.py's (the desk, where the job runs, loads no Rasa).
The channels' and the handoff's conditions live with their tables (connectors/retention.py,
handoff/retention.py).

It runs by hand, `hilo privacy retain [--dry-run]` (`add_parser` and `run`, registered by
privacy/cli.py), or `python -m privacy.retention [--dry-run]`, and on its own schedule in
every desk process (`retention_job`, every `HILO_RETENTION_INTERVAL_HOURS`, 24 by default,
the first run a few minutes after the desk starts). On PostgreSQL one run at a time holds an
advisory lock, so several desks never run it together; SQLite is one machine, one desk. Its
output and log lines carry counts only, never what was removed.
"""

from __future__ import annotations

import argparse
import asyncio
import calendar
import contextlib
import functools
import getpass
import hashlib
import logging
import os
import re
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Connection, make_url

from actions.commerce.models import LookupAttempt, OneTimeCode, VerificationFailure
from connectors import retention as channels
from connectors.media_store import LocalMediaStore, names_in
from handoff import retention as handoff
from handoff.models import privacy_audit
from hilo import database as shared
from hilo import log_privacy
from privacy import audit
from privacy.stores import MARKERS, Stores, open_store
from privacy.trackers import events

logger = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_FILE = Path(__file__).with_name("retention.yml")
FILE_VARIABLE = "HILO_RETENTION_FILE"
INTERVAL_VARIABLE = "HILO_RETENTION_INTERVAL_HOURS"
DEFAULT_INTERVAL_HOURS = 24.0
FIRST_RUN_DELAY_SECONDS = 300.0  # after the desk starts: not in the middle of its start-up
# Conversations (or cases) per transaction: short ones, so a SQLite writer (the webhooks) never
# waits long behind a removal.
CHUNK = 200
AUTOMATIC = "retention"  # the audit's actor for the desk's scheduled runs
NOBODY = "-"  # the audit's subject: a run is about no one person
_LOCK_KEY = int.from_bytes(
    hashlib.blake2b(b"hilo.privacy.retention", digest_size=8).digest(), "big", signed=True
)


class RetentionError(Exception):
    """Retention could not run: a bad configuration (`ConfigError`)."""


class ConfigError(RetentionError, ValueError):
    """The retention file is missing, unreadable, or has a bad period (the message says which)."""


# --- periods ------------------------------------------------------------------------------

_UNITS = {"day": "days", "week": "weeks", "month": "months", "year": "years"}
_PERIOD = re.compile(r"(\d{1,5})\s*(day|week|month|year)s?", re.IGNORECASE)
_MAX_DAYS = 100 * 366


@dataclass(frozen=True)
class Period:
    """A length of time: `amount` days, weeks, months or years (calendar months and years)."""

    amount: int
    unit: str  # days | weeks | months | years

    @classmethod
    def parse(cls, text: str) -> Period:
        """A period such as "90 days", "12 months" or "1 year"; ValueError for anything else."""
        match = _PERIOD.fullmatch(text.strip())
        if match is None:
            raise ValueError(text)
        period = cls(int(match.group(1)), _UNITS[match.group(2).lower()])
        days = {"days": 1, "weeks": 7, "months": 31, "years": 366}[period.unit] * period.amount
        if period.amount < 1 or days > _MAX_DAYS:
            raise ValueError(text)
        return period

    def before(self, now: float) -> float:
        """The moment this period before `now` (Unix seconds): older than it is past."""
        if self.unit in ("days", "weeks"):
            return now - self.amount * (7 if self.unit == "weeks" else 1) * 86400
        moment = datetime.fromtimestamp(now, timezone.utc)
        months = self.amount * (12 if self.unit == "years" else 1)
        years, month = divmod(moment.month - 1 - months, 12)
        year = moment.year + years
        day = min(moment.day, calendar.monthrange(year, month + 1)[1])
        return moment.replace(year=year, month=month + 1, day=day).timestamp()

    def __str__(self) -> str:
        return f"{self.amount} {self.unit if self.amount != 1 else self.unit[:-1]}"


@dataclass(frozen=True)
class Periods:
    """How long each kind of data is kept; None keeps it forever ("never")."""

    conversations: Period | None
    media: Period | None
    closed_cases: Period | None
    lookup_attempts: Period | None
    desk_sessions: Period | None


KINDS = tuple(item.name for item in fields(Periods))


def _read(path: Path) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read ({error.strerror or error})") from error
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML ({error})") from error
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected 'kind: period' lines, e.g. 'media: 90 days'")
    unknown = sorted(str(key) for key in raw if key not in KINDS)
    if unknown:
        raise ConfigError(
            f"{path}: unknown kind(s) {', '.join(unknown)}; the kinds are {', '.join(KINDS)}"
        )
    return raw


def _period(path: Path, kind: str, value: Any) -> Period | None:
    if isinstance(value, str) and value.strip().lower() == "never":
        return None
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return Period.parse(value)
    except ValueError:
        raise ConfigError(
            f"{path}: {kind}: {value!r} is not a period; write a number and a unit, e.g. "
            f"'90 days' or '12 months' (days, weeks, months or years, at least 1 day and at "
            f"most 100 years), or 'never'"
        ) from None


def load_periods(path: Path | None = None) -> Periods:
    """The periods in `path`, else `HILO_RETENTION_FILE`, else privacy/retention.yml.

    A file that leaves a kind out keeps privacy/retention.yml's period for it. Raises
    `ConfigError` naming the file, the kind and what is wrong.
    """
    configured = os.environ.get("HILO_RETENTION_FILE", "").strip()
    path = path or (Path(configured) if configured else DEFAULT_FILE)
    values = _read(DEFAULT_FILE)
    missing = [kind for kind in KINDS if kind not in values]
    if missing:
        raise ConfigError(f"{DEFAULT_FILE}: no period for {', '.join(missing)}")
    origin = dict.fromkeys(KINDS, DEFAULT_FILE)
    if path.resolve() != DEFAULT_FILE.resolve():
        overrides = _read(path)
        values.update(overrides)
        origin.update(dict.fromkeys(overrides, path))
    return Periods(**{kind: _period(origin[kind], kind, values[kind]) for kind in KINDS})


# --- one run at a time ----------------------------------------------------------------


def _lock_url(stores: Stores) -> str | None:
    for url in (stores.handoff, stores.channels, stores.trackers, stores.commerce):
        if url and make_url(url).get_backend_name() == "postgresql":
            return url
    return None


@contextlib.contextmanager
def exclusive(stores: Stores) -> Iterator[bool]:
    """True while this process is the only one running retention; False if another is.

    A session-level advisory lock on the first PostgreSQL database of the deployment (the
    handoff's, where every desk connects), released when the block ends or the connection
    drops (a killed process). SQLite deployments are one machine with one desk: always True.
    """
    url = _lock_url(stores)
    if url is None:
        yield True
        return
    engine = shared.make_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            held = bool(
                connection.execute(sa.select(sa.func.pg_try_advisory_lock(_LOCK_KEY))).scalar()
            )
            connection.commit()
            try:
                yield held
            finally:
                # A connection lost meanwhile took the lock with it.
                if held and not connection.invalidated:
                    with contextlib.suppress(sa.exc.DBAPIError):
                        connection.execute(sa.select(sa.func.pg_advisory_unlock(_LOCK_KEY)))
                        connection.commit()
    finally:
        engine.dispose()


# --- the report ---------------------------------------------------------------------------

STORE_ORDER = ("channels", "trackers", "handoff", "media", "commerce")


@dataclass
class Report:
    """What a run removed (or, dry, would remove), per store and kind: counts only."""

    dry_run: bool
    now: float
    periods: Periods
    removed: dict[str, dict[str, int]] = field(default_factory=dict)
    kept_conversations: int = 0  # quiet past the period, kept: people own them or a case is open
    missing: list[str] = field(default_factory=list)  # stores this deployment does not have

    def add(self, store: str, counts: dict[str, int]) -> None:
        """Adds `counts` to the store's."""
        totals = self.removed.setdefault(store, {})
        for kind, count in counts.items():
            totals[kind] = totals.get(kind, 0) + count

    def total(self) -> int:
        """How many rows and files in all (bytes not counted)."""
        return sum(
            count
            for counts in self.removed.values()
            for kind, count in counts.items()
            if kind != "bytes"
        )

    def summary(self) -> str:
        """One log-friendly line: store.kind=count ..."""
        parts = [
            f"{store}.{kind}={count}"
            for store in STORE_ORDER
            for kind, count in self.removed.get(store, {}).items()
        ]
        parts.append(f"kept_conversations={self.kept_conversations}")
        return " ".join(parts)

    def lines(self) -> list[str]:
        """What `hilo privacy retain` prints."""
        day = datetime.fromtimestamp(self.now, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        head = (
            f"hilo privacy retain --dry-run ({day}): would remove, nothing changed"
            if self.dry_run
            else f"hilo privacy retain ({day}): removed"
        )
        lines = [head]
        for store in STORE_ORDER:
            if store in self.missing:
                lines.append(f"  {store + ':':<10} not found (nothing to do)")
                continue
            counts = self.removed.get(store, {})
            shown = [
                f"{_size(count)}" if kind == "bytes" else f"{count} {kind.replace('_', ' ')}"
                for kind, count in counts.items()
            ]
            lines.append(f"  {store + ':':<10} {', '.join(shown) or 'nothing'}")
        lines.append(
            f"  kept whatever their age: {self.kept_conversations} quiet conversation(s) that "
            "people own or with an open case"
        )
        periods = ", ".join(
            f"{kind.replace('_', ' ')} {getattr(self.periods, kind) or 'never'}" for kind in KINDS
        )
        lines.append(f"  periods: {periods}")
        return lines


def _size(count: int) -> str:
    return f"{count / 1_000_000:.1f} MB" if count >= 100_000 else f"{count} bytes"


# --- the run ------------------------------------------------------------------------------


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


Work = Callable[[Connection], T]


class _Run:
    """One retention run over the stores that exist (see the module docstring)."""

    def __init__(self, stores: Stores, periods: Periods, now: float, report: Report) -> None:
        self.periods = periods
        self.now = now
        self.report = report
        self.apply = not report.dry_run
        # A removal reads (is it still past its period?) then deletes: on SQLite its
        # transaction takes the write lock at BEGIN, so a writer in between cannot fail it.
        self.engines = {
            store: open_store(store, getattr(stores, store), immediate_writes=True)
            for store in MARKERS
        }
        self.media = (
            LocalMediaStore(stores.media) if stores.media and stores.media.is_dir() else None
        )
        report.missing = [store for store, engine in self.engines.items() if engine is None]
        if self.media is None:
            report.missing.append("media")

    def close(self) -> None:
        for engine in self.engines.values():
            if engine is not None:
                engine.dispose()

    def has(self, store: str) -> bool:
        return self.engines[store] is not None

    def read(self, store: str, work: Work[T], default: T) -> T:
        """`work` in a read-only transaction; `default` when the store does not exist."""
        engine = self.engines[store]
        if engine is None:
            return default
        with shared.reader(engine).connect() as connection, connection.begin():
            return work(connection)

    def write(self, store: str, work: Work[T]) -> T:
        """`work` in a transaction of its own (a dry run's only counts: it reads)."""
        engine = self.engines[store]
        if engine is None:
            raise RuntimeError(f"no {store} store")
        if self.apply:
            with engine.begin() as connection:
                return work(connection)
        with shared.reader(engine).connect() as connection, connection.begin():
            return work(connection)

    def audit(self, actor: str) -> None:
        """The run's record in the privacy audit, if the handoff database has one (0004)."""
        engine = self.engines["handoff"]
        if engine is None:
            return
        with shared.reader(engine).connect() as connection:
            if not sa.inspect(connection).has_table(privacy_audit.name):
                return
        periods = ", ".join(f"{kind} {getattr(self.periods, kind) or 'never'}" for kind in KINDS)
        audit.record(
            engine,
            action="retain",
            actor=actor,
            reason=f"retention periods: {periods}",
            subject_ref=NOBODY,
            counts=self.report.removed,
            at=self.now,
        )

    def before(self, kind: str) -> float | None:
        period: Period | None = getattr(self.periods, kind)
        return None if period is None else period.before(self.now)

    # Cases first (an anonymised case frees its profile), then the conversations and their
    # profiles, the files, the counters and the sessions.

    def run(self) -> None:
        nobody: set[str] = set()
        kept = self.read("handoff", handoff.kept_conversations, nobody)
        self.cases()
        self.conversations(kept)
        self.files(kept)
        self.counters()
        self.sessions()

    def cases(self) -> None:
        before = self.before("closed_cases")
        if before is None or not self.has("handoff"):
            return
        self.report.add(
            "handoff",
            {"cases_anonymised": 0, "notes": 0, "case_events_blanked": 0, "ownership_records": 0},
        )
        none: list[int] = []
        ids = self.read("handoff", functools.partial(handoff.expired_cases, before=before), none)
        for chunk in _chunks(ids):
            anonymise = functools.partial(
                handoff.anonymise_cases,
                case_ids=chunk,
                before=before,
                now=self.now,
                apply=self.apply,
            )
            self.report.add("handoff", self.write("handoff", anonymise))

    def conversations(self, kept: set[str]) -> None:
        before = self.before("conversations")
        if before is None:
            return
        nothing: set[str] = set()
        quiet = self.read(
            "channels", functools.partial(channels.quiet_conversations, before=before), nothing
        ) | self.read("trackers", functools.partial(_tracker_quiet, before=before), nothing)
        self.report.kept_conversations = len(quiet & kept)
        expired: list[str] = []
        for chunk in _chunks(sorted(quiet - kept)):
            active = self.read(
                "channels",
                functools.partial(channels.active_among, conversation_ids=chunk, since=before),
                nothing,
            ) | self.read(
                "trackers",
                functools.partial(_tracker_active, conversation_ids=chunk, since=before),
                nothing,
            )
            expired.extend(conversation for conversation in chunk if conversation not in active)
        profiles = self.removable_profiles(expired)
        if self.has("trackers"):
            self.report.add("trackers", {"events": 0, "conversations": 0})
            for chunk in _chunks(expired):
                forget = functools.partial(
                    _tracker_forget, conversation_ids=chunk, since=before, apply=self.apply
                )
                self.report.add("trackers", self.write("trackers", forget))
        if self.has("channels"):
            self.report.add(
                "channels",
                {"inbound_messages": 0, "outbound_messages": 0, "conversations": 0, "profiles": 0},
            )
            for chunk in _chunks(expired):
                forget = functools.partial(
                    channels.forget_conversations,
                    conversation_ids=chunk,
                    since=before,
                    apply=self.apply,
                )
                self.report.add("channels", self.write("channels", forget))
            for profile_chunk in _chunks(profiles):
                forget_profiles = functools.partial(
                    channels.forget_profiles, profile_ids=profile_chunk, apply=self.apply
                )
                self.report.add("channels", {"profiles": self.write("channels", forget_profiles)})
        if self.has("handoff"):
            for chunk in _chunks(expired):
                unlink = functools.partial(
                    handoff.unlink_reports_record, conversation_ids=chunk, apply=self.apply
                )
                self.report.add("handoff", self.write("handoff", unlink))

    def removable_profiles(self, expired: list[str]) -> list[int]:
        """Profiles all of whose conversations this run removes, and that no case names."""
        if not self.has("channels") or not expired:
            return []
        going = set(expired)
        profiles: dict[int, set[str]] = {}
        none: dict[int, set[str]] = {}
        for chunk in _chunks(expired):
            found = self.read(
                "channels", functools.partial(channels.profiles_of, conversation_ids=chunk), none
            )
            for profile, ids in found.items():
                profiles.setdefault(profile, set()).update(ids)
        unused: set[int] = set()
        in_use = self.read(
            "handoff",
            functools.partial(handoff.profiles_in_use, cases_before=self.before("closed_cases")),
            unused,
        )
        return sorted(
            profile for profile, ids in profiles.items() if ids <= going and profile not in in_use
        )

    def files(self, kept: set[str]) -> None:
        before = self.before("media")
        if before is None or self.media is None:
            return
        old = [item for item in self.media.files() if item.modified_at < before]
        keep: set[str] = set()
        nothing: set[str] = set()
        no_cases: list[str] = []
        if old and kept:
            for chunk in _chunks(sorted(kept)):
                keep |= self.read(
                    "channels",
                    functools.partial(channels.media_names, conversation_ids=chunk),
                    nothing,
                )
                listings = self.read(
                    "handoff",
                    functools.partial(handoff.case_files, conversation_ids=chunk),
                    no_cases,
                )
                for listing in listings:
                    keep |= names_in(listing)
        counts = {"files": 0, "bytes": 0}
        for item in old:
            if item.name in keep:
                continue
            if self.apply and not self.media.remove(item):
                continue  # gone meanwhile
            counts["files"] += 1
            counts["bytes"] += item.size
        self.report.add("media", counts)

    def counters(self) -> None:
        before = self.before("lookup_attempts")
        if before is None or not self.has("commerce"):
            return
        cutoff = datetime.fromtimestamp(before, timezone.utc)
        for kind, column in (
            ("lookup_attempts", LookupAttempt.__table__.c.at),
            ("verification_failures", VerificationFailure.__table__.c.at),
            ("one_time_codes", OneTimeCode.__table__.c.expires_at),
        ):
            forget = functools.partial(
                _remove, table=column.table, condition=column < cutoff, apply=self.apply
            )
            self.report.add("commerce", {kind: self.write("commerce", forget)})

    def sessions(self) -> None:
        before = self.before("desk_sessions")
        if before is None or not self.has("handoff"):
            return
        sessions = functools.partial(
            handoff.forget_sessions, before=before, now=self.now, apply=self.apply
        )
        attempts = functools.partial(
            handoff.forget_login_attempts, before=before, now=self.now, apply=self.apply
        )
        self.report.add(
            "handoff",
            {
                "sessions": self.write("handoff", sessions),
                "login_attempts": self.write("handoff", attempts),
            },
        )


def _remove(connection: Connection, *, table: Any, condition: Any, apply: bool) -> int:
    if apply:
        return int(connection.execute(table.delete().where(condition)).rowcount or 0)
    count = sa.select(sa.func.count()).select_from(table).where(condition)
    return int(connection.execute(count).scalar() or 0)


def _tracker_quiet(connection: Connection, before: float) -> set[str]:
    query = (
        sa.select(events.c.sender_id)
        .group_by(events.c.sender_id)
        .having(sa.func.max(events.c.timestamp) < before)
    )
    return {row.sender_id for row in connection.execute(query)}


def _tracker_active(
    connection: Connection, conversation_ids: Iterable[str], since: float
) -> set[str]:
    ids = list(conversation_ids)
    if not ids:
        return set()
    query = (
        sa.select(events.c.sender_id)
        .where(events.c.sender_id.in_(ids), events.c.timestamp >= since)
        .distinct()
    )
    return {row.sender_id for row in connection.execute(query)}


def _tracker_forget(
    connection: Connection, conversation_ids: Sequence[str], since: float, *, apply: bool
) -> dict[str, int]:
    """A conversation's events, all of them, if it has none since `since` (checked again)."""
    ids = sorted(set(conversation_ids) - _tracker_active(connection, conversation_ids, since))
    if not ids:
        return {"events": 0, "conversations": 0}
    present = connection.execute(
        sa.select(sa.func.count(sa.distinct(events.c.sender_id))).where(events.c.sender_id.in_(ids))
    ).scalar()
    removed = _remove(connection, table=events, condition=events.c.sender_id.in_(ids), apply=apply)
    return {"events": removed, "conversations": int(present or 0)}


def retain(
    stores: Stores,
    periods: Periods,
    *,
    now: float | None = None,
    dry_run: bool = False,
    actor: str = AUTOMATIC,
) -> Report:
    """Removes (or, `dry_run`, counts) what is past its period at `now` (default: the clock).

    A run that removed anything leaves a record in the privacy audit (privacy/audit.py):
    `actor`, the periods and the counts. Take `exclusive(stores)` around it when another
    process may run it too (`retain_now` does).
    """
    report = Report(dry_run=dry_run, now=time.time() if now is None else now, periods=periods)
    run = _Run(stores, periods, report.now, report)
    try:
        run.run()
        if not dry_run and report.total():
            run.audit(actor)
    finally:
        run.close()
    return report


def retain_now(
    *,
    dry_run: bool = False,
    stores: Stores | None = None,
    periods: Periods | None = None,
    now: float | None = None,
    actor: str = AUTOMATIC,
) -> Report | None:
    """One run on this deployment's stores under the lock; None if another process has it."""
    periods = periods or load_periods()
    stores = stores or Stores.from_environment()
    with exclusive(stores) as alone:
        if not alone:
            logger.info("privacy.retention.skipped reason=another_run dry_run=%s", dry_run)
            return None
        started = time.monotonic()
        report = retain(stores, periods, now=now, dry_run=dry_run, actor=actor)
    logger.info(
        "privacy.retention.done dry_run=%s seconds=%.1f %s",
        dry_run,
        time.monotonic() - started,
        report.summary(),
    )
    return report


# --- the command --------------------------------------------------------------------------


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Adds `retain [--dry-run]` to `hilo privacy`'s subcommands (an argparse subparsers)."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "retain",
        help="remove what is past its retention period (privacy/retention.yml)",
        description=(
            "Remove what is past its retention period, per store: conversations quiet for "
            "longer than their period, old media files, finished cases, lookup attempts and "
            "desk sessions. Conversations people own or with an open case are kept."
        ),
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print what would be removed, per store, and change nothing",
    )
    return parser


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):
        return "cli"


def run(args: argparse.Namespace) -> int:
    """`hilo privacy retain [--dry-run]`: 0 done, 1 another run holds the lock, 2 bad config."""
    try:
        report = retain_now(dry_run=bool(getattr(args, "dry_run", False)), actor=_actor())
    except ConfigError as error:
        print(f"hilo privacy retain: {error}", file=sys.stderr)
        return 2
    if report is None:
        print(
            "hilo privacy retain: another retention run is in progress (a desk or another "
            "command); nothing done",
            file=sys.stderr,
        )
        return 1
    print("\n".join(report.lines()))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m privacy.retention [--dry-run]`."""
    log_privacy.install()
    parser = argparse.ArgumentParser(prog="python -m privacy.retention")
    commands = parser.add_subparsers(dest="command")
    add_parser(commands)
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments or arguments[0] != "retain":
        arguments.insert(0, "retain")
    return run(parser.parse_args(arguments))


# --- the schedule -------------------------------------------------------------------------


def interval_seconds() -> float | None:
    """`HILO_RETENTION_INTERVAL_HOURS` (default 24) in seconds; None: the job is off (0)."""
    raw = os.environ.get("HILO_RETENTION_INTERVAL_HOURS", "").strip()
    try:
        hours = float(raw) if raw else DEFAULT_INTERVAL_HOURS
    except ValueError:
        raise ConfigError(f"{INTERVAL_VARIABLE}={raw!r} is not a number of hours") from None
    if hours != hours or hours < 0:  # NaN or negative
        raise ConfigError(f"{INTERVAL_VARIABLE}={raw!r} is not a number of hours")
    return None if hours == 0 else hours * 3600


async def run_periodically(once: Callable[[], object], *, first_delay: float, every: float) -> None:
    """Runs `once` in a thread after `first_delay` seconds, then every `every`, until cancelled.

    A run that fails is logged (its error's type only) and the next one runs on time.
    """
    delay = first_delay
    while True:
        await asyncio.sleep(delay)
        delay = every
        try:
            await asyncio.to_thread(once)
        except Exception as error:  # a database down, a disk error: the next run tries again
            logger.warning("privacy.retention.failed error=%s", type(error).__name__)


def scheduled_run() -> None:
    """One scheduled run (the desk's job): the configuration is read again each time."""
    retain_now(dry_run=False)


async def retention_job(app: object) -> AsyncIterator[None]:
    """The desk's retention job (an aiohttp cleanup context: `app.cleanup_ctx.append`).

    Checks the configuration at start-up, so a bad file stops the desk with its error
    rather than failing unseen a day later.
    """
    every = interval_seconds()
    if every is None:
        logger.info("privacy.retention.off %s=0", INTERVAL_VARIABLE)
        yield
        return
    load_periods()
    task = asyncio.create_task(
        run_periodically(
            scheduled_run, first_delay=min(FIRST_RUN_DELAY_SECONDS, every), every=every
        )
    )
    logger.info("privacy.retention.scheduled every_hours=%g", every / 3600)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


if __name__ == "__main__":
    sys.exit(main())
