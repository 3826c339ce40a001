"""The ATS-facing HTTP API (FastAPI) over `client/`.

Imports client, domain and `workers.settings` (the settings every process reads).
"""
