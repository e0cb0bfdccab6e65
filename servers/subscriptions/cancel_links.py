"""Personalised cancel links: customer, subscription and expiry sealed with AES-256-GCM.

GCM authenticates as well as encrypts, so a link that was altered in any byte, or sealed with
another key, does not open. The expiry is inside the sealed payload, so it cannot be extended.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_AAD = b"levhaolam/cancel-link/v1"
_NONCE_BYTES = 12
NOT_VALID = "this cancel link is not valid: it was altered or not issued by us"


class CancelLinkError(ValueError):
    pass


def load_key(encoded: str) -> bytes:
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise CancelLinkError("LEVHAOLAM_CANCEL_LINK_KEY must be base64 (e.g. `openssl rand -base64 32`)") from None
    if len(key) != 32:
        raise CancelLinkError(f"LEVHAOLAM_CANCEL_LINK_KEY must decode to 32 bytes for AES-256, not {len(key)}")
    return key


def seal(key: bytes, *, customer_id: int, subscription_id: int, expires_at: datetime) -> str:
    payload = json.dumps({"c": customer_id, "s": subscription_id, "e": int(expires_at.timestamp())},
                         separators=(",", ":")).encode()
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, payload, _AAD)
    return base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")


def open_link(key: bytes, link_or_token: str, now: datetime, *, for_customer: int | None = None
              ) -> tuple[int, int, datetime]:
    """(customer_id, subscription_id, expires_at) of a link; CancelLinkError if tampered or expired.

    With `for_customer`, another customer's link is refused exactly like an altered one, before its expiry is
    looked at, so the answer says nothing about a link that is not this customer's."""
    token = link_or_token.strip()
    if "://" in token:
        token = (parse_qs(urlsplit(token).query).get("t") or [""])[0]
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        if base64.urlsafe_b64encode(raw).decode().rstrip("=") != token:
            # base64 ignores the spare bits of the last character: an altered link could decode to the same bytes.
            raise ValueError("not the canonical encoding")
        payload = json.loads(AESGCM(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _AAD))
        customer_id, subscription_id = int(payload["c"]), int(payload["s"])
        expires_at = datetime.fromtimestamp(int(payload["e"]), UTC)
    except (InvalidTag, binascii.Error, ValueError, KeyError, TypeError):
        raise CancelLinkError(NOT_VALID) from None
    if for_customer is not None and customer_id != for_customer:
        raise CancelLinkError(NOT_VALID)
    if expires_at <= now:
        raise CancelLinkError(f"this cancel link expired at {expires_at:%Y-%m-%d %H:%M} UTC; create a new one")
    return customer_id, subscription_id, expires_at
