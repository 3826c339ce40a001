"""The ATS-facing Python client over Temporal: start, signal, update and query our workflows.

`IntegrationsClient` for customers' integrations, `JobsClient` for their jobs, and
`connection.connect` for a Temporal client configured the way our workflows need.
Imports domain and temporalio.
"""
