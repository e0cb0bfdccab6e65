"""Hostile text: control characters, impossible dates, numbers in disguise and SQL inside string arguments.

Every string and every integer an input schema accepts, in every tool of every server (into nested objects, lists
and free-form parameters), gets the hostile value. The answer must be the typed `invalid_argument` naming the exact
field, the database must be unchanged, and a refused call of a state-changing tool must be in the audit log with
the hostile value stored safely. Text that is merely unusual (SQL, markup, placeholders) must be kept literally.
"""

from __future__ import annotations

import pytest
from fastmcp import Client, Context

from servers.common.app import ADDITIVE_ACTION, create_server
from servers.common.runtime import runtime_of
from tests.helpers import confirm, settings_for
from tests.security.harness import (
    ALL_SERVERS,
    STAFF,
    answer_of,
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

STAFF_CALLER = STAFF.subject


async def refused_rows(db, tool: str) -> list[dict]:
    return [row for row in await refusals(db, caller=STAFF_CALLER) if row["tool"] == tool]


@pytest.mark.parametrize("server", ALL_SERVERS)
async def test_a_nul_byte_in_any_string_of_any_tool_is_a_typed_audited_refusal(server: str, db_url: str, db) -> None:
    _, customer = await victim_and_attacker(db)
    tools = await catalogue(server, db_url)
    before = await fingerprint(db)
    attacked = 0
    async with Client(build(server, db_url, transport="memory", principal=STAFF)) as client:
        for tool, (schema, read_only) in sorted(tools.items()):
            base = arguments_for(tool, schema, customer)[0]
            for path in leaves(schema, "string"):
                field = ".".join(path)
                audited = len(await refused_rows(db, tool))
                result = await client.call_tool(tool, with_value(base, path, "ok\x00; DROP TABLE customers"),
                                                raise_on_error=False)
                attacked += 1
                error = typed_error(result)
                assert error["code"] == "invalid_argument" and error["field"] == field, (tool, field, error)
                assert "control character (U+0000 at position 2)" in error["message"], error
                rows = await refused_rows(db, tool)
                if read_only:
                    assert len(rows) == audited, (tool, field)
                else:
                    assert len(rows) == audited + 1, (tool, field)
                    stored = rows[-1]["arguments"][path[0]]
                    # Not storable verbatim (jsonb refuses \u0000): kept as prefix, length and hash.
                    assert stored["truncated"] is True and len(stored["sha256"]) == 64, stored
                    assert rows[-1]["error_code"] == "invalid_argument"
    assert await fingerprint(db) == before
    assert attacked >= len(tools) - 2  # only tools without any string argument add nothing


@pytest.mark.parametrize("text", ["\x01", "\x08", "\x0b", "\x0c", "\x1b[2J\x1b[31m", "\x1f", "\ud800", "\udfff"],
                         ids=["SOH", "backspace", "vertical-tab", "form-feed", "terminal-escape", "US",
                              "high-surrogate", "low-surrogate"])
async def test_every_control_character_and_broken_unicode_is_refused(text: str, db_url: str, db) -> None:
    customer, sub = await _active(db)
    before = await fingerprint(db)
    attacks = [
        ("subscriptions", "cancel_subscription", {"customer_id": customer, "subscription_id": sub,
                                                  "reason": f"moving{text}away"}, "reason"),
        ("subscriptions", "change_address", {"customer_id": customer, "subscription_id": sub, "address": {
            "line1": "Hauptstrasse 5", "line2": f"c/o{text}", "city": "Berlin", "postal_code": "10115",
            "country_code": "DE"}}, "address.line2"),
        ("knowledge", "search_knowledge", {"query": f"where is my box{text}"}, "query"),
        ("analytics", "run_saved_query", {"name": "ticket_count", "params": {"period": [f"x{text}"]}},
         "params.period.0"),
    ]
    for server, tool, arguments, field in attacks:
        async with Client(build(server, db_url, transport="memory", principal=STAFF)) as client:
            error = typed_error(await client.call_tool(tool, arguments, raise_on_error=False))
        assert (error["code"], error["field"]) == ("invalid_argument", field), error
        assert "control character" in error["message"]
    assert await fingerprint(db) == before
    assert [row["tool"] for row in await refusals(db, caller=STAFF_CALLER)] == ["cancel_subscription",
                                                                                 "change_address"]


async def test_tab_newline_and_carriage_return_are_ordinary_text(db_url: str, db) -> None:
    customer, sub = await _active(db)
    async with Client(build("subscriptions", db_url, transport="memory", principal=STAFF)) as client:
        done = await confirm(client, "cancel_subscription", {"customer_id": customer, "subscription_id": sub,
                                                             "reason": "too much\r\nfood\tfor two"})
    assert done["status"] == "executed"
    row = await (await db.execute("SELECT cancel_reason FROM subscriptions WHERE id = %s", (sub,))).fetchone()
    assert row == ("too much\r\nfood\tfor two",)


@pytest.mark.parametrize("where", ["top_level", "nested"])
async def test_a_control_character_in_an_argument_name_is_refused_without_echoing_it(where: str, db_url: str,
                                                                                      db) -> None:
    customer, sub = await _active(db)
    address = {"line1": "Hauptstrasse 5", "city": "Berlin", "postal_code": "10115", "country_code": "DE"}
    arguments = {"customer_id": customer, "subscription_id": sub, "address": address}
    if where == "top_level":
        arguments["evil\x00name"] = 1
    else:
        address["line1\x00"] = "x"
    async with Client(build("subscriptions", db_url, transport="memory", principal=STAFF)) as client:
        error = typed_error(await client.call_tool("change_address", arguments, raise_on_error=False))
    assert error["code"] == "invalid_argument" and "\x00" not in error["field"]
    assert error["field"] == ("arguments" if where == "top_level" else "address")
    [row] = await refusals(db, caller=STAFF_CALLER)
    assert "\x00" not in str(row["arguments"])


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-01", "1999-12-01", "2101-01-01"])
async def test_a_date_outside_2000_to_2100_is_a_typed_refusal(value: str, db_url: str, db) -> None:
    customer, sub = await _active(db)
    before = await fingerprint(db)
    async with Client(build("subscriptions", db_url, transport="memory", principal=STAFF)) as subscriptions:
        skip = typed_error(await subscriptions.call_tool("skip_month", {"customer_id": customer, "subscription_id": sub,
                                                                        "box_month": value}, raise_on_error=False))
    async with Client(build("shipping", db_url, transport="memory", principal=STAFF)) as shipping:
        estimate = typed_error(await shipping.call_tool("get_delivery_estimate", {"country_code": "DE",
                                                                                  "shipped_on": value},
                                                        raise_on_error=False))
    for error, field in ((skip, "box_month"), (estimate, "shipped_on")):
        assert (error["code"], error["field"]) == ("invalid_argument", field)
        assert error["message"].startswith("must be between 2000-01-01 and 2100-12-31"), error
    assert await fingerprint(db) == before
    [row] = await refusals(db, caller=STAFF_CALLER)
    assert (row["tool"], row["error_code"], row["arguments"]["box_month"]) == ("skip_month", "invalid_argument", value)


@pytest.mark.parametrize("value", ["2027-13-01", "2027-02-30", "next month", "", 20270101, True])
async def test_a_date_that_is_not_a_date_is_a_typed_refusal(value: object, db_url: str, db) -> None:
    customer, sub = await _active(db)
    async with Client(build("subscriptions", db_url, transport="memory", principal=STAFF)) as client:
        error = typed_error(await client.call_tool("skip_month", {"customer_id": customer, "subscription_id": sub,
                                                                  "box_month": value}, raise_on_error=False))
    assert (error["code"], error["field"]) == ("invalid_argument", "box_month")
    assert len(await refusals(db, caller=STAFF_CALLER)) == 1


async def test_the_ends_of_the_date_range_still_work(db_url: str) -> None:
    async with Client(build("shipping", db_url, transport="memory", principal=STAFF)) as client:
        for shipped_on in ("2000-01-01", "2100-12-31"):
            estimate = (await client.call_tool("get_delivery_estimate", {"country_code": "DE",
                                                                         "shipped_on": shipped_on})).structured_content
            assert estimate["earliest"] > shipped_on


@pytest.mark.parametrize("server", ALL_SERVERS)
async def test_a_number_in_disguise_is_refused_for_every_integer_of_every_tool(server: str, db_url: str, db) -> None:
    """Strict types: `true` is not 1, "2" is not 2, 2.0 is not 2 (nor is 2.5)."""
    _, customer = await victim_and_attacker(db)
    tools = await catalogue(server, db_url)
    before = await fingerprint(db)
    async with Client(build(server, db_url, transport="memory", principal=STAFF)) as client:
        for tool, (schema, read_only) in sorted(tools.items()):
            base = arguments_for(tool, schema, customer)[0]
            for path in leaves(schema, "integer"):
                for disguise in (True, "2", 2.0, 2.5):
                    audited = len(await refused_rows(db, tool))
                    result = await client.call_tool(tool, with_value(base, path, disguise), raise_on_error=False)
                    error = typed_error(result)
                    assert (error["code"], error["field"]) == ("invalid_argument", ".".join(path)), (tool, path, error)
                    assert "valid integer" in error["message"], error
                    assert len(await refused_rows(db, tool)) == audited + (0 if read_only else 1), (tool, path)
    if server != "analytics":
        assert await fingerprint(db) == before


@pytest.mark.parametrize("text", [
    "'; DROP TABLE subscriptions; --",
    "Robert'); DELETE FROM customers WHERE ('1'='1",
    "$$; SELECT pg_sleep(30); $$",
    "%s %(customer_id)s {0} {{7*7}}",
    "<script>alert(document.cookie)</script>",
    "\u202eevil\u202c \u200b zero-width, right-to-left and emoji \U0001f4e6",
], ids=["drop", "delete", "dollar-quote", "placeholders", "markup", "unicode"])
async def test_sql_and_markup_inside_text_are_kept_literally(text: str, db_url: str, db) -> None:
    customer, sub = await _active(db)
    counts = await _row_counts(db)
    async with Client(build("subscriptions", db_url, transport="memory", principal=STAFF)) as client:
        changed = await confirm(client, "change_address", {"customer_id": customer, "subscription_id": sub,
                                                           "address": {"line1": "Hauptstrasse 5", "line2": text,
                                                                       "city": "Berlin", "postal_code": "10115",
                                                                       "country_code": "DE"}})
        cancelled = await confirm(client, "cancel_subscription", {"customer_id": customer, "subscription_id": sub,
                                                                  "reason": text})
    assert changed["result"]["address"]["line2"] == text.strip() and cancelled["status"] == "executed"
    row = await (await db.execute("SELECT a.line2, s.cancel_reason FROM subscriptions s JOIN addresses a ON "
                                  "a.id = s.shipping_address_id WHERE s.id = %s", (sub,))).fetchone()
    assert row == (text.strip(), text)
    after = await _row_counts(db)
    assert after == counts | {"addresses": counts["addresses"] + 1}


async def test_hostile_text_over_http_is_refused_the_same_way(db_url: str, db) -> None:
    _, attacker = await victim_and_attacker(db)
    async with over_http("damage", db_url) as url, as_caller(url, customer_id=attacker.id) as client:
        result = await client.call_tool("create_damage_claim", {
            "customer_id": attacker.id, "order_id": attacker.order_id, "description": "broken\x00jar",
            "items": [{"sku": attacker.sku, "damage_type": "broken"}]}, raise_on_error=False)
    assert answer_of(result) == {"code": "invalid_argument", "field": "description", "message": (
        "contains a control character (U+0000 at position 6); send plain text (tab, newline and carriage return are "
        "allowed) and remove the character")}
    [row] = await refusals(db)
    assert (row["tool"], row["customer_id"]) == ("create_damage_claim", attacker.id)


async def test_a_value_the_database_refuses_is_still_a_typed_audited_refusal(db_url: str, db) -> None:
    """The last line behind the input rules: should a value slip past them and PostgreSQL refuse it (here a number
    out of a smallint's range), the caller still gets `invalid_argument` and the refusal is audited."""

    async def store_quantity(ctx: Context, quantity: str) -> dict:
        """A state-changing tool that trusts its input too much, for this test only."""
        async with runtime_of(ctx).pool.connection() as conn:
            await conn.execute("SELECT %s::smallint", (quantity,))
        return {}

    server = create_server("probe", "test", settings_for(db_url), local_principal=STAFF)
    server.tool(store_quantity, annotations=ADDITIVE_ACTION)
    async with Client(server) as client:
        error = typed_error(await client.call_tool("store_quantity", {"quantity": "99999"}, raise_on_error=False))
    assert error["code"] == "invalid_argument" and "cannot be stored" in error["message"]
    [row] = await refusals(db, caller=STAFF_CALLER)
    assert (row["tool"], row["error_code"], row["arguments"]) == ("store_quantity", "invalid_argument",
                                                                  {"quantity": "99999"})


async def _active(db) -> tuple[int, int]:
    row = await (await db.execute("SELECT customer_id, id FROM subscriptions WHERE status = 'active' ORDER BY id "
                                  "LIMIT 1")).fetchone()
    assert row is not None
    return row[0], row[1]


async def _row_counts(db) -> dict[str, int]:
    counts = {}
    for table in ("customers", "addresses", "subscriptions", "orders", "shipments", "damage_claims"):
        row = await (await db.execute(f"SELECT count(*) FROM {table}")).fetchone()
        assert row is not None
        counts[table] = row[0]
    return counts
