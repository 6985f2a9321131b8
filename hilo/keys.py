"""Secrets every process reads the same way: from the environment, or generated for development.

In production a missing secret stops the process with the variable to set. In development
(`make run` on a laptop) it is generated once into var/<name>.secret (`HILO_VAR_DIR` moves
var/), readable by its owner only, so the Rasa server, the action server and the desk, started
at the same moment, agree on it without anyone typing it. Secrets never go on a command line
(`ps` shows those).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from hilo.profile import is_production


class MissingSecret(RuntimeError):
    """A secret production needs is not set."""


def secret(variable: str, name: str) -> str:
    """The value of `variable`, else (development only) the one kept in var/<name>.secret."""
    value = os.environ.get(variable, "").strip()
    if value:
        return value
    if is_production():
        raise MissingSecret(f"set {variable} (required with HILO_ENV=production)")
    return _generated(Path(os.environ.get("HILO_VAR_DIR", "var")) / f"{name}.secret")


def _generated(path: Path) -> str:
    """The secret in `path`, created atomically on first use (processes may race for it)."""
    if path.is_file():
        value = path.read_text().strip()
        if value:
            return value
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_urlsafe(32) + "\n")
    try:
        os.link(draft, path)  # fails if another process made it first: theirs wins
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return path.read_text().strip()


def rasa_jwt_secret() -> str:
    """Signs the tokens of Rasa's HTTP API (the desk's replies and hand-backs go through it)."""
    return secret("HILO_RASA_JWT_SECRET", "rasa-jwt")


def actions_token() -> str:
    """The shared token the Rasa server sends and the action server checks (in production)."""
    return secret("HILO_ACTIONS_TOKEN", "actions-token")


def signing_key() -> bytes:
    """Hilo's own key: sealed ownership proofs, signed links, keyed pseudonyms in logs."""
    return secret("HILO_SECRET_KEY", "hilo").encode()
