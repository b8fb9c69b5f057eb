"""The service: the HTTP API, the published tiles and the dashboard."""
