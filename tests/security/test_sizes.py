"""Size: megabyte arguments, thousands of arguments, endless names, deep nesting, enormous numbers.

Over HTTP a body above the cap is refused with 413 before anything parses it. Below the cap (and over stdio or in
memory, where there is no HTTP), whatever is refused lands in the append-only audit log capped per argument: a
prefix, the length and the sha256, never the megabyte.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from urllib.parse import urlsplit

import httpx
import pytest
from fastmcp import Client

from servers.common import audit
from servers.common.body_limit import MAX_REQUEST_BYTES, BodyLimitMiddleware
from servers.common.principal import Principal
from tests.helpers import bearer
from tests.security.harness import (
    ALL_SERVERS,
    ATTACKER_SUBJECT,
    STAFF,
    arguments_for,
    as_caller,
    build,
    catalogue,
    fingerprint,
    leaves,
    over_http,
    refusals,
    typed_error,
    victim_and_attacker,
    with_value,
)

MEGABYTE = 1_000_000
ROW_LIMIT = 4096  # bytes of arguments + result an audit row may take, whatever was sent


async def _row_sizes(db) -> list[int]:
    rows = await (await db.execute("SELECT octet_length(arguments::text) + coalesce(octet_length(result::text), 0) "
                                   "FROM action_audit ORDER BY id")).fetchall()
    return [r[0] for r in rows]


def _tools_call(arguments: dict, name: str = "cancel_subscription") -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                       "params": {"name": name, "arguments": arguments}}).encode()


async def _post(url: str, body: bytes | object, token: str, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as raw:
        return await raw.post(url, content=body, headers={
            "Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream",
            "Content-Type": "application/json", **headers})


@pytest.mark.parametrize("framing", ["content_length", "chunked"])
async def test_a_body_over_the_cap_is_refused_with_413_before_it_is_read(framing: str, db_url: str, db) -> None:
    _, attacker = await victim_and_attacker(db)
    before = await fingerprint(db)
    body = _tools_call({"customer_id": attacker.id, "subscription_id": attacker.subscription_id,
                        "reason": "x" * MEGABYTE})

    async def chunks():
        for start in range(0, len(body), 64 * 1024):
            yield body[start:start + 64 * 1024]

    async with over_http("subscriptions", db_url) as url:
        token = bearer(["*"], subject=ATTACKER_SUBJECT, customer_id=attacker.id)
        response = await _post(url, body if framing == "content_length" else chunks(), token)
        assert response.status_code == 413
        error = response.json()["error"]
        assert error["data"] == {"code": "invalid_argument", "message": error["message"]}
        assert f"larger than {MAX_REQUEST_BYTES} bytes" in error["message"]
        async with as_caller(url, customer_id=attacker.id) as client:  # the server still serves
            assert (await client.call_tool("get_subscription", {"customer_id": attacker.id, "subscription_id":
                                                                attacker.subscription_id})).structured_content
    assert await fingerprint(db) == before
    assert await audit_rows_count(db) == 0  # nothing was parsed, so nothing of it was stored


@pytest.mark.parametrize(("declared", "status"), [("99999999999", 413), ("-1", 400), ("12abc", 400)])
async def test_an_absurd_or_malformed_content_length_is_refused(declared: str, status: int, db_url: str) -> None:
    """Written on a raw socket: an HTTP client library would refuse to send such a request at all."""
    async with over_http("subscriptions", db_url) as url:
        parts = urlsplit(url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        writer.write((f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: Bearer {bearer(['*'])}\r\n"
                      "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
                      f"Content-Length: {declared}\r\n\r\n{{}}").encode())
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 10)
        writer.close()
    assert status_line.split()[1] == str(status).encode(), status_line


async def test_below_the_cap_an_oversized_argument_is_refused_and_audited_capped(db_url: str, db) -> None:
    _, attacker = await victim_and_attacker(db)
    reason = "é" * 200_000 + "the end"  # 400 KB of UTF-8: under the HTTP cap, far over the field's 500 characters
    before = await fingerprint(db)
    async with over_http("subscriptions", db_url) as url, as_caller(url, customer_id=attacker.id) as client:
        error = typed_error(await client.call_tool("cancel_subscription", {
            "customer_id": attacker.id, "subscription_id": attacker.subscription_id, "reason": reason},
            raise_on_error=False))
    assert (error["code"], error["field"]) == ("invalid_argument", "reason")
    assert "at most 500 characters" in error["message"]
    assert await fingerprint(db) == before
    [row] = await refusals(db)
    assert row["arguments"]["reason"] == {"truncated": True, "length": len(reason), "prefix": reason[:200],
                                          "sha256": hashlib.sha256(reason.encode()).hexdigest()}
    assert row["arguments"]["customer_id"] == attacker.id  # small arguments stay as they were
    assert max(await _row_sizes(db)) < ROW_LIMIT


@pytest.mark.parametrize("server", ALL_SERVERS)
async def test_a_megabyte_in_any_string_of_any_tool_is_typed_and_never_stored_whole(server: str, db_url: str,
                                                                                    db) -> None:
    """In memory (as over stdio) there is no HTTP cap: the tools' limits and the audit cap must hold alone. The
    caller is customer-bound, so every refusal of every tool is audited."""
    _, attacker = await victim_and_attacker(db)
    bound = Principal(subject=ATTACKER_SUBJECT, scope="security", tools=("*",), customer_id=attacker.id)
    tools = await catalogue(server, db_url)
    before = await fingerprint(db)
    async with Client(build(server, db_url, transport="memory", principal=bound)) as client:
        for tool, (schema, _) in sorted(tools.items()):
            base = arguments_for(tool, schema, attacker)[0]
            for path in leaves(schema, "string"):
                result = await client.call_tool(tool, with_value(base, path, "y" * MEGABYTE), raise_on_error=False)
                error = typed_error(result)
                assert error["code"] in ("invalid_argument", "forbidden", "not_found"), (tool, path, error)
                assert len(json.dumps(error)) < 2000, (tool, path)  # the answer does not echo the megabyte
    assert await fingerprint(db) == before
    sizes = await _row_sizes(db)
    assert sizes and max(sizes) < ROW_LIMIT


async def test_thousands_of_arguments_and_endless_names_are_stored_as_one_digest(db_url: str, db) -> None:
    _, attacker = await victim_and_attacker(db)
    noise = {f"extra_{i}": i for i in range(5000)} | {"n" * 100_000: 1}
    async with over_http("subscriptions", db_url) as url, as_caller(url, customer_id=attacker.id) as client:
        error = typed_error(await client.call_tool("pause_subscription", {
            "customer_id": attacker.id, "subscription_id": attacker.subscription_id, "months": 2, **noise},
            raise_on_error=False))
    assert error["code"] == "invalid_argument" and error["message"].startswith("this tool has no such argument")
    assert len(error["field"]) <= 121  # an endless name is not echoed whole
    [row] = await refusals(db)
    stored = row["arguments"]
    assert len(stored) <= audit.MAX_ARGUMENTS + 1
    assert stored[audit.OTHER_ARGUMENTS]["count"] == len(noise) + 3 - audit.MAX_ARGUMENTS
    assert max(await _row_sizes(db)) < ROW_LIMIT


@pytest.mark.parametrize("shape", ["nested_objects", "nested_lists", "huge_list", "huge_integer"])
async def test_deep_nesting_huge_lists_and_enormous_numbers_are_typed(shape: str, db_url: str, db) -> None:
    _, attacker = await victim_and_attacker(db)
    deep: object = "x"
    for _ in range(150):  # what still serialises as JSON-RPC; deeper does not leave the client
        deep = {"a": deep} if shape == "nested_objects" else [deep]
    value = {"nested_objects": deep, "nested_lists": deep, "huge_list": list(range(100_000)),
             "huge_integer": 10**4000}[shape]
    before = await fingerprint(db)
    async with Client(build("damage", db_url, transport="memory", principal=STAFF)) as client:
        error = typed_error(await client.call_tool("create_damage_claim", {
            "customer_id": attacker.id, "order_id": attacker.order_id, "description": "broken jar",
            "items": value}, raise_on_error=False))
    assert error["code"] == "invalid_argument" and error["field"].startswith("items"), error
    assert await fingerprint(db) == before
    [row] = await refusals(db, caller=STAFF.subject)
    assert row["tool"] == "create_damage_claim" and max(await _row_sizes(db)) < ROW_LIMIT


async def test_json_nested_beyond_the_parser_limit_over_http_changes_nothing(db_url: str, db) -> None:
    _, attacker = await victim_and_attacker(db)
    before = await fingerprint(db)
    body = (b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"cancel_subscription","arguments":'
            b'{"reason":' + b"[" * 5000 + b"]" * 5000 + b"}}}")
    async with over_http("subscriptions", db_url) as url:
        response = await _post(url, body, bearer(["*"], customer_id=attacker.id))
        assert response.status_code in (200, 400, 413, 422)
        async with as_caller(url, customer_id=attacker.id) as client:
            assert await client.list_tools()
    assert await fingerprint(db) == before


@pytest.mark.parametrize("server", ALL_SERVERS)
def test_every_servers_http_app_carries_the_cap_however_it_is_built(server: str, db_url: str) -> None:
    """`levhaolam serve --transport http` goes through `run_http_async`, which builds the app with `http_app`
    (keyword arguments, its own middleware list): the cap must be there too."""
    for app in (build(server, db_url).http_app(), build(server, db_url).http_app(path="/mcp", middleware=[]),
                build(server, db_url).http_app(path="/mcp", transport="http", middleware=None)):
        assert any(m.cls is BodyLimitMiddleware for m in app.user_middleware)


def test_the_cap_keeps_small_values_and_digests_the_rest() -> None:
    arguments = {"customer_id": 7, "address": {"line1": "Hauptstrasse 5"}, "reason": "r" * 3000,
                 "nul": "a\x00b", "surrogate": "\ud800", "nan": float("nan"), "bad name": 1}
    stored = audit.bounded_arguments(arguments)
    assert stored["customer_id"] == 7 and stored["address"] == {"line1": "Hauptstrasse 5"}
    assert stored["reason"] == {"truncated": True, "length": 3000, "prefix": "r" * 200,
                                "sha256": hashlib.sha256(b"r" * 3000).hexdigest()}
    assert stored["nul"]["prefix"] == "a\ufffdb" and stored["surrogate"]["prefix"] == "\ufffd"
    assert stored["nan"]["truncated"] and stored[audit.OTHER_ARGUMENTS]["count"] == 1
    json.dumps(stored, allow_nan=False).encode()  # plain JSON that jsonb accepts


async def audit_rows_count(db) -> int:
    row = await (await db.execute("SELECT count(*) FROM action_audit")).fetchone()
    assert row is not None
    return int(row[0])
