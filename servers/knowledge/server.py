"""Knowledge MCP server: FAQ and policy passages per namespace, few-shot examples per category, and the
category rules in force. Read-only: ingestion is an admin command (`levhaolam knowledge ...`)."""

from __future__ import annotations

from typing import Annotated

from fastmcp import Context, FastMCP
from psycopg.rows import dict_row
from pydantic import Field

from schemas.categories import Category
from schemas.errors import ErrorCode
from schemas.knowledge import (
    AREA_NAMESPACES,
    CategoryInstructions,
    Example,
    ExampleList,
    NamespaceInfo,
    NamespaceList,
    SearchResult,
    examples_namespace,
)
from schemas.languages import LANGUAGES, detect_language
from schemas.settings import Settings
from servers.common.app import READ_ONLY, Transport, create_server
from servers.common.errors import ToolFailure, invalid
from servers.common.principal import Principal
from servers.common.runtime import Clock, runtime_of, utc_now
from servers.knowledge import retrieval
from servers.knowledge.embeddings import Embedder, embedder_for
from servers.knowledge.ingest import valid_namespace
from servers.knowledge.stores import VectorStore, vector_store_for

INSTRUCTIONS = """Lev Haolam's knowledge: search_knowledge for FAQ and policy passages (namespaces: faq, shipping,
retention, damage, payments, subscription, or all of them; in en, es, de, ru, he, fr), get_examples for the best
past answers of a category (few-shot), get_category_instructions for the rules in force. Answer only from what these
return."""

MAX_QUERY_CHARS = 2000
ALL = "all"  # every FAQ namespace: staff in Claude Desktop do not know which one holds the answer
Query = Annotated[
    str, Field(min_length=1, max_length=MAX_QUERY_CHARS, description="The customer's question or keywords")
]
K = Annotated[int, Field(ge=1, le=20, description="How many passages")]


def _clean(query: str) -> str:
    text = " ".join(query.split())
    if not text:
        raise invalid("query", "the query is empty; pass the customer's question")
    return text


def make_tools(store: VectorStore, embedder: Embedder) -> list:
    async def search_knowledge(query: Query, ctx: Context, namespace: Annotated[str, Field(
            description="faq, shipping, retention, damage, payments, subscription, or all (every one of them)"
            )] = "faq", k: K = 5, language: Annotated[str | None, Field(
            pattern=r"^[a-z]{2}$",
            description="The customer's language (en, es, de, ru, he, fr): its translation is searched first, "
                        "English fills the rest; detected from the query when omitted")] = None) -> SearchResult:
        """Passages that answer a question, best first, with score and source (hybrid: meaning + exact words).
        Quote them; do not answer beyond them."""
        if namespace != ALL and namespace not in AREA_NAMESPACES:
            raise ToolFailure(ErrorCode.NOT_FOUND, f"unknown namespace {namespace!r}; namespaces: "
                              f"{', '.join(AREA_NAMESPACES)} or {ALL} (examples come from get_examples)",
                              "namespace")
        text = _clean(query)
        # A language without a translation (Italian, say) is searched in English rather than refused: the
        # customer still gets the facts, and the answer is written in their language by whoever quotes them.
        wanted = (language or detect_language(text)).lower()
        searched = wanted if wanted in LANGUAGES else "en"
        async with runtime_of(ctx).pool.connection() as conn:
            passages = await retrieval.search(conn, store, embedder, AREA_NAMESPACES if namespace == ALL else namespace,
                                              text, k, language=searched)
        return SearchResult(query=text, namespace=namespace, language=searched, passages=passages)

    async def get_examples(category: Annotated[Category, Field(description="The support category")], query: Query,
                           ctx: Context, k: K = 3) -> ExampleList:
        """The best past answers of a category most similar to this message: few-shot examples of tone and
        content (question, answer, source ticket)."""
        text = _clean(query)
        async with runtime_of(ctx).pool.connection() as conn:
            passages = await retrieval.search(conn, store, embedder, examples_namespace(category), text, k)
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                "SELECT id, metadata FROM knowledge_chunks WHERE id = ANY(%s)", ([p.id for p in passages],)
            )
            meta = {r["id"]: r["metadata"] for r in await cur.fetchall()}
        examples = [Example(question=meta[p.id]["question"], answer=meta[p.id]["answer"], category=category,
                            source_ticket=meta[p.id].get("source_ticket"), score=p.score)
                    for p in passages if p.id in meta and "question" in meta[p.id]]
        return ExampleList(category=category, examples=examples)

    return [search_knowledge, get_examples]


async def get_category_instructions(category: Annotated[Category, Field(description="The support category")],
                                    ctx: Context) -> CategoryInstructions:
    """The category rules in force (the active version), layer 2 of the agent's prompt."""
    async with runtime_of(ctx).pool.connection() as conn:
        cur = conn.cursor(row_factory=dict_row)
        await cur.execute("SELECT category, version, instructions, created_by, created_at FROM "
                          "ai_answerer_instructions WHERE category = %s AND is_active", (category.value,))
        row = await cur.fetchone()
    if row is None:
        raise ToolFailure(ErrorCode.NOT_FOUND, f"no active rules for {category.value}; add them to "
                          "ai_answerer_instructions", "category")
    return CategoryInstructions(**row)


async def list_namespaces(ctx: Context) -> NamespaceList:
    """The knowledge namespaces with how many passages and sources each holds."""
    async with runtime_of(ctx).pool.connection() as conn:
        cur = await conn.execute("SELECT namespace, count(*), count(DISTINCT source) FROM knowledge_chunks "
                                 "GROUP BY namespace")
        counts = {r[0]: (r[1], r[2]) for r in await cur.fetchall()}
    names = [*AREA_NAMESPACES, *(examples_namespace(c) for c in Category)]
    names += sorted(n for n in counts if n not in names and valid_namespace(n))
    return NamespaceList(namespaces=[NamespaceInfo(name=n, passages=counts.get(n, (0, 0))[0],
                                                   sources=counts.get(n, (0, 0))[1]) for n in names])


def build(settings: Settings | None = None, *, transport: Transport = "memory", clock: Clock = utc_now,
          local_principal: Principal | None = None, embedder: Embedder | None = None,
          store: VectorStore | None = None) -> FastMCP:
    settings = settings or Settings()
    key = settings.openai_api_key
    embedder = embedder or embedder_for(key.get_secret_value() if key else None)
    mcp = create_server("knowledge", INSTRUCTIONS, settings, transport=transport, clock=clock,
                        local_principal=local_principal)
    for fn in (*make_tools(store or vector_store_for(settings), embedder), get_category_instructions, list_namespaces):
        mcp.tool(fn, annotations=READ_ONLY)
    return mcp
