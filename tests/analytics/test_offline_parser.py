"""The offline parser's contract (issue 17): every word that matters is used or the answer refuses and names it;
every answer starts with how the question was read; out-of-scope subjects and periods outside the data are refused
with the reason; an empty count is 0; the vetted queries it relies on pass the SQL guard."""

from __future__ import annotations

import re

import psycopg
import pytest
from fastmcp import Client

from servers.analytics import offline, question, sql_guard
from servers.analytics.context import saved_queries
from tests.helpers import AS_OF

CANNOT = "I can't answer that reliably"


async def ask(client: Client, text: str) -> dict:
    return (await client.call_tool("ask", {"question": text})).structured_content


@pytest.mark.parametrize(("text", "start"), [
    ("How many critical tickets did we get in the last 30 days?", "Tickets with urgency critical, the last 30 days: "),
    ("How many tickets were written in German?", "Tickets in German (de), all data (the last 90 days): "),
    ("How many tickets were answered by a human last week?", "Tickets answered by a human, last week: "),
    ("How many damaged item tickets did we have from September to October?",
     "Tickets in category damaged item, September–October 2026: "),
    ("Which channel do we get the fewest tickets on?", "Channel with the fewest tickets, all data"),
    ("Which category has the highest escalation rate?", "Category with the highest escalation rate"),
    ("What is the average first response time in minutes?", "Average (mean) first response time, all data"),
    ("How many tickets got a bad rating, 1 or 2 stars?", "Tickets rated 1-2, all data"),
])
async def test_every_answer_starts_with_how_the_question_was_read(analytics: Client, text: str, start: str) -> None:
    answer = await ask(analytics, text)
    assert answer["answered"] is True, answer["answer"]
    assert answer["answer"].startswith(start), answer["answer"]


async def test_the_filter_changes_the_number(analytics: Client, db: psycopg.AsyncConnection) -> None:
    critical = await ask(analytics, "How many critical tickets did we get in the last 30 days?")
    everything = await ask(analytics, "How many tickets did we get in the last 30 days?")
    row = await (await db.execute("SELECT count(*) FROM support_threads_data WHERE urgency = 'critical' AND "
                                  "created_at >= %s - interval '30 days' AND created_at < %s", (AS_OF, AS_OF))
                 ).fetchone()
    assert row is not None and critical["key_figure"]["value"] == row[0] < everything["key_figure"]["value"]


@pytest.mark.parametrize(("text", "word"), [
    ("How many tickets mentioned by grandmothers?", "mentioned"),
    ("How many zebra tickets did we get last week?", "zebra"),
    ("How many tickets per customer?", "per customer"),
    ("How many tickets were answered by the AI in the first week of November?", "first"),
])
async def test_a_word_it_does_not_understand_is_named_not_ignored(analytics: Client, text: str, word: str) -> None:
    answer = await ask(analytics, text)
    assert answer["answered"] is False
    assert answer["answer"].startswith(CANNOT)
    assert word in answer["answer"] or "not among the vetted queries" in answer["answer"] or \
        "searching what messages say" in answer["answer"], answer["answer"]


@pytest.mark.parametrize(("text", "reason"), [
    ("How many tickets should we expect next month?", "forecast"),
    ("Who is the best rated person on our support team?", "not identified per ticket"),
    ("How happy are customers with the taste of the products in the box?", "taste"),
    ("How much did the carriers charge us in October?", "carriers' charges"),
    ("How many tickets did we get in July 2026?", "starts before the data"),
    ("How many tickets came in during December 2026?", "has not happened yet"),
    ("How many tickets did we get in 2025?", "starts before the data"),
    ("What's our subscriber churn rate?", "subscriptions"),
    ("How many boxes did we ship in October?", "shipments"),
])
async def test_out_of_scope_and_out_of_range_are_refused_with_the_reason(analytics: Client, text: str,
                                                                         reason: str) -> None:
    answer = await ask(analytics, text)
    assert answer["answered"] is False and answer["answer"].startswith(CANNOT)
    assert reason in answer["answer"], answer["answer"]


async def test_an_empty_count_is_zero_not_no_data(analytics: Client) -> None:
    answer = await ask(analytics, "How many tickets took more than 30 days to resolve?")
    assert answer["answered"] is True and answer["key_figure"]["value"] == 0
    assert answer["answer"].startswith("Tickets resolved after more than 30 days, all data")


@pytest.mark.parametrize("text", [
    "What share of tickets came through the web widget last month?",
    "What is the most frequent reason customers contact us?",
    "What's our quietest day of the week?",
    "How many AI drafts did a human edit in October?",
    "What percentage of our tickets are shipping inquiries?",
])
async def test_no_refusal_where_a_vetted_query_holds_the_answer(analytics: Client, text: str) -> None:
    answer = await ask(analytics, text)
    assert answer["answered"] is True, answer["answer"]


def test_drafts_share_is_the_resolution_rate_not_the_ai_alone_share() -> None:
    resolution = offline.choose("What share of AI answers became drafts?", AS_OF)
    alone = offline.choose("What share of tickets did the AI handle alone?", AS_OF)
    assert isinstance(resolution, offline.QueryChoice) and isinstance(alone, offline.QueryChoice)
    assert resolution.key.endswith("resolution_rate_pct") and alone.key.endswith("ai_share_pct")


def test_superlatives_keep_their_direction_and_their_measure() -> None:
    fewest = offline.choose("Which channel has the fewest tickets?", AS_OF)
    rate = offline.choose("Which category has the highest escalation rate?", AS_OF)
    volume = offline.choose("Which category has the most escalations?", AS_OF)
    assert isinstance(fewest, offline.QueryChoice) and fewest.key == "bottom:tickets:label"
    assert isinstance(rate, offline.QueryChoice) and rate.key == "top:escalation_pct:label"
    assert isinstance(volume, offline.QueryChoice) and volume.key == "top:tickets:label"
    assert volume.params["handled"] == 1 << question.HANDLED.index("human")


def test_low_ratings_are_counted_not_averaged() -> None:
    count = offline.choose("How many low ratings did we get in November?", AS_OF)
    assert isinstance(count, offline.QueryChoice) and count.key == "first:tickets"
    assert (count.params["min_rating"], count.params["max_rating"]) == (1, 2)


@pytest.mark.parametrize("name", ["ticket_metrics", "agent_tasks", "answer_comparison", "category_rules",
                                  "conversation_messages"])
def test_the_general_vetted_queries_pass_the_sql_guard(name: str) -> None:
    # Vetted queries run without the guard (their parameters are typed); these take many filters, so they are held
    # to the same rules as free SQL: one SELECT over the allowed tables, no dangerous function.
    text = re.sub(r"%\((\w+)\)s", "NULL", saved_queries()[name].sql).replace("%%", "%")
    sql_guard.check(text)


@pytest.mark.parametrize(("query", "parameter", "order"), [
    ("ticket_metrics", "categories", question.CATEGORIES), ("ticket_metrics", "channels", question.CHANNELS),
    ("ticket_metrics", "urgencies", question.URGENCIES), ("ticket_metrics", "languages", question.LANGUAGES),
    ("ticket_metrics", "statuses", question.STATUSES), ("ticket_metrics", "handled", question.HANDLED),
    ("ticket_metrics", "models", question.MODELS), ("agent_tasks", "task_types", question.TASK_TYPES),
    ("agent_tasks", "statuses", question.TASK_STATUSES), ("agent_tasks", "errors", question.ERROR_KINDS),
    ("answer_comparison", "verdicts", question.VERDICTS), ("category_rules", "categories", question.CATEGORIES),
])
def test_the_bit_masks_the_parser_builds_are_the_ones_the_sql_reads(query: str, parameter: str,
                                                                    order: tuple[str, ...]) -> None:
    saved = saved_queries()[query]
    # The documented bits are 1, 2, 4, ... one per value...
    described = next(p.description for p in saved.params if p.name == parameter)
    assert [int(bit) for bit in re.findall(r"(?:^|, |: )(\d+) ", described)] == [1 << i for i in range(len(order))]
    # ...and the array the SQL takes the bit position from lists the same values in the same order.
    arrays = re.findall(r"ARRAY\[([^\]]*)\]", saved.sql.split(f"%({parameter})s", 1)[1])
    assert [v.strip().strip("'") for v in arrays[0].replace("\n", " ").split(",")] == list(order)
