"""Which profile a process runs in: `development` (the default) or `production`.

`make run` is the development profile: Rasa's REST channel and the sandbox page are mounted,
answering only on this machine, and missing secrets are generated under var/. `HILO_ENV=production`
is what a deployment sets: the REST channel and the sandbox are not mounted, the action server
checks a shared token, and every secret must come from the environment (docs/security.md).

An unknown value is an error, not development: a typo in a production environment must not
quietly open the local-only routes.
"""

from __future__ import annotations

import os
from enum import Enum

ENV_VARIABLE = "HILO_ENV"


class Profile(str, Enum):
    """The two ways Hilo runs."""

    DEVELOPMENT = "development"
    PRODUCTION = "production"


class UnknownProfile(ValueError):
    """`HILO_ENV` names no profile."""


def current() -> Profile:
    """The profile named by `HILO_ENV` (unset or empty: development)."""
    value = os.environ.get(ENV_VARIABLE, "").strip().lower()
    if not value:
        return Profile.DEVELOPMENT
    try:
        return Profile(value)
    except ValueError:
        raise UnknownProfile(
            f"{ENV_VARIABLE}={value!r} is not a profile: use development or production"
        ) from None


def is_production() -> bool:
    """Whether this process runs with `HILO_ENV=production`."""
    return current() is Profile.PRODUCTION
