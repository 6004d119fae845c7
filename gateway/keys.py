"""Keys derived from SECRET_KEY, one for each purpose, so no two uses share a key: the keyed
digests of friends' contacts and erased addresses, and the encryption of message bodies at rest.

Each key is HKDF-SHA256 of the secret with a purpose label that names its version. Rotating
SECRET_KEY: the old one goes in SECRET_KEY_PREVIOUS (comma-separated, newest first), so what
was digested or encrypted under it is still recognised and read; new digests and new
ciphertexts use the current key (README.md, "Key rotation").
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

DIGEST_PURPOSE = "kindred friend-contact digest v1"
ENCRYPTION_PURPOSE = "kindred message-body encryption v1"
FLOOD_PURPOSE = "kindred flood counter v1"  # names Redis's counters: never joined to a stored digest


@lru_cache(maxsize=64)
def derive(secret: str, purpose: str) -> bytes:
    """The 32-byte key for `purpose` under `secret`."""
    kdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode())
    return kdf.derive(secret.encode())


def secrets(config: Mapping[str, Any]) -> tuple[str, ...]:
    """The app's secrets, the current one first, then the previous ones still honoured."""
    previous = str(config.get("SECRET_KEY_PREVIOUS", "") or "")
    return (config["SECRET_KEY"], *(item.strip() for item in previous.split(",") if item.strip()))


@lru_cache(maxsize=16)
def _fernet(secrets: tuple[str, ...]) -> MultiFernet:
    keys = [base64.urlsafe_b64encode(derive(secret, ENCRYPTION_PURPOSE)) for secret in secrets]
    return MultiFernet([Fernet(key) for key in keys])


def fernet(config: Mapping[str, Any] | None = None) -> MultiFernet:
    """What encrypts under the current secret and decrypts under any honoured one; the
    running app's secrets unless `config` is given."""
    return _fernet(secrets(config if config is not None else current_app.config))
