"""AES-GCM payload encryption, so Temporal stores ciphertext and only key holders read it.

Every payload names the key that sealed it (`encryption-key-id`), so keys rotate: the newest
key encrypts, every key still listed decrypts. Payloads written before encryption was turned
on pass through unchanged, so old histories stay readable.

Keys are `id:base64` entries (32 random bytes each, AES-256), oldest first, from the
`LINKEDIN_ATS_PAYLOAD_KEYS` setting or a key file that only its owner may read (mode 0600).
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
KEY_BYTES = 32
NONCE_BYTES = 12
_KEY_ID_RULE = re.compile(r"[A-Za-z0-9._-]{1,64}")


class PayloadKeyError(ValueError):
    """A payload key is missing, malformed or too widely readable: says what to fix."""


@dataclass(frozen=True)
class PayloadKeys:
    """Keys by id, oldest first; the last one encrypts."""

    keys: Mapping[str, bytes]

    def __post_init__(self) -> None:
        if not self.keys:
            raise PayloadKeyError("no payload key given")

    @property
    def newest_id(self) -> str:
        return list(self.keys)[-1]

    @classmethod
    def parse(cls, text: str, source: str) -> PayloadKeys:
        """Entries `id:base64` separated by commas or lines; `#` starts a comment."""
        keys: dict[str, bytes] = {}
        lines = (line.partition("#")[0] for line in text.splitlines())
        for entry in (e.strip() for line in lines for e in line.split(",")):
            if not entry:
                continue
            key_id, _, encoded = entry.partition(":")
            if not _KEY_ID_RULE.fullmatch(key_id):
                raise PayloadKeyError(
                    f"{source}: key id {key_id!r} must be 1-64 letters, digits, '.', '_' or '-'"
                )
            try:
                key = base64.b64decode(encoded, validate=True)
            except binascii.Error:
                key = b""
            if len(key) != KEY_BYTES:
                raise PayloadKeyError(
                    f"{source}: key {key_id!r} must be {KEY_BYTES} bytes in base64 "
                    "(`linkedin-ats payload-key` makes one)"
                )
            keys[key_id] = key
        if not keys:
            raise PayloadKeyError(f"{source}: holds no payload key")
        return cls(keys)

    def with_new_key(self) -> PayloadKeys:
        """These keys and a fresh newest one, which will encrypt from now on."""
        return PayloadKeys({**self.keys, **new_key().keys})

    def dumps(self) -> str:
        return "".join(f"{k}:{base64.b64encode(v).decode()}\n" for k, v in self.keys.items())


def new_key() -> PayloadKeys:
    key_id = f"{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(3)}"
    return PayloadKeys({key_id: AESGCM.generate_key(bit_length=KEY_BYTES * 8)})


def read_key_file(path: Path) -> PayloadKeys:
    """The keys in `path`, refused when anyone but its owner may read or write it."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise PayloadKeyError(
            f"no payload key file at {path}: `linkedin-ats payload-key` creates one "
            "(`linkedin-ats up` does so itself), or set LINKEDIN_ATS_PAYLOAD_KEYS"
        ) from None
    if stat.S_IMODE(mode) & 0o077:
        raise PayloadKeyError(
            f"payload key file {path} has mode {stat.S_IMODE(mode):04o}; it must be readable "
            f"by its owner only: chmod 600 {path}"
        )
    return PayloadKeys.parse(path.read_text(), str(path))


def write_key_file(path: Path, keys: PayloadKeys) -> None:
    """Write `keys` to `path` with mode 0600 (its directory 0700), replacing it atomically."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(keys.dumps())
    partial.replace(path)


def load_payload_keys(keys: str | None, key_file: Path) -> PayloadKeys:
    """The keys of the setting when given, else those of the key file."""
    if keys:
        return PayloadKeys.parse(keys, "LINKEDIN_ATS_PAYLOAD_KEYS")
    return read_key_file(key_file)


class EncryptionCodec(PayloadCodec):
    """Seals each payload with the newest key; opens it with whichever key it names."""

    def __init__(self, keys: PayloadKeys) -> None:
        self._newest_id = keys.newest_id
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.keys.items()}

    async def encode(self, payloads: Iterable[Payload]) -> list[Payload]:
        return [self.seal(p) for p in payloads]

    async def decode(self, payloads: Iterable[Payload]) -> list[Payload]:
        return [self.open(p) for p in payloads]

    def seal(self, payload: Payload) -> Payload:
        nonce = os.urandom(NONCE_BYTES)
        key_id = self._newest_id.encode()
        sealed = self._ciphers[self._newest_id].encrypt(nonce, payload.SerializeToString(), key_id)
        return Payload(metadata={"encoding": ENCODING, KEY_ID: key_id}, data=nonce + sealed)

    def open(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        key_id = payload.metadata.get(KEY_ID, b"").decode()
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise PayloadKeyError(
                f"a payload is sealed with key {key_id!r}, which is not among the payload keys "
                f"({', '.join(self._ciphers)}): add it back to the key file or "
                "LINKEDIN_ATS_PAYLOAD_KEYS"
            )
        try:
            opened = cipher.decrypt(
                payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:], key_id.encode()
            )
        except InvalidTag:
            raise PayloadKeyError(
                f"a payload sealed with key {key_id!r} does not open with the key of that id: "
                "the key was changed; restore the original"
            ) from None
        return Payload.FromString(opened)
