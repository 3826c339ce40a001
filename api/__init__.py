"""The ATS-facing HTTP API (FastAPI) over `client/`.

Imports client, domain and `settings` (the settings every process reads).
"""
