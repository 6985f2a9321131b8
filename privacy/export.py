"""Access requests: one zip archive with everything Hilo holds about a person.

`export(request, stores, out, actor=…, reason=…)` finds the person in every store
(privacy/subject.py), asks each store's owner for their part, and writes one archive:

    subject.json    who the request named, and every identity found: phones, emails,
                    customer profiles with their channels, conversations, order numbers
    messages.json   every message in both directions, oldest first: when, channel,
                    conversation, who wrote it (customer, bot, agent), text, files, delivery
    cases.json      every handoff case: why, when, status, what the bot collected (slots),
                    its summary and outcome, and the agents' messages to the customer
                    during it (internal notes only with `internal_notes=True`)
    orders.json     their orders as the bot saw them: items, amounts, status, delivery,
                    contacts, address, returns
    trackers.json   each conversation as the bot understood it: the slots it kept (latest
                    values) and every customer message with its intent and metadata
    media/          the files themselves: photos and documents they sent, invoices sent
    README.txt      this list, in Spanish and English

JSON in UTF-8; times are Unix seconds (UTC) or ISO 8601 dates. The export is audited like
an erasure (privacy/audit.py), with counts and no data.
"""

from __future__ import annotations

import io
import json
import logging
import os
import time
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from actions.commerce import personal_data as commerce_data
from connectors import personal_data as channel_data
from connectors.media_store import LocalMediaStore
from handoff import personal_data as case_data
from privacy import audit, trackers
from privacy.erase import media_names
from privacy.stores import Stores, opened
from privacy.subject import Request, resolve

logger = logging.getLogger(__name__)

README = """\
Datos personales que guarda Hilo · Personal data Hilo holds
============================================================

Exportado / exported: {when} (UTC)

subject.json   Quién pidió los datos y cada identidad encontrada: teléfonos, correos,
               perfiles de cliente con sus canales, conversaciones, números de pedido.
               Who asked, and every identity found: phones, emails, customer profiles with
               their channels, conversations, order numbers.
messages.json  Todos los mensajes, en ambos sentidos, del más antiguo al más reciente:
               cuándo, canal, conversación, quién lo escribió (cliente, bot, agente),
               texto, archivos y entrega.
               Every message in both directions, oldest first: when, channel,
               conversation, who wrote it (customer, bot, agent), text, files, delivery.
cases.json     Cada caso atendido por personas: motivo, fechas, estado, datos que recogió
               el bot, resumen, resultado y los mensajes de los agentes al cliente.
               Every case handled by people: reason, times, status, the data the bot
               collected, summary, outcome and the agents' messages to the customer.
orders.json    Los pedidos tal como los vio el bot: artículos, importes, estado, entrega,
               contacto, dirección y devoluciones.
               The orders as the bot saw them: items, amounts, status, delivery, contact,
               address and returns.
trackers.json  Cada conversación como la entendió el bot: los datos que guardó (slots) y
               cada mensaje del cliente con su intención y metadatos.
               Each conversation as the bot understood it: the data it kept (slots) and
               every customer message with its intent and metadata.
media/         Los archivos: fotos y documentos enviados por el cliente, facturas enviadas.
               The files: photos and documents the customer sent, invoices sent to them.

Horas en segundos Unix (UTC) o fechas ISO 8601 · Times in Unix seconds (UTC) or ISO 8601.
"""


@dataclass(frozen=True)
class Export:
    """What an export handed over: the person's pseudonym, counts per store, the audit row."""

    subject_ref: str
    found: dict[str, Any]
    counts: dict[str, dict[str, int]]
    audit_id: int


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n"


def export(
    request: Request,
    stores: Stores,
    out: Path | IO[bytes],
    *,
    actor: str,
    reason: str,
    internal_notes: bool = False,
) -> Export:
    """Writes the person's archive to `out` (a path or a binary file); audits it.

    Args:
        request: The phones, emails or conversations the person is known by.
        stores: Where the stores are (`Stores.from_environment()`).
        out: Where the zip goes.
        actor: Who is exporting: kept in the audit.
        reason: Why: kept in the audit, phones and emails masked.
        internal_notes: Also the agents' internal notes on the person's cases.

    Raises:
        privacy.stores.HandoffMissing: the handoff database is not migrated.
    """
    if not reason.strip():
        raise ValueError("an export needs a reason")
    ref = request.ref()
    now = time.time()
    with opened(stores) as engines:
        subject = resolve(request, engines)
        conversations = subject.conversation_ids
        profiles = (
            channel_data.profiles_of(engines.channels, conversations) if engines.channels else []
        )
        messages = (
            channel_data.messages(engines.channels, conversations) if engines.channels else []
        )
        cases = case_data.cases_of(engines.handoff, conversations, internal_notes=internal_notes)
        for case in cases:
            until = case["resolved_at"] or now
            case["agent_messages"] = [
                {"at": m["at"], "author": m.get("author"), "text": m["text"], "files": m["files"]}
                for m in messages
                if m["direction"] == "out"
                and m["from"] == "agent"
                and m["conversation_id"] == case["conversation_id"]
                and case["opened_at"] <= m["at"] <= until
            ]
        orders = (
            commerce_data.orders_of(engines.commerce, phones=subject.phones, emails=subject.emails)
            if engines.commerce
            else []
        )
        tracked = trackers.export(engines.trackers, conversations) if engines.trackers else []
        names = media_names(subject, engines)
        media = LocalMediaStore(engines.media) if engines.media is not None else None
        files = {name: media.path(name) for name in sorted(names)} if media else {}
        described = {
            "requested_with": {
                "phones": list(request.phones),
                "emails": list(request.emails),
                "conversations": list(request.conversations),
            },
            "exported_at": now,
            "phones": list(subject.phones),
            "emails": list(subject.emails),
            "profiles": profiles,
            "conversations": list(conversations),
            "orders": list(subject.order_numbers),
        }
        counts = {
            "channels": {"messages": len(messages), "profiles": len(profiles)},
            "handoff": {"cases": len(cases)},
            "commerce": {"orders": len(orders)},
            "trackers": {
                "conversations": len(tracked),
                "messages": sum(len(t["messages"]) for t in tracked),
            },
            "media": {"files": sum(1 for path in files.values() if path is not None)},
        }
        _write(out, described, messages, cases, orders, tracked, files, now)
        audit_id = audit.record(
            engines.handoff,
            action="export",
            actor=actor,
            reason=reason,
            subject_ref=ref,
            counts=counts,
            at=now,
        )
    logger.info("privacy.exported subject=%s audit=%d", ref, audit_id)
    return Export(ref, subject.summary(), counts, audit_id)


def _write(
    out: Path | IO[bytes],
    subject: dict[str, Any],
    messages: list[dict[str, Any]],
    cases: list[dict[str, Any]],
    orders: list[dict[str, Any]],
    tracked: list[dict[str, Any]],
    files: dict[str, Path | None],
    now: float,
) -> None:
    when = datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(out, Path):
        # Readable by its owner only (it is the person's data), and complete or absent.
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(f".{out.name}.part")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            _write(handle, subject, messages, cases, orders, tracked, files, now)
        partial.replace(out)
        return
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", README.format(when=when))
        archive.writestr("subject.json", _dump(subject))
        archive.writestr("messages.json", _dump(messages))
        archive.writestr("cases.json", _dump(cases))
        archive.writestr("orders.json", _dump(orders))
        archive.writestr("trackers.json", _dump(tracked))
        for name, path in files.items():
            if path is not None:
                archive.write(path, f"media/{name}")


def export_bytes(
    request: Request, stores: Stores, *, actor: str, reason: str, internal_notes: bool = False
) -> tuple[bytes, Export]:
    """The archive in memory (the desk sends it as the answer), and what it holds."""
    buffer = io.BytesIO()
    result = export(
        request, stores, buffer, actor=actor, reason=reason, internal_notes=internal_notes
    )
    return buffer.getvalue(), result
