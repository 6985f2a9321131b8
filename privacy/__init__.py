"""Privacy: one inventory of the personal data Hilo keeps, and erasure and access requests.

`inventory` lists every table, column and file of every store Hilo writes and what an
erasure does to each; `subject` finds a person in every store from a phone, an email or a
conversation; `erase` and `export` answer their requests through the modules that own each
store (connectors/, handoff/, actions/commerce/, `trackers` for Rasa's table, the media
store); `audit` records every request answered; `cli` is `hilo privacy`. docs/privacy.md.

This package sits above the channels, the handoff's store, the commerce store and the
components: none of them imports it (tests/unit/test_import_layers.py), and it loads
neither Rasa nor a channel's library, so the desk can answer requests in its own process.
"""
