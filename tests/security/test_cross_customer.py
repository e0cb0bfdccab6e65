"""Cross-customer: a token bound to one customer (a conversation's) names another customer every way there is.

Every tool of every server is walked over real HTTP with the victim's customer id, e-mail, phone, Chatwoot id,
subscription, order, tracking number, claim and cancel link, and again with the attacker's own customer id and the
victim's record numbers. Nothing of any other customer may come back, nothing may change, every refusal is typed
and audited, and the victim's identifiers must answer exactly like identifiers nobody has.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from servers.subscriptions import cancel_links
from servers.subscriptions.cancel_links import NOT_VALID
from tests.helpers import AS_OF, CANCEL_KEY
from tests.security.harness import (
    ALL_SERVERS,
    CUSTOMER_SERVERS,
    answer_of,
    arguments_for,
    as_caller,
    fill_knowledge,
    fingerprint,
    leaked,
    names_records,
    over_http,
    personal_data_except,
    refusals,
    tool_schemas,
    typed_error,
    victim_and_attacker,
)

NOBODY = {"found": False, "matched_by": None, "customer": None}
# The only tools that answer a bound caller naming someone else without an error: identification (found=false,
# exactly like an unknown identifier) and the delivery estimate, which names no customer at all.
ANSWERS_WITHOUT_ERROR = {"identify_customer", "get_delivery_estimate"}


@pytest.mark.parametrize("server", ALL_SERVERS)
async def test_every_tool_refuses_every_way_of_naming_another_customer(server: str, db_url: str, db) -> None:
    victim, attacker = await victim_and_attacker(db)
    if server == "knowledge":
        await fill_knowledge(db_url)  # few-shot examples come from support history: other customers' words
    others = await personal_data_except(db, attacker.id)
    schemas = await tool_schemas(server, db_url)
    before = await fingerprint(db)
    walked = 0
    async with over_http(server, db_url) as url, as_caller(url, customer_id=attacker.id) as client:
        for tool, schema in sorted(schemas.items()):
            calls = arguments_for(tool, schema, victim)
            if names_records(schema):  # the attacker's own customer id with the victim's record numbers
                calls += arguments_for(tool, schema, victim, customer_id=attacker.id)
            for arguments in calls:
                audited = len(await refusals(db))
                result = await client.call_tool(tool, arguments, raise_on_error=False)
                walked += 1
                answer = answer_of(result)
                assert not leaked(answer, others, arguments), (tool, arguments, leaked(answer, others, arguments))
                if server == "analytics":
                    continue  # analytics refuses customer-bound callers altogether; here only: nothing leaks
                assert await fingerprint(db) == before, (tool, arguments)
                if server not in CUSTOMER_SERVERS:
                    continue
                if result.is_error:
                    error = typed_error(result)
                    assert error["code"] in ("not_found", "invalid_argument"), (tool, arguments, error)
                    if tool == "verify_cancel_link":
                        assert error["message"] == NOT_VALID
                    assert len(await refusals(db)) == audited + 1, (tool, arguments)
                else:
                    assert tool in ANSWERS_WITHOUT_ERROR, (tool, arguments, answer)
                    if tool == "identify_customer":
                        assert answer == NOBODY, arguments
                        assert len(await refusals(db)) == audited + 1, arguments  # the probe is on record
    assert walked >= len(schemas)


async def test_another_customers_identifiers_answer_exactly_like_unknown_ones(db_url: str, db) -> None:
    victim, attacker = await victim_and_attacker(db)
    async with over_http("customers", db_url) as url, as_caller(url, customer_id=attacker.id) as client:
        async def identify(**arguments: object) -> object:
            return (await client.call_tool("identify_customer", arguments)).structured_content

        for name, theirs, unknown in (("email", victim.email, "nobody.at.all@nowhere.example"),
                                      ("phone", victim.phone, "+15550000000"),
                                      ("chatwoot_contact_id", victim.chatwoot_contact_id, 987_654_321)):
            assert await identify(**{name: theirs}) == await identify(**{name: unknown}) == NOBODY
            mine = await identify(**{name: getattr(attacker, name)})
            assert mine["found"] and mine["customer"]["id"] == attacker.id and mine["matched_by"] == name
        # Spelled differently, the victim's e-mail and phone are still the victim's.
        assert await identify(email=victim.email.upper()) == NOBODY
        assert await identify(phone=victim.phone[:4] + " " + victim.phone[4:]) == NOBODY
    probes = [row for row in await refusals(db) if row["tool"] == "identify_customer"]
    assert len(probes) == 5 and {row["customer_id"] for row in probes} == {victim.id}
    assert all(row["error_code"] == "not_found" for row in probes)


async def test_another_customers_cancel_link_is_not_valid_expired_or_not(db_url: str, db) -> None:
    victim, attacker = await victim_and_attacker(db)
    key = cancel_links.load_key(CANCEL_KEY)
    expired = cancel_links.seal(key, customer_id=victim.id, subscription_id=victim.subscription_id,
                                expires_at=AS_OF - timedelta(hours=1))
    tampered = attacker.cancel_link[:-2] + ("AA" if not attacker.cancel_link.endswith("AA") else "BB")
    async with over_http("subscriptions", db_url) as url, as_caller(url, customer_id=attacker.id) as client:
        answers = [typed_error(await client.call_tool("verify_cancel_link", {"link": link}, raise_on_error=False))
                   for link in (victim.cancel_link, f"https://levhaolam.com/account/cancel?t={expired}", tampered)]
        own = await client.call_tool("verify_cancel_link", {"link": attacker.cancel_link})
    assert answers[0] == answers[1] == answers[2] == {"code": "invalid_argument", "field": "link", "message": NOT_VALID}
    assert own.structured_content["customer_id"] == attacker.id
    assert [row["tool"] for row in await refusals(db)] == ["verify_cancel_link"] * 3


@pytest.mark.parametrize("spelling", ["as_text", "as_float", "as_list", "as_object", "true", "beyond_bigint"])
async def test_another_spelling_of_a_customer_id_is_refused(spelling: str, db_url: str, db) -> None:
    victim, attacker = await victim_and_attacker(db)
    named = {"as_text": str(victim.id), "as_float": float(victim.id), "as_list": [victim.id],
             "as_object": {"id": victim.id}, "true": True, "beyond_bigint": victim.id + 2**64}[spelling]
    before = await fingerprint(db)
    async with over_http("subscriptions", db_url) as url, as_caller(url, customer_id=attacker.id) as client:
        for tool, arguments in (("get_subscription", {"subscription_id": victim.subscription_id}),
                                ("pause_subscription", {"subscription_id": victim.subscription_id, "months": 2})):
            error = typed_error(await client.call_tool(tool, {"customer_id": named, **arguments},
                                                       raise_on_error=False))
            assert error["field"] == "customer_id" and error["code"] in ("invalid_argument", "not_found"), error
    assert await fingerprint(db) == before
    rows = await refusals(db)
    assert [row["tool"] for row in rows] == ["get_subscription", "pause_subscription"]
    assert all(row["customer_id"] in (None, victim.id) for row in rows)


@pytest.mark.parametrize("server", CUSTOMER_SERVERS)
async def test_a_bound_caller_still_reaches_its_own_records(server: str, db_url: str, db) -> None:
    """The binding refuses others, not the customer themself: each server answers the attacker about itself."""
    _, attacker = await victim_and_attacker(db)
    call = {"customers": ("get_order_history", {"customer_id": attacker.id}),
            "subscriptions": ("get_subscription", {"customer_id": attacker.id,
                                                   "subscription_id": attacker.subscription_id}),
            "shipping": ("track_shipment", {"customer_id": attacker.id, "tracking_number": attacker.tracking_number}),
            "damage": ("create_damage_claim", {"customer_id": attacker.id, "order_id": attacker.order_id,
                                               "items": [{"sku": attacker.sku, "damage_type": "broken"}],
                                               "description": "The bottle arrived broken"})}[server]
    async with over_http(server, db_url) as url, as_caller(url, customer_id=attacker.id) as client:
        result = await client.call_tool(*call, raise_on_error=False)
    answer = answer_of(result)
    # The demo order may be outside the damage window: then the answer is about the policy, not about who asks.
    assert not result.is_error or answer["code"] == "policy_violation", answer


@pytest.mark.parametrize(("server", "tool", "field"), [
    ("subscriptions", "get_subscription", "subscription_id"),
    ("subscriptions", "pause_subscription", "subscription_id"),
    ("shipping", "track_shipment", "order_id"),
    ("shipping", "track_shipment", "tracking_number"),
    ("shipping", "report_missing_package", "order_id"),
    ("damage", "get_claim_status", "claim_id"),
    ("damage", "create_damage_claim", "order_id"),
])
async def test_another_customers_record_answers_like_one_that_does_not_exist(server: str, tool: str, field: str,
                                                                             db_url: str, db) -> None:
    victim, attacker = await victim_and_attacker(db)
    schema = (await tool_schemas(server, db_url))[tool]
    [theirs] = [a for a in arguments_for(tool, schema, victim, customer_id=attacker.id) if field in a]
    nobodys = theirs | {field: "ZZ99999999" if field == "tracking_number" else 99_999_999}
    async with over_http(server, db_url) as url, as_caller(url, customer_id=attacker.id) as client:
        answers = [typed_error(await client.call_tool(tool, arguments, raise_on_error=False))
                   for arguments in (theirs, nobodys)]
    # Identical but for the number the caller itself wrote.
    assert answers[0] == {**answers[1], "message": answers[1]["message"].replace(str(nobodys[field]),
                                                                                 str(theirs[field]))}
    assert answers[0]["code"] == "not_found" and answers[0]["field"] == field
