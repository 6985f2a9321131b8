"""Human handoff: the case, the human queue and the agent desk.

Owns a conversation's handoff state (bot, queued, assigned, resolved) and reaches Rasa only
through its HTTP API. The bot asks for a person through `actions/handoff.py`.
"""
