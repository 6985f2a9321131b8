"""Channel connectors: the path between a messaging provider and the bot.

One thin adapter per channel (verify, translate, send) over a shared core (durable inbox,
dedupe, fast acknowledgement, ordered background processing). See docs/ for the design.
"""
