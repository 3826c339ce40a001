"""The ATS-facing HTTP API (FastAPI) over `client/`."""
