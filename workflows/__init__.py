"""Temporal workflows: one per customer integration, one per job.

Imports only `domain` and `temporalio`, so every module here is safe in Temporal's
workflow sandbox and deterministic on replay.
"""
