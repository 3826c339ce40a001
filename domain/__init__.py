"""LinkedIn's vocabulary as pydantic v2 models: URNs, integration keys, jobs, budgets.

No I/O and no clock: everything here is deterministic, so workflows can import it.
Imports nothing of ours.
"""
