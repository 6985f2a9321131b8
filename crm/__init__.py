"""The CRM feed: signed webhooks of what happened to customers and cases, and exports.

Events (docs/webhooks.md) are made from the records Hilo already keeps (the case audit log,
the channels' inbox and profiles) into an outbox in the handoff database, one delivery per
source record, and sent to HILO_WEBHOOK_URL at least once by a worker (the desk runs one, or
`hilo webhooks run`). Nothing below this package imports it; `hilo` (handoff/cli.py) wires
its commands.

    settings.py   HILO_WEBHOOK_* and friends, read once
    signing.py    X-Hilo-Signature: HMAC-SHA256 of the raw body
    backoff.py    when to try again: exponential, capped, jittered
    events.py     event names and payloads; their JSON Schemas are in schemas/
    cursors.py    how far a source has been read, gaps included
    outbox.py     the delivery records: added once, leased, retried, failed, replayed
    feed.py       source records → deliveries
    delivery.py   the worker: POSTs what is due; the desk's job
    export.py     `hilo export`: conversations, cases and CSAT as JSON lines
    cli.py        `hilo webhooks status|replay|run`, `hilo export`
"""
