"""Knowledge server tools through the real MCP client."""

from __future__ import annotations

import pytest
from fastmcp import Client

from servers.registry import builder
from tests.helpers import error_of, fixed_clock, settings_for


@pytest.fixture
async def knowledge(knowledge_url: str, embedder):
    server = builder("knowledge")(settings_for(knowledge_url), transport="memory", clock=fixed_clock,
                                  embedder=embedder)
    async with Client(server) as client:
        yield client


async def test_search_returns_passages_with_score_and_source(knowledge: Client) -> None:
    result = (await knowledge.call_tool("search_knowledge", {"query": "do you deliver to Portugal?",
                                                             "namespace": "shipping", "k": 3})).structured_content
    assert result["namespace"] == "shipping" and len(result["passages"]) == 3
    top = result["passages"][0]
    assert top["title"] == "Which countries do you ship to?" and "Portugal" in top["content"]
    assert top["source"].endswith("docs/help-center/shipping.md") and top["score"] > 0
    scores = [p["score"] for p in result["passages"]]
    assert scores == sorted(scores, reverse=True)


async def test_examples_are_past_answers_of_the_category(knowledge: Client, kconn) -> None:
    result = (await knowledge.call_tool("get_examples", {"category": "damaged_item", "query": "the jar arrived broken",
                                                         "k": 3})).structured_content
    assert result["category"] == "damaged_item" and len(result["examples"]) == 3
    example = result["examples"][0]
    row = await (await kconn.execute("SELECT category, human_approved, rating FROM support_threads_data WHERE id = %s",
                                     (example["source_ticket"],))).fetchone()
    assert row[0] == "damaged_item" and row[1] is True and row[2] >= 4
    assert example["question"] and example["answer"]


async def test_category_instructions_are_the_active_version(knowledge: Client) -> None:
    rules = (await knowledge.call_tool("get_category_instructions", {"category": "skip_month"})).structured_content
    assert rules["version"] == 2 and "cut-off" in rules["instructions"]


async def test_namespaces_are_listed_with_counts(knowledge: Client) -> None:
    listed = {n["name"]: n for n in (await knowledge.call_tool("list_namespaces", {})).structured_content["namespaces"]}
    # 12 sections in each of the six languages (English and five translations).
    assert listed["faq"]["passages"] == 12 * 6 and listed["faq"]["sources"] == 6
    assert listed["examples/damaged_item"]["passages"] > 0 and len(listed) == 16


@pytest.mark.parametrize(("tool", "arguments", "field", "fragment"), [
    ("search_knowledge", {"query": "hi", "namespace": "recipes"}, "namespace", "unknown namespace 'recipes'"),
    ("search_knowledge", {"query": "   ", "namespace": "faq"}, "query", "the query is empty"),
    ("search_knowledge", {"query": "", "namespace": "faq"}, "query", "at least 1 character"),
    ("search_knowledge", {"query": "x" * 10_000_000, "namespace": "faq"}, "query", "at most 2000 characters"),
    ("search_knowledge", {"query": "hi", "k": 0}, "k", "greater than or equal to 1"),
    ("search_knowledge", {"query": "hi", "k": 21}, "k", "less than or equal to 20"),
    ("get_examples", {"category": "refunds", "query": "hi"}, "category", "Input should be"),
    ("get_category_instructions", {"category": "shipping"}, "category", "Input should be"),
])
async def test_bad_input_is_refused_with_the_field(knowledge: Client, tool: str, arguments: dict, field: str,
                                                   fragment: str) -> None:
    error = error_of(await knowledge.call_tool(tool, arguments, raise_on_error=False))
    assert error["code"] in ("invalid_argument", "not_found") and error["field"] == field
    assert fragment in error["message"]


async def test_search_in_the_customers_language_and_across_namespaces(knowledge: Client) -> None:
    spanish = (await knowledge.call_tool("search_knowledge", {"query": "quiero cancelar mi suscripción",
                                                              "namespace": "retention", "k": 3})).structured_content
    assert spanish["language"] == "es" and all(p["language"] == "es" for p in spanish["passages"])
    assert spanish["passages"][0]["source"].endswith("docs/help-center/es/retention.md")
    # A language without a translation is searched in English rather than refused.
    italian = (await knowledge.call_tool("search_knowledge", {"query": "how do I cancel", "namespace": "retention",
                                                              "language": "it"})).structured_content
    assert italian["language"] == "en" and italian["passages"]
    anywhere = (await knowledge.call_tool("search_knowledge", {"query": "do you deliver to Portugal?",
                                                               "namespace": "all", "k": 3})).structured_content
    assert anywhere["passages"][0]["title"] == "Which countries do you ship to?"
    assert anywhere["passages"][0]["namespace"] == "shipping"
