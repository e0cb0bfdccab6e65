"""The analytics server's other attack classes: callers bound to one customer, and hostile chart input.

A customer-bound caller is refused by every analytics tool (typed `forbidden`, audited, nothing listed); chart
titles, labels and values of any shape end in a chart or the typed `invalid_argument`, never the generic error.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastmcp import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servers.analytics import charts
from servers.common.principal import Principal
from servers.registry import builder
from store.summary import content_checksum
from tests.conftest import ServerFactory
from tests.helpers import audit_rows, bearer, http_client, http_server, memory_client, settings_for

CALLS: dict[str, dict[str, Any]] = {
    "list_tables": {},
    "describe_table": {"name": "support_threads_data"},
    "get_business_rules": {},
    "list_saved_queries": {},
    "run_saved_query": {"name": "ticket_count"},
    "run_sql": {"sql": "SELECT customer_email FROM support_threads_data"},
    "record_learning": {"question": "who wrote?", "mistake": "none", "fix": "none"},
    "search_learnings": {"query": "email"},
    "make_chart": {"kind": "bar", "x": "a", "y": "b", "data": [{"a": "x", "b": 1}]},
    "ask": {"question": "How many tickets did the AI handle this week?"},
}


def typed(result: Any) -> dict:
    """The documented error object, whatever else the text might have been (the generic error is not JSON)."""
    assert result.is_error, result
    text = result.content[0].text
    try:
        error = json.loads(text)
    except ValueError:
        pytest.fail(f"untyped error: {text!r}")
    assert set(error) <= {"code", "field", "message"} and error["code"] and len(error["message"]) >= 15, error
    return error


async def _state(db) -> tuple:
    row = await (await db.execute("SELECT (SELECT count(*) FROM analytics_learnings)")).fetchone()
    return row, await content_checksum(db)


# 1. A caller bound to one customer: analytics reads everyone's history, so none of it is for that caller.
@pytest.fixture
async def bound(make_server: ServerFactory, db) -> AsyncIterator[tuple[Client, int]]:
    customer = (await (await db.execute("SELECT min(customer_id) FROM support_threads_data")).fetchone())[0]
    principal = Principal(subject="orchestrator/shipping_inquiry", scope="shipping_inquiry", tools=("*",),
                          customer_id=customer, conversation_id="cw-77")
    async with memory_client(make_server("analytics", principal=principal)) as client:
        yield client, customer


async def test_a_customer_bound_caller_sees_no_analytics_tool(bound) -> None:
    client, _ = bound
    assert await client.list_tools() == []


@pytest.mark.parametrize("tool", sorted(CALLS))
async def test_every_analytics_tool_refuses_a_customer_bound_caller_and_audits_it(bound, db, tool: str) -> None:
    client, customer = bound
    before = await _state(db)
    error = typed(await client.call_tool(tool, CALLS[tool], raise_on_error=False))
    assert error["code"] == "forbidden" and "bound to one customer" in error["message"]
    [row] = await audit_rows(db, tool)
    assert (row["outcome"], row["error_code"], row["caller"], row["server"], row["conversation_id"]) == (
        "refused", "forbidden", "orchestrator/shipping_inquiry", "analytics", "cw-77")
    assert await _state(db) == before


async def test_over_http_a_customer_token_cannot_read_other_customers_emails(db_url: str, db) -> None:
    customer = (await (await db.execute("SELECT min(customer_id) FROM support_threads_data")).fetchone())[0]
    server = builder("analytics")(settings_for(db_url), transport="http")
    token = bearer(["run_sql", "ask", "list_tables"], scope="shipping_inquiry", customer_id=customer)
    async with http_server(server) as url, http_client(url, token) as client:
        assert await client.list_tools() == []
        error = typed(await client.call_tool("run_sql", CALLS["run_sql"], raise_on_error=False))
    assert error["code"] == "forbidden"
    [row] = await audit_rows(db, "run_sql")
    assert (row["outcome"], row["error_code"], row["scope"]) == ("refused", "forbidden", "shipping_inquiry")


async def test_staff_still_use_analytics(make_server: ServerFactory) -> None:
    async with memory_client(make_server("analytics")) as client:
        result = await client.call_tool("run_sql", {"sql": "SELECT count(*) AS n FROM support_threads_data"})
    assert result.structured_content["rows"][0][0] > 0


# 2. Hostile chart input through the tool: a chart, or the typed error naming what to change.
@pytest.fixture
async def analytics(make_server: ServerFactory) -> AsyncIterator[Client]:
    async with memory_client(make_server("analytics")) as client:
        yield client


MATHTEXT = ["$\\frac{$", "$\\frac{", "$\\sqrt{$", "a $x^$ b", "$\\undefinedmacro$", "$" + "{" * 190 + "$", "$$$$",
            "$5 box, $10 box", "\\$x$y$", "$\\mathrm{%s}$", "$\\left($", "$a_{b_{c_{d}}}$"]


@pytest.mark.parametrize("text", MATHTEXT)
async def test_mathtext_in_a_title_or_label_is_drawn_as_written(analytics: Client, text: str) -> None:
    for arguments in ({"title": text, "data": [{"a": "x", "b": 1}]},
                      {"title": "t", "data": [{"a": text, "b": 1}, {"a": "y", "b": 2}]}):
        result = await analytics.call_tool("make_chart", {"kind": "bar", "x": "a", "y": "b", **arguments},
                                           raise_on_error=False)
        assert not result.is_error, result.content
        assert result.content[0].type == "image"
        assert result.structured_content["vega_lite"]["title"] == arguments["title"]


@pytest.mark.parametrize(("data", "fragment"), [
    ([{"a": "x", "b": "twelve"}], "must be numeric, but row 0 has 'twelve'"),
    ([{"a": "x", "b": 1}, {"a": "y", "b": "n/a"}], "row 1 has 'n/a'"),
    ([{"a": "x", "b": 1}, {"a": "y", "b": "12"}], "row 1 has '12'"),
    ([{"a": "x", "b": 1}, {"a": "y", "b": True}], "row 1 has 'True'"),
    ([{"a": "x", "b": 1}, {"a": "y", "b": [1]}], "row 1 has '[1]'"),
    ([{"a": "x", "b": 1}, {"a": "y", "b": {"v": 1}}], "row 1 has"),
    ([{"a": "x", "b": 1}, {"a": "y"}], "row 1 has no column 'b'"),
    ([{"a": "x", "b": 1}, {"b": 2}], "row 1 has no column 'a'"),
    ([{"a": "x", "b": None}], "has no numbers to chart"),
])
async def test_values_that_cannot_be_charted_are_a_typed_error(analytics: Client, data: list, fragment: str) -> None:
    error = typed(await analytics.call_tool("make_chart", {"kind": "line", "x": "a", "y": "b", "data": data},
                                            raise_on_error=False))
    assert error["code"] == "invalid_argument" and error["field"] == "data" and fragment in error["message"]


_ANY_TEXT = st.text(max_size=200)
_VALUE = st.one_of(st.none(), st.integers(-10**18, 10**18), st.floats(allow_nan=True, allow_infinity=True),
                   st.booleans(), _ANY_TEXT)


@pytest.mark.filterwarnings("ignore:Glyph:UserWarning")  # a character the font lacks is drawn as a box
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=_ANY_TEXT, rows=st.lists(st.fixed_dictionaries({"a": _VALUE, "b": _VALUE}), min_size=1, max_size=12),
       kind=st.sampled_from(["bar", "line"]))
def test_any_title_and_rows_give_a_chart_or_a_chart_error(title: str, rows: list[dict], kind: str) -> None:
    try:
        png = charts.render_png(charts.vega_lite(rows, kind, "a", "b", title))  # type: ignore[arg-type]
    except charts.ChartError as refusal:
        assert str(refusal)
        return
    assert png[:4] == b"\x89PNG"
    assert all(row["b"] is None or (not isinstance(row["b"], bool) and math.isfinite(row["b"])) for row in rows)


# 3. Text search over learnings: tsquery syntax in the words is only text (websearch_to_tsquery reads raw input).
@pytest.mark.parametrize("query", ["https://en.wikipedia.org/wiki/Special:Search", "http://example.com/path:zz",
                                   "&|!():*<>'\\", "a:* & !b <-> (c", "'", "\\", "\"unclosed", "-\"x\" or", "!!!",
                                   ":*", "<2>", "x" * 500])
async def test_learnings_search_reads_any_text_as_words(analytics: Client, query: str) -> None:
    result = await analytics.call_tool("search_learnings", {"query": query}, raise_on_error=False)
    assert not result.is_error, result.content
    assert isinstance(result.structured_content["learnings"], list)
