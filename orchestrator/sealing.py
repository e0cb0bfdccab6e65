"""Sealing the servers' confirmation tokens while they wait in PostgreSQL for the customer's yes.

The servers store only a hash of a token so that a database reader cannot confirm on a customer's behalf; the
orchestrator keeps the token itself sealed with AES-256-GCM under a key derived from its signing secret.
"""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_NONCE_BYTES = 12
_INFO = b"levhaolam/orchestrator/pending-action-token/v1"


class Sealer:
    def __init__(self, secret: str) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret.encode())
        self._aead = AESGCM(key)

    def seal(self, token: str, bound_to: str) -> str:
        """`bound_to` (e.g. the pending action's conversation) must be given again to open it."""
        nonce = os.urandom(_NONCE_BYTES)
        return base64.urlsafe_b64encode(nonce + self._aead.encrypt(nonce, token.encode(), bound_to.encode())).decode()

    def open(self, sealed: str, bound_to: str) -> str:
        raw = base64.urlsafe_b64decode(sealed.encode())
        return self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], bound_to.encode()).decode()
