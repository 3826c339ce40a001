"""The ATS-facing HTTP API (FastAPI) over `client/`.

`app.create_app` only assembles: the routers of `routes/` (one module per resource), the
typed dependencies they take (`deps`: the bearer token, settings, clients), the edge
(`limits`: the token and the body limit, before a body is read), problem details for every
error (`errors`) and the OpenAPI document a generated client reads (`openapi`).

Imports client, domain and `settings` (the settings every process reads).
"""
