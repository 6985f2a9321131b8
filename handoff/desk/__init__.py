"""The agent desk: web app (app.py), live feed (feed.py), OpenAPI (openapi.py), page (static/)."""
