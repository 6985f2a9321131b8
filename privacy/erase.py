"""Erasure: everything Hilo holds about a person, removed or irreversibly anonymised.

`erase(request, stores, actor=…, reason=…)` finds the person in every store
(privacy/subject.py), has each store's owner erase its part, and audits the request:

1. the media files their messages and cases refer to (photos, documents, the bot's invoices)
   are listed first, while the messages that name them still exist;
2. the store (actions/commerce/personal_data.py): their orders stay for the business's
   books, with the name, contacts and address blanked; lookups, wrong proofs and codes go;
3. Rasa's trackers (privacy/trackers.py): every event of their conversations;
4. the handoff (handoff/personal_data.py): cases stay for statistics, anonymised; notes,
   audit details and ownership records go;
5. the media store (connectors/media_store.py) and development's saved emails
   (actions/mailer.py): the files;
6. the channels last (connectors/personal_data.py): messages, conversations and profiles.
   The profiles are what links the person's channels, so a run interrupted before this
   step still finds every identity when it is run again;
7. one audit row (privacy/audit.py): who, when, why, how many of each kind, and a keyed
   pseudonym of the person, never the data.

It is idempotent: a second run finds nothing, erases nothing and succeeds (and is audited,
as a request answered). Each store is erased in its own transaction; the stores are
separate databases, so the whole is not atomic, which the order above makes safe to retry.
A customer who writes again afterwards is a new customer: a new profile, a new tracker,
no case.

Logs name the request by its pseudonym only.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from actions.commerce import personal_data as commerce_data
from actions.mailer import erase_saved_mail
from connectors import personal_data as channel_data
from connectors.media_store import LocalMediaStore
from handoff import personal_data as case_data
from privacy import audit, trackers
from privacy.stores import Engines, Stores, opened
from privacy.subject import Request, Subject, resolve

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Erasure:
    """What an erasure did: the person's pseudonym, what was found, counts per store."""

    subject_ref: str
    found: dict[str, Any]
    counts: dict[str, dict[str, int]]
    audit_id: int

    @property
    def total(self) -> int:
        """How many records and files were erased in all."""
        return sum(sum(kinds.values()) for kinds in self.counts.values())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (no personal data: pseudonym, counts and channel names)."""
        return {
            "subject_ref": self.subject_ref,
            "found": self.found,
            "counts": self.counts,
            "total": self.total,
            "audit_id": self.audit_id,
        }


def media_names(subject: Subject, engines: Engines) -> set[str]:
    """The stored files the person's messages and cases refer to."""
    names: set[str] = set()
    if engines.channels is not None:
        names |= channel_data.media_names(engines.channels, subject.conversation_ids)
    for url in case_data.media_urls(engines.handoff, subject.conversation_ids):
        name = channel_data.stored_name(url)
        if name:
            names.add(name)
    return names


def preview(request: Request, stores: Stores) -> dict[str, Any]:
    """What an erasure would find (counts and channel names), changing nothing."""
    with opened(stores) as engines:
        return resolve(request, engines).summary()


def erase(
    request: Request,
    stores: Stores,
    *,
    actor: str,
    reason: str,
    now: float | None = None,
) -> Erasure:
    """Erases the person `request` names from every store; audits it (module docstring).

    Args:
        request: The phones, emails or conversations the person is known by.
        stores: Where the stores are (`Stores.from_environment()` for this deployment's).
        actor: Who is erasing ("desk:ana", "cli:root"): kept in the audit.
        reason: Why (a ticket, the law): kept in the audit, phones and emails masked.
        now: The time the cases record as their erasure (default: now).

    Raises:
        privacy.stores.HandoffMissing: the handoff database is not migrated.
    """
    if not reason.strip():
        raise ValueError("an erasure needs a reason")
    now = time.time() if now is None else now
    ref = request.ref()
    with opened(stores) as engines:
        subject = resolve(request, engines)
        files = media_names(subject, engines)
        counts: dict[str, dict[str, int]] = {}
        if engines.commerce is not None:
            counts["commerce"] = commerce_data.erase(
                engines.commerce,
                phones=subject.phones,
                emails=subject.emails,
                conversation_ids=subject.conversation_ids,
            )
        if engines.trackers is not None:
            counts["trackers"] = trackers.erase(engines.trackers, subject.conversation_ids)
        counts["handoff"] = case_data.erase(engines.handoff, subject.conversation_ids, now=now)
        if engines.media is not None:
            media = LocalMediaStore(engines.media)
            counts["media"] = {"files": sum(media.delete(name) for name in sorted(files))}
        if engines.mail is not None:
            counts["mail"] = {"files": erase_saved_mail(set(subject.emails), engines.mail)}
        if engines.channels is not None:
            counts["channels"] = channel_data.erase(
                engines.channels, subject.conversation_ids, subject.profile_ids
            )
        audit_id = audit.record(
            engines.handoff,
            action="erase",
            actor=actor,
            reason=reason,
            subject_ref=ref,
            counts=counts,
            at=now,
        )
    erasure = Erasure(ref, subject.summary(), counts, audit_id)
    logger.info(
        "privacy.erased subject=%s audit=%d conversations=%d records=%d",
        ref,
        audit_id,
        len(subject.conversation_ids),
        erasure.total,
    )
    return erasure
