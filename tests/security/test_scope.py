"""Scope: a token lists the tools its caller may use. Every other tool of every server is hidden and refused
(typed `forbidden`, audited, nothing changed), however its name is spelled and whatever the arguments say."""

from __future__ import annotations

import pytest

from tests.security.harness import (
    ALL_SERVERS,
    answer_of,
    arguments_for,
    as_caller,
    fingerprint,
    over_http,
    refusals,
    tool_schemas,
    typed_error,
    victim_and_attacker,
)


@pytest.mark.parametrize("server", ALL_SERVERS)
async def test_a_token_for_one_tool_sees_and_calls_only_that_tool(server: str, db_url: str, db) -> None:
    _, customer = await victim_and_attacker(db)
    schemas = await tool_schemas(server, db_url)
    allowed = sorted(schemas)[0]
    before = await fingerprint(db)
    async with over_http(server, db_url) as url, as_caller(url, tools=[allowed], scope="narrow") as client:
        assert [t.name for t in await client.list_tools()] == [allowed]
        for tool, schema in sorted(schemas.items()):
            if tool == allowed:
                continue
            arguments = arguments_for(tool, schema, customer)[0]
            error = typed_error(await client.call_tool(tool, arguments, raise_on_error=False))
            assert error["code"] == "forbidden" and "outside this caller's scope (narrow)" in error["message"], error
    if server != "analytics":
        assert await fingerprint(db) == before
    audited = await refusals(db)
    assert sorted(row["tool"] for row in audited) == sorted(t for t in schemas if t != allowed)
    assert {(row["error_code"], row["scope"]) for row in audited} == {("forbidden", "narrow")}


@pytest.mark.parametrize("claimed", [
    [], ["get_*"], ["pause_subscription "], ["PAUSE_SUBSCRIPTION"], ["pause_subscription\x00"], ["*get_subscription"],
    ["get_subscription", "pause-subscription"],
], ids=["none", "glob", "trailing-space", "upper-case", "nul", "star-prefix", "dash"])
async def test_a_tools_claim_is_matched_exactly(claimed: list[str], db_url: str, db) -> None:
    _, customer = await victim_and_attacker(db)
    before = await fingerprint(db)
    arguments = {"customer_id": customer.id, "subscription_id": customer.subscription_id, "months": 2}
    async with over_http("subscriptions", db_url) as url, as_caller(url, tools=claimed or ["nothing"]) as client:
        listed = {t.name for t in await client.list_tools()}
        error = typed_error(await client.call_tool("pause_subscription", arguments, raise_on_error=False))
    assert "pause_subscription" not in listed and error["code"] == "forbidden"
    assert await fingerprint(db) == before
    assert [row["tool"] for row in await refusals(db)] == ["pause_subscription"]


# 20,000 characters: the MCP client also sends the name in a header, and the HTTP server refuses far longer
# headers itself (400) before any tool is looked up.
@pytest.mark.parametrize("name", ["pause_subscription\x00", "../pause_subscription", "x" * 20_000,
                                  "get_subscription; cancel_subscription"],
                         ids=["nul", "path", "endless", "two-names"])
async def test_a_made_up_tool_name_is_refused_typed_and_audited_safely(name: str, db_url: str, db) -> None:
    _, customer = await victim_and_attacker(db)
    async with over_http("subscriptions", db_url) as url:
        async with as_caller(url, tools=["get_subscription"]) as scoped:
            forbidden = answer_of(await scoped.call_tool(name, {"customer_id": customer.id}, raise_on_error=False))
        async with as_caller(url) as everything:  # "*": the scope lets it through, the server has no such tool
            unknown = answer_of(await everything.call_tool(name, {}, raise_on_error=False))
    assert forbidden["code"] == "forbidden" and unknown["code"] == "not_found"
    assert max(len(forbidden["message"]), len(unknown["message"])) <= 1600
    [row] = await refusals(db)
    assert "\x00" not in row["tool"] and len(row["tool"]) <= 200


async def test_scope_is_checked_before_anything_else_about_the_call(db_url: str, db) -> None:
    """A call outside the scope is `forbidden` even when its arguments are hostile or name another customer:
    nothing about them (validity, existence) is revealed to a caller who may not use the tool."""
    victim, attacker = await victim_and_attacker(db)
    async with over_http("subscriptions", db_url) as url, as_caller(
            url, tools=["get_subscription"], customer_id=attacker.id) as client:
        for arguments in ({"customer_id": victim.id, "subscription_id": victim.subscription_id},
                          {"customer_id": "x\x00", "reason": "r" * 10_000}, {}):
            error = typed_error(await client.call_tool("cancel_subscription", arguments, raise_on_error=False))
            assert error["code"] == "forbidden", error
    assert len(await refusals(db)) == 3
