"""Bearer tokens for the MCP servers: minted by the orchestrator (one per category or conversation),
verified by each server with FastMCP's JWTVerifier."""

from __future__ import annotations

import time
import uuid

from fastmcp.server.auth.providers.jwt import JWTVerifier
from joserfc import jwt
from joserfc.jwk import OctKey

from schemas.settings import Settings

ISSUER = "levhaolam"
AUDIENCE = "levhaolam-mcp"


class TokenConfigError(RuntimeError):
    pass


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
    """An HS256 token whose claims list the tools the caller may use."""
    now = int(time.time())
    claims: dict = {"iss": ISSUER, "aud": AUDIENCE, "sub": subject, "iat": now, "exp": now + ttl_seconds,
                    "jti": uuid.uuid4().hex, "lh_scope": scope, "tools": tools}
    if customer_id is not None:
        claims["customer_id"] = customer_id
    if conversation_id is not None:
        claims["conversation_id"] = conversation_id
    return jwt.encode({"alg": "HS256", "typ": "JWT"}, claims, OctKey.import_key(secret.encode()))


def verifier(settings: Settings) -> JWTVerifier:
    if settings.jwt_public_key:
        return JWTVerifier(public_key=settings.jwt_public_key, algorithm="RS256", issuer=ISSUER, audience=AUDIENCE)
    if settings.jwt_secret:
        return JWTVerifier(public_key=settings.jwt_secret.get_secret_value(), algorithm="HS256", issuer=ISSUER,
                           audience=AUDIENCE)
    raise TokenConfigError("serving over HTTP needs LEVHAOLAM_JWT_SECRET (HS256, 32+ characters) "
                           "or LEVHAOLAM_JWT_PUBLIC_KEY (RS256) to verify callers")
