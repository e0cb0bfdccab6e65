"""Token forgery and replay: bearer JWTs, confirmation tokens, idempotency keys and cancel links, each forged,
altered, replayed, expired or borrowed from another customer. Every one is refused with nothing changed; every
refused tool call is typed and audited (a forged bearer token never reaches a tool: 401, nothing to attribute)."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from datetime import timedelta

import httpx
import pytest
from fastmcp import Client
from joserfc import jwt
from joserfc.jwk import OctKey

from access.tokens import AUDIENCE, ISSUER, mint_token
from servers.common.principal import Principal
from servers.subscriptions import cancel_links
from servers.subscriptions.cancel_links import NOT_VALID
from tests.helpers import AS_OF, CANCEL_KEY, JWT_SECRET, bearer, status_of
from tests.security.harness import (
    ALL_SERVERS,
    ATTACKER_SUBJECT,
    STAFF,
    Person,
    as_caller,
    build,
    fingerprint,
    over_http,
    refusals,
    typed_error,
    victim_and_attacker,
)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _claims(**overrides: object) -> dict:
    now = int(time.time())
    return {"iss": ISSUER, "aud": AUDIENCE, "sub": ATTACKER_SUBJECT, "iat": now, "exp": now + 600, "jti": "j1",
            "lh_scope": "staff", "tools": ["*"]} | overrides


def _unsigned(header: dict, claims: dict, signature: str = "") -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}.{signature}"


def _with_claims(token: str, **changes: object) -> str:
    """A real token whose payload was edited after signing."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))) | changes
    return f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"


def forged_bearers(attacker: Person, victim: Person) -> dict[str, str]:
    bound = bearer(["*"], subject=ATTACKER_SUBJECT, customer_id=attacker.id)
    return {
        "alg_none": _unsigned({"alg": "none", "typ": "JWT"}, _claims()),
        "alg_none_uppercase": _unsigned({"alg": "NONE", "typ": "JWT"}, _claims()),
        "signature_stripped": bound.rsplit(".", 1)[0] + ".",
        "wrong_secret": mint_token("another-secret-that-is-long-enough-0000000", subject="x", scope="staff",
                                   tools=["*"]),
        "expired": mint_token(JWT_SECRET, subject="x", scope="staff", tools=["*"], ttl_seconds=-60),
        # Signed with the right secret, for another service or by another issuer that shares it.
        "wrong_audience": _signed(_claims(aud="another-service")),
        "wrong_issuer": _signed(_claims(iss="someone-else")),
        "rebound_to_victim": _with_claims(bound, customer_id=victim.id),
        "unbound_by_edit": _with_claims(bound, customer_id=None),
        "tools_widened": _with_claims(bearer(["get_subscription"]), tools=["*"]),
        "garbage": "not.a.jwt",
        "missing": "",
    }


def _signed(claims: dict) -> str:
    return jwt.encode({"alg": "HS256"}, claims, OctKey.import_key(JWT_SECRET.encode()))


@pytest.mark.parametrize("server", ALL_SERVERS)
async def test_a_forged_altered_or_expired_bearer_token_gets_401_and_changes_nothing(server: str, db_url: str,
                                                                                     db) -> None:
    victim, attacker = await victim_and_attacker(db)
    tokens = forged_bearers(attacker, victim)
    before = await fingerprint(db)
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "pause_subscription", "arguments": {
        "customer_id": victim.id, "subscription_id": victim.subscription_id, "months": 2}}}
    async with over_http(server, db_url) as url, httpx.AsyncClient(timeout=10) as raw:
        for name, token in tokens.items():
            for body in (call, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}):
                authorization = {"Authorization": f"Bearer {token}"} if token else {}
                response = await raw.post(url, json=body, headers=authorization | {
                    "Accept": "application/json, text/event-stream"})
                assert response.status_code == 401, (name, response.status_code)
    assert await fingerprint(db) == before
    assert await refusals(db) == []


async def _staff_ask(db_url: str, tool: str, arguments: dict) -> str:
    async with Client(build("subscriptions", db_url, transport="memory", principal=STAFF)) as staff:
        first = (await staff.call_tool(tool, arguments)).structured_content
    assert first["status"] == "confirmation_required"
    return str(first["confirmation_token"])


async def test_a_confirmation_token_is_bound_to_its_customer_tool_and_arguments(db_url: str, db) -> None:
    victim, attacker = await victim_and_attacker(db)
    victims_token = await _staff_ask(db_url, "pause_subscription", {
        "customer_id": victim.id, "subscription_id": victim.subscription_id, "months": 2})
    own_token = await _staff_ask(db_url, "pause_subscription", {
        "customer_id": attacker.id, "subscription_id": attacker.subscription_id, "months": 2})
    before = await fingerprint(db)
    mine = {"customer_id": attacker.id, "subscription_id": attacker.subscription_id}
    attacks = [
        ("pause_subscription", mine | {"months": 2, "confirmation_token": victims_token}, "confirmation_invalid"),
        ("pause_subscription", {"customer_id": victim.id, "subscription_id": victim.subscription_id, "months": 2,
                                "confirmation_token": victims_token}, "not_found"),  # the binding, before anything
        ("pause_subscription", mine | {"months": 3, "confirmation_token": own_token}, "confirmation_invalid"),
        ("cancel_subscription", mine | {"confirmation_token": own_token}, "confirmation_invalid"),
        ("pause_subscription", mine | {"months": 2, "confirmation_token": own_token[:-1] + (
            "A" if own_token[-1] != "A" else "B")}, "confirmation_invalid"),
        ("pause_subscription", mine | {"months": 2, "confirmation_token": "x" * 43}, "confirmation_invalid"),
        ("pause_subscription", mine | {"months": 2, "confirmation_token": own_token.upper()}, "confirmation_invalid"),
    ]
    async with over_http("subscriptions", db_url) as url, as_caller(url, customer_id=attacker.id) as client:
        for tool, arguments, code in attacks:
            error = typed_error(await client.call_tool(tool, arguments, raise_on_error=False))
            assert error["code"] == code, (tool, arguments, error)
            assert str(victim.id) not in error["message"] or code == "not_found"
    assert await fingerprint(db) == before
    assert len(await refusals(db)) == len(attacks)


async def test_a_confirmed_action_replayed_in_sequence_or_all_at_once_runs_once(db_url: str, db) -> None:
    _, attacker = await victim_and_attacker(db)
    arguments = {"customer_id": attacker.id, "subscription_id": attacker.subscription_id, "months": 2}
    token = await _staff_ask(db_url, "pause_subscription", arguments)
    async with over_http("subscriptions", db_url) as url, as_caller(url, customer_id=attacker.id) as client:
        confirmed = arguments | {"confirmation_token": token}
        results = await asyncio.gather(*(client.call_tool("pause_subscription", confirmed, raise_on_error=False)
                                         for _ in range(6)))
        later = await client.call_tool("pause_subscription", confirmed, raise_on_error=False)
    executed = [r for r in results if not r.is_error and r.structured_content["status"] == "executed"]
    assert len(executed) == 1
    assert {typed_error(r)["code"] for r in [*results, later] if r.is_error} <= {"confirmation_used"}
    assert typed_error(later)["code"] == "confirmation_used"
    rows = await (await db.execute("SELECT outcome, count(*) FROM action_audit WHERE tool = 'pause_subscription' "
                                   "AND caller = %s GROUP BY outcome", (ATTACKER_SUBJECT,))).fetchall()
    assert dict(rows) == {"executed": 1, "refused": 6}
    assert (await status_of(db, attacker.subscription_id))[0] == "paused"


async def test_an_expired_confirmation_token_is_refused(db_url: str, db) -> None:
    _, attacker = await victim_and_attacker(db)
    arguments = {"customer_id": attacker.id, "subscription_id": attacker.subscription_id, "months": 2}
    token = await _staff_ask(db_url, "pause_subscription", arguments)
    before = await fingerprint(db)
    bound = Principal(subject=ATTACKER_SUBJECT, scope="security", tools=("*",), customer_id=attacker.id)
    an_hour_later = build("subscriptions", db_url, transport="memory", principal=bound,
                          clock=lambda: AS_OF + timedelta(hours=1))
    async with Client(an_hour_later) as client:
        error = typed_error(await client.call_tool("pause_subscription", arguments | {"confirmation_token": token},
                                                   raise_on_error=False))
    assert error["code"] == "confirmation_expired"
    assert await fingerprint(db) == before
    [row] = await refusals(db)
    assert row["error_code"] == "confirmation_expired"


async def test_another_customers_idempotency_key_returns_nothing_of_theirs(db_url: str, db) -> None:
    victim, attacker = await victim_and_attacker(db)
    key = "conversation-4242-pause"
    victims = {"customer_id": victim.id, "subscription_id": victim.subscription_id, "months": 2}
    async with Client(build("subscriptions", db_url, transport="memory", principal=STAFF)) as staff:
        token = (await staff.call_tool("pause_subscription", victims)).structured_content["confirmation_token"]
        done = await staff.call_tool("pause_subscription", victims | {"confirmation_token": token,
                                                                      "idempotency_key": key})
    assert done.structured_content["status"] == "executed"
    before = await fingerprint(db)
    mine = {"customer_id": attacker.id, "subscription_id": attacker.subscription_id, "months": 2}
    async with over_http("subscriptions", db_url) as url, as_caller(url, customer_id=attacker.id) as client:
        for arguments in (mine | {"idempotency_key": key},
                          mine | {"idempotency_key": key, "confirmation_token": "y" * 43}):
            result = await client.call_tool("pause_subscription", arguments, raise_on_error=False)
            error = typed_error(result)
            assert error["code"] == "idempotency_conflict", error
            text = result.content[0].text
            assert str(victim.subscription_id) not in text and "paused" not in text
    assert await fingerprint(db) == before
    assert [row["error_code"] for row in await refusals(db)] == ["idempotency_conflict"] * 2


def _flip_last(text: str) -> str:
    return text[:-1] + ("A" if text[-1] != "A" else "B")


@pytest.mark.parametrize("attack", ["flipped_byte", "other_key", "truncated", "spare_bits", "expired",
                                    "payload_swapped", "not_base64", "empty_query"])
async def test_a_forged_or_expired_cancel_link_is_refused(attack: str, db_url: str, db) -> None:
    _, attacker = await victim_and_attacker(db)
    key = cancel_links.load_key(CANCEL_KEY)
    own = attacker.cancel_link
    other_key = bytes(range(1, 33))
    raw = base64.urlsafe_b64decode(own + "=" * (-len(own) % 4))
    link = {
        "flipped_byte": _b64(raw[:20] + bytes([raw[20] ^ 1]) + raw[21:]),
        "other_key": cancel_links.seal(other_key, customer_id=attacker.id, subscription_id=attacker.subscription_id,
                                       expires_at=AS_OF + timedelta(days=1)),
        "truncated": own[:-6],
        "spare_bits": own[:-1] + chr(ord(own[-1]) + 1) if own[-1] not in "9zZ_-" else own[:-1] + "A",
        "expired": cancel_links.seal(key, customer_id=attacker.id, subscription_id=attacker.subscription_id,
                                     expires_at=AS_OF - timedelta(seconds=1)),
        "payload_swapped": _b64(raw[:12] + base64.urlsafe_b64decode(
            attacker.cancel_link + "=" * (-len(own) % 4))[12:][::-1]),
        "not_base64": "%%%%%%%%%%%%%%%%%%%%",
        "empty_query": "https://levhaolam.com/account/cancel?x=1",
    }[attack]
    async with over_http("subscriptions", db_url) as url, as_caller(url, customer_id=attacker.id) as client:
        error = typed_error(await client.call_tool("verify_cancel_link", {"link": link}, raise_on_error=False))
    assert (error["code"], error["field"]) == ("invalid_argument", "link")
    assert error["message"] == NOT_VALID or (attack == "expired" and "expired" in error["message"])
    assert len(await refusals(db)) == 1
