"""Where access tokens are kept between calls, and between processes.

LinkedIn asks partners to use one token per application until it expires. The client
keeps tokens in memory; a `TokenStore` keeps them beyond the process too, so a restarted
or second worker reuses the token instead of requesting another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from pydantic import SecretStr


@dataclass(frozen=True)
class StoredToken:
    value: SecretStr
    expires_at: float
    """Unix time after which the token is not used (LinkedIn's expiry less a margin)."""


class TokenStore(Protocol):
    """A shared place for tokens; it must keep them encrypted at rest."""

    async def get_token(self, client_id: str) -> StoredToken | None: ...

    async def save_token(self, client_id: str, token: StoredToken) -> None: ...
