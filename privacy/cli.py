r"""`hilo privacy`: answer a person's erasure or access request from the command line.

    hilo privacy erase  (--phone P | --email E | --conversation C)... --reason R
                        [--actor NAME] [--yes]
    hilo privacy export (--phone P | --email E | --conversation C)... --out FILE.zip
                        [--reason R] [--actor NAME] [--internal-notes]
    hilo privacy retain [--dry-run]          (privacy/retention.py, when present)

The stores are this deployment's (the same environment variables the processes read,
privacy/stores.py). `erase` shows how many conversations, profiles and orders it found and
asks for confirmation on a terminal; elsewhere it needs `--yes`. Both are audited with
the actor (default: `cli:<login name>`) and the reason. docs/privacy.md.

Retention hook: the retention job lives in `privacy/retention.py`, which exposes
`add_parser(subparsers)` (it adds its `retain` subcommand to `hilo privacy`) and
`run(args) -> int` (it runs it). This module registers it when that module exists and
runs without it otherwise; nothing else is needed to wire it in.
"""

from __future__ import annotations

import argparse
import getpass
import importlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from privacy.stores import Stores
    from privacy.subject import Request

RETENTION_MODULE = "privacy.retention"
CONFIRM_WORD = "erase"


def _retention() -> ModuleType | None:
    """privacy/retention.py, if it is there (imported only when `hilo privacy` runs)."""
    try:
        return importlib.import_module(RETENTION_MODULE)
    except ModuleNotFoundError as error:
        if error.name != RETENTION_MODULE:
            raise  # the module is there but something it imports is not: say so
        return None


def _who(parser: argparse.ArgumentParser) -> None:
    who = parser.add_argument_group("who (at least one; repeat for a person known by more)")
    who.add_argument("--phone", action="append", default=[], help="a phone, with country code")
    who.add_argument("--email", action="append", default=[], help="an email address")
    who.add_argument(
        "--conversation",
        action="append",
        default=[],
        help='a conversation id, e.g. "telegram:1111" or "twilio:whatsapp:+5215512345678"',
    )
    parser.add_argument(
        "--actor", help="who is answering the request, for the audit (default: cli:<login>)"
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`erase`, `export` (and `retain`, see the module docstring) under `parser`."""
    commands = parser.add_subparsers(dest="privacy_command", required=True)
    erase = commands.add_parser(
        "erase", help="erase everything about a person (audited; cannot be undone)"
    )
    _who(erase)
    erase.add_argument("--reason", required=True, help="why: the request's reference, the law")
    erase.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    export = commands.add_parser("export", help="write everything about a person to a zip")
    _who(export)
    export.add_argument("--out", required=True, type=Path, help="the archive to write (.zip)")
    export.add_argument("--reason", default="access request", help="why (for the audit)")
    export.add_argument(
        "--internal-notes",
        action="store_true",
        help="also the agents' internal notes on the person's cases",
    )
    retention = _retention()
    if retention is not None:
        retention.add_parser(commands)


def _actor(args: argparse.Namespace) -> str:
    if args.actor:
        return str(args.actor)
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):
        return "cli"


def run(args: argparse.Namespace) -> int:
    """Runs the parsed `hilo privacy …` command."""
    if args.privacy_command not in ("erase", "export"):
        retention = _retention()
        if retention is None:
            print(f"hilo: unknown privacy command {args.privacy_command}", file=sys.stderr)
            return 2
        return int(retention.run(args))

    from privacy.stores import HandoffMissing, Stores
    from privacy.subject import BadRequest, Request

    try:
        request = Request.of(phones=args.phone, emails=args.email, conversations=args.conversation)
    except BadRequest as error:
        print(f"hilo: {error}", file=sys.stderr)
        return 2
    stores = Stores.from_environment()
    try:
        if args.privacy_command == "export":
            return _export(request, stores, args)
        return _erase(request, stores, args)
    except HandoffMissing as error:
        print(f"hilo: {error}", file=sys.stderr)
        return 1


def _export(request: Request, stores: Stores, args: argparse.Namespace) -> int:
    from privacy.export import export

    done = export(
        request,
        stores,
        args.out,
        actor=_actor(args),
        reason=args.reason,
        internal_notes=args.internal_notes,
    )
    print(f"hilo: wrote {args.out} (audit #{done.audit_id})")
    print(json.dumps({"found": done.found, "counts": done.counts}, indent=2))
    return 0


def _erase(request: Request, stores: Stores, args: argparse.Namespace) -> int:
    from privacy.erase import erase, preview

    if not args.reason.strip():
        print("hilo: give a --reason (it is kept in the audit)", file=sys.stderr)
        return 2
    if not args.yes:
        if not sys.stdin.isatty():
            print(
                "hilo: erasing cannot be undone: pass --yes to erase without a terminal",
                file=sys.stderr,
            )
            return 2
        found = preview(request, stores)
        print("hilo: found " + _found(found))
        typed = input(
            f"Erase everything about this person? It cannot be undone. "
            f"Type '{CONFIRM_WORD}' to go on: "
        )
        if typed.strip().lower() != CONFIRM_WORD:
            print("hilo: nothing erased")
            return 1
    done = erase(request, stores, actor=_actor(args), reason=args.reason)
    print(
        f"hilo: erased {done.total} records and files of {_found(done.found)} "
        f"(audit #{done.audit_id})"
    )
    print(json.dumps(done.counts, indent=2, sort_keys=True))
    return 0


def _found(found: dict[str, object]) -> str:
    channels = found.get("channels") or []
    on = f" on {', '.join(map(str, channels))}" if isinstance(channels, list) and channels else ""
    return (
        f"{found.get('conversations', 0)} conversation(s){on}, "
        f"{found.get('profiles', 0)} profile(s), {found.get('orders', 0)} order(s)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m privacy.cli …` (the same as `hilo privacy …`)."""
    from hilo import log_privacy

    log_privacy.install()
    parser = argparse.ArgumentParser(prog="hilo privacy", description=__doc__.split("\n")[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    from handoff.database import migrate

    migrate()  # the audit table
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
