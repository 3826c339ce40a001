"""What every resource shares: the world, its lock and store, faults, journal, settings."""

from __future__ import annotations

import asyncio

from fastapi import Request

from linkedin_sandbox.errors import LinkedInRefusal, forbidden
from linkedin_sandbox.faults import Fault, Journal
from linkedin_sandbox.settings import SandboxSettings
from linkedin_sandbox.state import App, Store, World


class Sandbox:
    """The world, its lock, persistence and settings, shared by every route."""

    def __init__(self, settings: SandboxSettings) -> None:
        self.settings = settings
        self.store = Store(settings.state_path)
        self.world = self.store.load()
        self.lock = asyncio.Lock()
        self.faults: dict[str, Fault] = {}
        self.journal = Journal()

    def save(self) -> None:
        """Persist the world if the request changed it."""
        self.store.save(self.world)

    def reset(self) -> None:
        self.world = World()
        self.world.changed()
        self.faults.clear()
        self.journal.entries.clear()

    def authenticate(self, request: Request) -> App | None:
        """The application behind the bearer token; None for the partner's own token."""
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        token = self.world.tokens.get(value) if scheme.lower() == "bearer" else None
        if token is None:
            raise LinkedInRefusal(401, "Invalid access token", 65600)
        if token.expires_at_ms <= self.world.now_ms():
            raise LinkedInRefusal(401, "The token used in the request has expired", 65602)
        if token.client_id == self.settings.partner_client_id:
            return None
        return self.world.apps[token.client_id]

    def customer(self, request: Request, what: str) -> App:
        """The calling child application; the partner's token is refused."""
        app = self.authenticate(request)
        if app is None:
            raise forbidden(what)
        return app

    def partner(self, request: Request, what: str) -> None:
        """Refuse any token but the partner application's."""
        if self.authenticate(request) is not None:
            raise forbidden(what)
