"""The ATS-facing Python client over Temporal: start, signal, update and query our workflows.

Imports domain and workflows (for their names and input models) and temporalio.
"""
