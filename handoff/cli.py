r"""`hilo`: the desk and its users from the command line (installed in .venv/bin/).

    hilo desk [--port 8080]                        start the agent desk
    hilo users create NAME --role agent|designer|supervisor|admin [--display-name N] [--team T]
                                                   password read from standard input
    hilo users list
    hilo users deactivate|activate NAME            keep a user out (sessions end) / let in
    hilo users reset-password NAME                 new password from standard input
    hilo users revoke NAME                         end every session of a user
    hilo migrate                                   bring the handoff database up to date
    hilo prune                                     forget expired sessions, old login counters
    hilo privacy erase|export …                    a person's erasure or access request
                                                   (privacy/cli.py, docs/privacy.md)
    hilo privacy retain [--dry-run]                remove what is past its retention period
                                                   (privacy/retention.py; the desk runs it
                                                   every HILO_RETENTION_INTERVAL_HOURS)
    hilo webhooks status|replay|run …              the CRM feed's deliveries (crm/cli.py,
                                                   docs/webhooks.md; the desk runs the
                                                   worker when HILO_WEBHOOK_URL is set)
    hilo export --since DATE --format jsonl [--output FILE]
                                                   messages, cases and CSAT as JSON lines
    hilo nlu candidates [--status new|accepted|rejected] [--export FILE]
                                                   the designer's loop: messages the bot did
                                                   not understand; the accepted ones as Rasa
                                                   training data (handoff/nlu_candidates.py)

Passwords are never taken from the command line (they would land in the shell history and
the process list): `hilo users create` asks for one on a terminal, or reads the first line
of standard input (`printf '%s\n' "$PASSWORD" | hilo users create ana --role agent`).
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from handoff.auth import Accounts, UserExists
from handoff.database import make_engine, migrate
from handoff.models import ROLES
from handoff.nlu_candidates import Candidates
from handoff.store import NotFound
from handoff.throttle import LoginThrottle
from hilo import log_privacy


def _password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != first:
            raise SystemExit("hilo: the passwords do not match")
        return first
    return sys.stdin.readline().rstrip("\n")


def _desk(port: int) -> int:
    from aiohttp import web

    from crm.delivery import webhook_job
    from handoff.desk.app import AccessLog, create_app
    from privacy.retention import retention_job

    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    migrate()
    app = create_app()
    # Retention runs here: a process of every deployment that is not on the message path
    # (privacy/retention.py; HILO_RETENTION_INTERVAL_HOURS, 0 turns it off).
    app.cleanup_ctx.append(retention_job)
    # The CRM feed's worker (crm/delivery.py): on only when HILO_WEBHOOK_URL is set.
    app.cleanup_ctx.append(webhook_job)
    web.run_app(
        app,
        host=os.environ.get("HILO_DESK_HOST", "0.0.0.0"),  # noqa: S104 (a server: all interfaces)
        port=port,
        access_log_class=AccessLog,
    )
    return 0


def _nlu_candidates(candidates: Candidates, status: str, export: Path | None) -> int:
    """Lists groups of candidates, or writes the accepted ones as training data."""
    if export is not None:
        counts = candidates.export(export)
        print(
            f"hilo: wrote {counts['examples']} examples to {export}; left out "
            f"{counts['personal']} with an email, phone or number and "
            f"{counts['already_known']} already in data/nlu"
        )
        return 0
    for group in candidates.groups(status):
        why = ",".join(sorted(group.why))
        label = group.label or group.suggested or "-"
        print(f"{group.id}\t{group.count}\t{why}\t{label}\t{group.text}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """The `hilo` command."""
    log_privacy.install()
    parser = argparse.ArgumentParser(prog="hilo", description="Hilo's agent desk")
    commands = parser.add_subparsers(dest="command", required=True)
    desk = commands.add_parser("desk", help="start the agent desk")
    desk.add_argument("--port", type=int, default=int(os.environ.get("HILO_DESK_PORT", "8080")))
    users = commands.add_parser("users", help="desk users").add_subparsers(
        dest="users_command", required=True
    )
    create = users.add_parser("create", help="create a user (password from standard input)")
    create.add_argument("name")
    create.add_argument("--role", choices=ROLES, required=True)
    create.add_argument("--display-name")
    create.add_argument("--team")
    create.add_argument("--capacity", type=int, default=5)
    users.add_parser("list", help="list users")
    for name, text in (
        ("deactivate", "keep a user out (their sessions end; their history stays)"),
        ("activate", "let a deactivated user in again"),
        ("reset-password", "set a new password (from standard input); their sessions end"),
        ("revoke", "end every session of a user"),
    ):
        users.add_parser(name, help=text).add_argument("name")
    commands.add_parser("migrate", help="bring the handoff database up to date")
    commands.add_parser("prune", help="forget expired sessions and old login attempts")
    privacy = commands.add_parser(
        "privacy", help="erase or export everything about a person (docs/privacy.md)"
    )
    from privacy.cli import add_arguments as privacy_arguments  # its commands load on use

    privacy_arguments(privacy)
    from crm.cli import add_export_arguments, add_webhooks_arguments

    add_webhooks_arguments(
        commands.add_parser("webhooks", help="the CRM feed's deliveries (docs/webhooks.md)")
    )
    add_export_arguments(
        commands.add_parser("export", help="messages, cases and CSAT as JSON lines")
    )
    nlu = commands.add_parser("nlu", help="the designer's loop (handoff/nlu_candidates.py)")
    candidates = nlu.add_subparsers(dest="nlu_command", required=True).add_parser(
        "candidates", help="training candidates: list them, or export the accepted ones"
    )
    candidates.add_argument("--status", choices=("new", "accepted", "rejected"), default="new")
    candidates.add_argument(
        "--export", type=Path, metavar="FILE", help="write the accepted ones as Rasa NLU data"
    )
    args = parser.parse_args(argv)

    if args.command == "desk":
        return _desk(args.port)
    migrate()
    if args.command == "migrate":
        print("hilo: the handoff database is up to date")
        return 0
    if args.command == "privacy":
        from privacy.cli import run as privacy_run

        return privacy_run(args)
    if args.command in ("webhooks", "export"):
        from crm.cli import run_export, run_webhooks

        return run_webhooks(args) if args.command == "webhooks" else run_export(args)
    engine = make_engine()
    if args.command == "nlu":
        return _nlu_candidates(Candidates(engine), args.status, args.export)
    accounts = Accounts(engine)
    if args.command == "prune":
        sessions, attempts = accounts.prune(), LoginThrottle(engine).prune()
        print(f"hilo: forgot {sessions} expired sessions and {attempts} old login counters")
        return 0
    if args.users_command != "create" and args.users_command != "list":
        return _manage(accounts, args.users_command, args.name)
    if args.users_command == "list":
        for agent in accounts.all():
            print(f"{agent.username}\t{agent.role}\t{agent.display_name}\t{agent.team or '-'}")
        return 0
    try:
        agent = accounts.create(
            args.name,
            _password(),
            role=args.role,
            display_name=args.display_name,
            team=args.team,
            capacity=args.capacity,
        )
    except UserExists:
        print(f"hilo: the user {args.name} already exists", file=sys.stderr)
        return 1
    except ValueError as error:
        print(f"hilo: {error}", file=sys.stderr)
        return 2
    print(f"hilo: created {agent.username} ({agent.role})")
    return 0


def _manage(accounts: Accounts, command: str, name: str) -> int:
    """deactivate, activate, reset-password, revoke."""
    try:
        if command == "deactivate":
            accounts.set_active(name, False)
            print(f"hilo: {name} is deactivated; their sessions ended")
        elif command == "activate":
            accounts.set_active(name, True)
            print(f"hilo: {name} can log in again")
        elif command == "reset-password":
            accounts.reset_password(name, _password())
            print(f"hilo: new password for {name}; their sessions ended")
        else:
            print(f"hilo: ended {accounts.revoke_sessions(name)} sessions of {name}")
    except NotFound:
        print(f"hilo: there is no user {name}", file=sys.stderr)
        return 1
    except ValueError as error:
        print(f"hilo: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
