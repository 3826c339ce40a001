"""A stateful stand-in for LinkedIn's partner APIs, for tests and demos.

It imports nothing of ours on purpose: like LinkedIn, it judges our requests by its own
rules and answers with LinkedIn's own messages, so a mistake shared by our models and our
client cannot hide. It also serves a control API under /sandbox/ that LinkedIn does not
have: the customer's widget, faults, the request journal, the clock, reset.
"""

from linkedin_sandbox.app import create_app
from linkedin_sandbox.settings import SandboxSettings

__all__ = ["SandboxSettings", "create_app"]
