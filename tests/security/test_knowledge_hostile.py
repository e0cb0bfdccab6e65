"""The knowledge server's attack classes: text that full-text search could read as tsquery syntax, and personal
data of one customer reaching another customer's conversation through few-shot examples.

Search: every tsquery operator, URLs with colons, quotes and backslashes, in the tools and fuzzed against the
search itself; nothing fails and the ranking of ordinary questions is what it was. Examples: every imported
example of the demo data carries no customer's name, e-mail, phone, address, order or tracking number.
"""

from __future__ import annotations

import asyncio
import calendar
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastmcp import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servers.knowledge import retrieval
from servers.knowledge.redaction import KnownPersonalData, redact
from servers.registry import builder
from store.demo import catalog
from store.demo.generator import COUNTRY_NAMES
from tests.helpers import fixed_clock, settings_for

EVAL = json.loads((Path(__file__).parents[1] / "knowledge" / "retrieval_eval.json").read_text())
OPERATORS = ["&", "|", "!", "<->", "<2>", "<0>", "(", ")", ":*", ":A", ":ABCD", "'", "''", "\\", "\\'", "*", ":"]
TSQUERY_TEXT = [
    "https://en.wikipedia.org/wiki/Special:Search", "http://example.com/path:zz", "https://x.org/a:b:c?d=e:f#g:h",
    "mailto:dana@example.com", "C:\\Users\\dana\\box.txt", "ftp://a:b@host:21/x:y", "urn:isbn:0451450523",
    "order:123 status:lost", "12:30", "word:", ":word", "a:*", "a:* & b:A", "!box", "box & !!!", "(box", "box)",
    "box <-> jar", "box <5> jar", "'box", "box'", "'box & jar'", "it's", "O'Reilly's box", "\\", "\\\\'", "''''",
    "&|!():*<>'\\", "& | ! ( ) : * < > ' \\", " ".join(OPERATORS), "".join(OPERATORS) * 50,
    "box:" * 400, "שלום:עולם", "日本:東京", "ß:ẞ", "\u200b:\u200b", "💥:💥", "NULL", "a" * 3000,
]
SEARCHES = [("search_knowledge", {"namespace": ns}) for ns in ("faq", "shipping", "damage")] + [
    ("get_examples", {"category": "damaged_item"}), ("get_examples", {"category": "shipping_inquiry"})]


@pytest.fixture
async def knowledge(knowledge_url: str, embedder) -> AsyncIterator[Client]:
    server = builder("knowledge")(settings_for(knowledge_url), transport="memory", clock=fixed_clock,
                                  embedder=embedder)
    async with Client(server) as client:
        yield client


@pytest.fixture
async def kconn(knowledge_url: str) -> AsyncIterator[psycopg.AsyncConnection]:
    async with await psycopg.AsyncConnection.connect(knowledge_url, autocommit=True) as conn:
        yield conn


# 1. Text that tsquery would read as syntax: the tools answer, whatever the text.
async def test_tsquery_syntax_in_any_search_is_only_text(knowledge: Client) -> None:
    failed = []
    for text in TSQUERY_TEXT:
        for tool, arguments in SEARCHES:
            result = await knowledge.call_tool(tool, {"query": text[:2000], **arguments}, raise_on_error=False)
            if result.is_error:
                error = json.loads(result.content[0].text) if result.content[0].text.startswith("{") else None
                if not (error and error["code"] == "invalid_argument" and error["field"] == "query"):
                    failed.append((tool, text[:60], result.content[0].text[:120]))
    assert failed == []


async def test_a_url_with_a_colon_finds_what_its_words_find(knowledge: Client) -> None:
    result = await knowledge.call_tool("search_knowledge", {"query": "https://levhaolam.com/shipping:Portugal",
                                                            "namespace": "shipping", "k": 5})
    assert any("Portugal" in p["content"] for p in result.structured_content["passages"])


_FUZZ = st.lists(st.sampled_from([*OPERATORS, " ", "box", "Portugal", "jar", "http://", "x.org/", "a", "7", "é",
                                  "ש", "\t", "\n", "%", "$", "@", "[", "]", "{", "}", ",", ";", "-", "_", "/", "."]),
                 max_size=40).map("".join) | st.text(max_size=120)


def test_the_text_search_accepts_any_string(knowledge_url: str) -> None:
    # Hypothesis drives a synchronous test; the search runs on a private event loop and connection.
    loop = asyncio.new_event_loop()
    conn = loop.run_until_complete(psycopg.AsyncConnection.connect(knowledge_url, autocommit=True))
    try:
        @settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
        @given(_FUZZ)
        def search_never_fails(text: str) -> None:
            hits = loop.run_until_complete(retrieval.text_search(conn, "shipping", text.replace("\x00", ""), 5))
            assert all(isinstance(cid, int) and rank >= 0 for cid, rank in hits)

        search_never_fails()
    finally:
        loop.run_until_complete(conn.close())
        loop.close()


# The query as it was built before the fix (lexemes joined unquoted): the reference for ordinary questions.
_BEFORE = ("WITH q AS (SELECT to_tsquery('english', coalesce(nullif(array_to_string("
           "tsvector_to_array(to_tsvector('english', %(q)s)), ' | '), ''), 'zzzzzz')) AS q) "
           "SELECT c.id, ts_rank(c.tsv, q.q, 1) AS rank FROM knowledge_chunks c, q "
           "WHERE c.namespace = %(ns)s AND c.tsv @@ q.q ORDER BY rank DESC, c.id LIMIT %(k)s")


async def test_ordinary_questions_rank_exactly_as_before(kconn: psycopg.AsyncConnection) -> None:
    # Recall@5 of the eval set is unchanged because the full-text ranking of every question is unchanged.
    for item in EVAL:
        before = await (await kconn.execute(_BEFORE, {"q": item["q"], "ns": item["ns"], "k": 20})).fetchall()
        after = await retrieval.text_search(kconn, item["ns"], item["q"], 20)
        assert [(r[0], pytest.approx(r[1])) for r in before] == after, item["q"]


# 2. Personal data in few-shot examples.
def _fixed_words() -> set[str]:
    """The words of the demo's fixed texts (messages, answers, products, countries, months): not personal data."""
    texts: list[str] = [*catalog.HUMAN_EDIT_SUFFIXES, *catalog.HUMAN_OWN_ANSWERS, *COUNTRY_NAMES.values(),
                        *calendar.month_name, *(p.name for p in catalog.PRODUCTS)]
    for by_category in (catalog.CUSTOMER_MESSAGES, catalog.AI_ANSWERS):
        texts += [t for messages in by_category.values() for t in messages]
    return {w for text in texts for w in re.findall(r"\w+", re.sub(r"\{\w+\}", " ", text))}


async def _people(conn: psycopg.AsyncConnection) -> dict[str, Any]:
    async def column(query: str) -> list:
        return [r[0] for r in await (await conn.execute(query)).fetchall()]

    return {
        "names": await column("SELECT DISTINCT n FROM customers, unnest(ARRAY[first_name, last_name, "
                              "first_name || ' ' || last_name]) AS n"),
        "emails": await column("SELECT email FROM customers UNION SELECT customer_email FROM support_threads_data"),
        "phones": await column("SELECT phone FROM customers WHERE phone IS NOT NULL"),
        "lines": await column("SELECT line1 FROM addresses"),
        "tracking": await column("SELECT tracking_number FROM shipments"),
    }


def _leaks(text: str, people: dict[str, Any], fixed: set[str]) -> list[str]:
    found = [f"e-mail {e}" for e in people["emails"] if e.lower() in text.lower()]
    found += [f"phone {p}" for p in people["phones"] if p in text or p.lstrip("+") in re.sub(r"\D", "", text)]
    found += [f"address {a}" for a in people["lines"] if a in text]
    found += [f"tracking {t}" for t in people["tracking"] if t in text]
    found += [f"name {n}" for n in people["names"]
              if n not in fixed and re.search(rf"(?<!\w){re.escape(n)}(?!\w)", text)]
    # Order numbers are small integers: no number may remain that the fixed texts do not have ("5-7", "120%").
    found += [f"number {d}" for d in re.findall(r"\d+", text) if d not in fixed]
    found += [f"order {m}" for m in re.findall(r"#\s*\d+|\border\s*#?\s*\d+", text, re.IGNORECASE)]
    if "@" in text:
        found.append("an @")
    return found


async def test_no_imported_example_carries_anyones_personal_data(kconn: psycopg.AsyncConnection) -> None:
    rows = await (await kconn.execute(
        "SELECT title, content, metadata->>'question', metadata->>'answer', (metadata->>'source_ticket')::bigint "
        "FROM knowledge_chunks WHERE namespace LIKE 'examples/%'")).fetchall()
    assert len(rows) >= 100
    people, fixed = await _people(kconn), _fixed_words()
    leaks = {}
    for title, content, question, answer, ticket in rows:
        found = _leaks("\n".join([title, content, question, answer]), people, fixed)
        if found:
            leaks[ticket] = found
    assert leaks == {}
    # The placeholders are there, where the data was.
    assert sum("[NAME]" in r[1] for r in rows) > len(rows) / 2
    assert any("#[ORDER]" in r[1] for r in rows) and any("[TRACKING]" in r[1] for r in rows)


async def test_the_examples_tool_hands_out_no_personal_data(knowledge: Client, kconn) -> None:
    people, fixed = await _people(kconn), _fixed_words()
    for category, question in (("shipping_inquiry", "where is my order #4521, tracking RR123456789IL?"),
                               ("damaged_item", "the jar arrived broken"), ("other", "I want a manager")):
        result = await knowledge.call_tool("get_examples", {"category": category, "query": question, "k": 10})
        for example in result.structured_content["examples"]:
            assert _leaks(f"{example['question']}\n{example['answer']}", people, fixed) == []


# The redaction itself, on the whole class: each kind of personal data in the shapes it comes in.
KNOWN = KnownPersonalData(names=("Luiz Otávio Souza", "Luiz Otávio", "Souza"), emails=("luiz.souza@mail.com.br",),
                          phones=("+5511987654321",),
                          addresses=("Rua das Flores 120", "Apt 40", "Campinas", "13010-090"), orders=("73519",),
                          tracking=("1Z8V000000000123",))
CASES = [
    ("Hi Luiz Otávio, your order #73519 ships soon.", ["Luiz", "Otávio", "73519"]),
    ("Dear Mr Souza, we wrote to luiz.souza@mail.com.br and LUIZ.SOUZA@MAIL.COM.BR.", ["Souza", "luiz.souza"]),
    ("Call +5511987654321, +55 11 98765-4321 or 0044 20 7946 0958 or (555) 123-4567.",
     ["987654321", "98765-4321", "7946", "123-4567"]),
    ("Tracking 1Z8V000000000123, RR123456789IL, 3000000123, 700000000123, LX987654321DE and 1Z999AA10123456784.",
     ["1Z8V", "RR123456789IL", "3000000123", "700000000123", "LX987654321DE", "1Z999AA1"]),
    ("Order number: 4521, order no. 77, ORDER #5, order 12345 and #99.", ["4521", "77", "#5", "12345", "#99"]),
    ("Ship it to Rua das Flores 120, Apt 40, Campinas 13010-090.", ["Flores", "Apt 40", "Campinas", "13010"]),
    ("New address: 1637 Collier Flats, Jamesmouth. Or 12 Main Street.", ["1637 Collier", "12 Main"]),
    ("Hi שרה, shalom Hans-Eberhard! Thanks, Michelle. Dear Bárbara:", ["שרה", "Hans-Eberhard", "Michelle",
                                                                        "Bárbara"]),
    ("mail me: a.b+c@sub.example.co.uk or x@y.io", ["a.b+c", "x@y.io", "@"]),
]


@pytest.mark.parametrize(("text", "gone"), CASES)
def test_redaction_removes_each_kind_of_personal_data(text: str, gone: list[str]) -> None:
    redacted = redact(text, KNOWN)
    assert [g for g in gone if g.lower() in redacted.lower()] == [], redacted


@pytest.mark.parametrize("text", [
    "Hi there, every box has 5-7 products; store credit of 120% within 2 business days.",
    "Thank you for your patience. Hi team! Hello, I need help.",
    "Your December box ships from Israel in the first week of the month.",
])
def test_redaction_leaves_text_without_personal_data_alone(text: str) -> None:
    assert redact(text) == text


_NAMES = st.sampled_from(["Sarah", "Luiz Otávio", "Hans-Eberhard", "Agnès", "שרה", "Élise", "Mary Ann", "O'Neil"])
_DIGITS = st.integers(10_000, 99_999)


@settings(max_examples=200, deadline=None)
@given(name=_NAMES, order=_DIGITS, track=st.integers(10**8, 10**9 - 1), phone=st.integers(10**8, 10**10),
       greeting=st.sampled_from(["Hi", "Hello", "Dear", "Hey", "Thanks,"]),
       user=st.from_regex(r"[a-z][a-z0-9.]{1,10}", fullmatch=True))
def test_redaction_of_generated_answers(name: str, order: int, track: int, phone: int, greeting: str,
                                        user: str) -> None:
    text = (f"{greeting} {name}, order #{order} left with tracking RR{track}IL. Reply to {user}@example.org "
            f"or call +{phone}.")
    redacted = redact(text)
    for value in (name, str(order), str(track), str(phone), f"{user}@"):
        assert value not in redacted, redacted
