"""Test helpers shared by the connector tests: fake provider servers and a channel app."""
