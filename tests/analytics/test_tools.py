"""The analytics tools other than ask: context layers, saved queries, learnings, charts."""

from __future__ import annotations

import base64

import pytest
from fastmcp import Client

from servers.analytics.context import ALLOWED_TABLES, saved_queries
from tests.helpers import error_of


async def test_tables_combine_the_live_schema_with_their_meaning(analytics: Client) -> None:
    tables = (await analytics.call_tool("list_tables", {})).structured_content["tables"]
    assert [t["name"] for t in tables] == list(ALLOWED_TABLES)
    threads = (await analytics.call_tool("describe_table", {"name": "support_threads_data"})).structured_content
    handled_by = next(c for c in threads["columns"] if c["name"] == "handled_by")
    assert handled_by["type"] == "text" and "ai_edited" in handled_by["meaning"]
    assert threads["row_count_estimate"] > 0 and threads["caveats"]
    hidden = error_of(await analytics.call_tool("describe_table", {"name": "customers"}, raise_on_error=False))
    assert hidden["code"] == "not_found" and hidden["field"] == "name"


async def test_business_rules_include_metrics_and_the_category_rules(analytics: Client) -> None:
    rules = (await analytics.call_tool("get_business_rules", {})).structured_content
    resolution = next(r for r in rules["rules"] if r["name"] == "resolution_rate")
    assert resolution["definition"].startswith(
        "Resolution rate = tickets with a draft created / tickets the AI answered"
    )
    assert len(rules["category_rules"]) == 10 and "cut-off" in rules["category_rules"]["skip_month"]


async def test_every_saved_query_runs_with_its_defaults_and_a_period(analytics: Client) -> None:
    listed = (await analytics.call_tool("list_saved_queries", {})).structured_content["queries"]
    assert {q["name"] for q in listed} == set(saved_queries()) and len(listed) >= 8
    for query in listed:
        params = {p["name"]: "2026-09-01" if p["name"] == "start" else "2026-11-28T12:00:00+00:00"
                  for p in query["params"] if p["type"] == "timestamptz" and p["name"] in ("start", "end")}
        result = await analytics.call_tool("run_saved_query", {"name": query["name"], "params": params},
                                           raise_on_error=False)
        assert not result.is_error, (query["name"], result.content)
        assert result.structured_content["columns"]


@pytest.mark.parametrize(("arguments", "field", "fragment"), [
    ({"name": "nope"}, "name", "no saved query 'nope'"),
    ({"name": "ticket_count", "params": {"start": "2026-11-01"}}, "params.end", "needs end"),
    ({"name": "ticket_count", "params": {"start": "yesterday", "end": "2026-11-28"}}, "params.start",
     "not a valid timestamptz"),
    ({"name": "ticket_count", "params": {"start": "2026-11-01", "end": "2026-11-28", "category": "refunds"}},
     "params.category", "unknown category 'refunds'"),
    ({"name": "ticket_count", "params": {"start": "2026-11-01", "end": "2026-11-28", "channel": "pigeon"}},
     "params.channel", "expected one of email"),
    ({"name": "ticket_count", "params": {"start": "2026-11-01", "end": "2026-11-28", "limit": 5}}, "params.limit",
     "has no parameter 'limit'"),
])
async def test_saved_query_parameters_are_checked(analytics: Client, arguments: dict, field: str, fragment: str
                                                  ) -> None:
    error = error_of(await analytics.call_tool("run_saved_query", arguments, raise_on_error=False))
    assert error["field"] == field and fragment in error["message"]


async def test_learnings_are_recorded_and_found_again(analytics: Client, db) -> None:
    learned = (await analytics.call_tool("record_learning", {
        "question": "How many tickets did the AI handle?", "mistake": "Counted every ticket with ai_answered_at",
        "fix": "Handled by AI means handled_by = 'ai'; drafts edited by humans do not count",
        "sql": "SELECT count(*) FROM support_threads_data WHERE handled_by = 'ai'", "tags": ["ai_handled"]})
               ).structured_content
    found = (await analytics.call_tool("search_learnings", {"query": "AI handle tickets"})).structured_content
    assert [x["id"] for x in found["learnings"]] == [learned["id"]]
    by_tag = (await analytics.call_tool("search_learnings", {"query": "ai_handled"})).structured_content
    assert by_tag["learnings"][0]["fix"].startswith("Handled by AI")
    nothing = (await analytics.call_tool("search_learnings", {"query": "halva"})).structured_content
    assert nothing["learnings"] == []
    row = await (await db.execute("SELECT created_by FROM analytics_learnings WHERE id = %s", (learned["id"],))
                 ).fetchone()
    assert row == ("staff/staff",)


async def test_make_chart_returns_a_png_and_its_vega_lite_spec(analytics: Client) -> None:
    data = [{"category": "shipping_inquiry", "tickets": 30}, {"category": "damaged_item", "tickets": 9}]
    result = await analytics.call_tool("make_chart", {"kind": "bar", "x": "category", "y": "tickets", "data": data,
                                                      "title": "Tickets"})
    image = result.content[0]
    assert image.type == "image" and image.mime_type == "image/png"
    assert base64.b64decode(image.data)[:8] == b"\x89PNG\r\n\x1a\n"
    spec = result.structured_content["vega_lite"]
    assert spec["mark"]["type"] == "bar" and spec["data"]["values"] == data
    bad = error_of(await analytics.call_tool("make_chart", {"kind": "bar", "x": "category", "y": "nope", "data": data},
                                             raise_on_error=False))
    assert bad["field"] == "data" and "no column 'nope'" in bad["message"]
