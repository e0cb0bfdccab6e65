"""Verifying the bearer tokens minted by `access.tokens`, with FastMCP's JWTVerifier."""

from __future__ import annotations

from fastmcp.server.auth.providers.jwt import JWTVerifier

from access.tokens import AUDIENCE, ISSUER
from schemas.settings import Settings


class TokenConfigError(RuntimeError):
    pass


def verifier(settings: Settings) -> JWTVerifier:
    if settings.jwt_public_key:
        return JWTVerifier(public_key=settings.jwt_public_key, algorithm="RS256", issuer=ISSUER, audience=AUDIENCE)
    if settings.jwt_secret:
        return JWTVerifier(public_key=settings.jwt_secret.get_secret_value(), algorithm="HS256", issuer=ISSUER,
                           audience=AUDIENCE)
    raise TokenConfigError("serving over HTTP needs LEVHAOLAM_JWT_SECRET (HS256, 32+ characters) "
                           "or LEVHAOLAM_JWT_PUBLIC_KEY (RS256) to verify callers")
