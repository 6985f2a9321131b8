"""What every Hilo process shares: its profile and its secrets.

The bottom layer: actions/, components/, connectors/ and handoff/ import from here, never
the other way round.
"""
