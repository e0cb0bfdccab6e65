"""Minting bearer tokens for the MCP servers: HS256 JWTs whose claims list the tools the caller may use."""

from __future__ import annotations

import time
import uuid
from typing import Any

from joserfc import jwt
from joserfc.jwk import OctKey

ISSUER = "levhaolam"
AUDIENCE = "levhaolam-mcp"


def mint_token(
    secret: str,
    *,
    subject: str,
    scope: str,
    tools: list[str],
    ttl_seconds: int = 3600,
    customer_id: int | None = None,
    conversation_id: str | None = None,
) -> str:
    """A token for one caller: `tools` it may use, optionally bound to one customer and one conversation."""
    now = int(time.time())
    claims: dict[str, Any] = {"iss": ISSUER, "aud": AUDIENCE, "sub": subject, "iat": now, "exp": now + ttl_seconds,
                              "jti": uuid.uuid4().hex, "lh_scope": scope, "tools": tools}
    if customer_id is not None:
        claims["customer_id"] = customer_id
    if conversation_id is not None:
        claims["conversation_id"] = conversation_id
    return jwt.encode({"alg": "HS256", "typ": "JWT"}, claims, OctKey.import_key(secret.encode()))
