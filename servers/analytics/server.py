"""Analytics MCP server (Dash-style): the six context layers, safe read-only SQL, saved queries,
learnings, charts, and `ask` that answers a plain-language question end to end."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from agents import Model
from agents.exceptions import AgentsException
from fastmcp import Context, FastMCP
from fastmcp.tools.base import ToolResult
from fastmcp.utilities.types import Image
from mcp_types import ToolAnnotations
from openai import OpenAIError
from psycopg_pool import AsyncConnectionPool
from pydantic import Field

from schemas.analytics import (
    Answer,
    BusinessRules,
    Learning,
    LearningList,
    QueryResult,
    SavedQueryList,
    TableInfo,
    TableList,
)
from schemas.errors import ErrorCode
from schemas.settings import Settings
from servers.analytics import agent, answers, charts, context, offline, queries
from servers.analytics.access import NoCustomerBoundCallers
from servers.analytics.executor import MAX_ROWS_LIMIT
from servers.analytics.reader import reader_of, with_reader_pool
from servers.common.app import READ_ONLY, Transport, create_server
from servers.common.errors import ToolFailure, invalid
from servers.common.principal import Principal
from servers.common.runtime import Clock, Runtime, runtime_of, utc_now

log = logging.getLogger(__name__)

INSTRUCTIONS = """Analytics over Lev Haolam's support history (tickets, dialogues, AI vs human, agent tasks, rules).
Start with ask for common questions. To write SQL: read list_tables / describe_table, get_business_rules (metric
definitions), list_saved_queries (vetted patterns) and search_learnings; then run_sql with one SELECT. When a query
was wrong and you found the fix, record_learning. All SQL is read-only, time-limited and row-capped."""

MaxRows = Annotated[
    int, Field(ge=1, le=MAX_ROWS_LIMIT, description="Rows to return at most; the result says if more existed")
]


def _runtime(ctx: Context) -> Runtime:
    return runtime_of(ctx)


async def list_tables(ctx: Context) -> TableList:
    """The support tables analytics can query, with what each column means (live schema + documentation)."""
    async with _runtime(ctx).pool.connection() as conn:
        return TableList(tables=await context.live_tables(conn))


async def describe_table(name: Annotated[str, Field(max_length=100, description="A table from list_tables")],
                         ctx: Context) -> TableInfo:
    """Columns, types, meanings and caveats of one table."""
    async with _runtime(ctx).pool.connection() as conn:
        tables = {t.name: t for t in await context.live_tables(conn)}
    if name not in tables:
        raise not_found_table(name)
    return tables[name]


def not_found_table(name: str) -> ToolFailure:
    return ToolFailure(
        ErrorCode.NOT_FOUND, f"no table {name!r} for analytics; tables: {', '.join(context.ALLOWED_TABLES)}", "name"
    )


async def get_business_rules(ctx: Context) -> BusinessRules:
    """Metric definitions (resolution rate, handled by AI, response time, stuck, ...) and the active rules of
    every support category. Use them so numbers mean what the business means."""
    async with _runtime(ctx).pool.connection() as conn:
        rules = await context.category_rules(conn)
    return BusinessRules(rules=context.business_rules(), category_rules=rules)


async def list_saved_queries() -> SavedQueryList:
    """Vetted query patterns with their parameters: prefer them to writing SQL."""
    return SavedQueryList(queries=list(context.saved_queries().values()))


async def run_saved_query(
    name: Annotated[str, Field(max_length=100, description="A query from list_saved_queries")],
    ctx: Context,
    params: Annotated[dict[str, Any], Field(description="Parameter values by name; ISO dates for timestamptz")] = {},  # noqa: B006
    max_rows: MaxRows = 200,
) -> QueryResult:
    """Run a vetted query with parameters (read-only)."""
    return await queries.run_saved(_runtime(ctx), reader_of(ctx), name, params, max_rows)


async def run_sql(
    sql: Annotated[str, Field(min_length=1, max_length=20_000, description="Exactly one SELECT (or WITH ... SELECT)")],
    ctx: Context,
    max_rows: MaxRows = 100,
) -> QueryResult:
    """Run one read-only SELECT over the support tables: checked by a parser, run as a SELECT-only role in a
    READ ONLY transaction with a 5 s timeout; results over max_rows are truncated and marked so."""
    return await queries.run_checked_sql(_runtime(ctx), reader_of(ctx), sql, max_rows)


async def record_learning(
    question: Annotated[str, Field(min_length=3, max_length=2000, description="The question being answered")],
    mistake: Annotated[str, Field(min_length=3, max_length=4000, description="What was wrong")],
    fix: Annotated[str, Field(min_length=3, max_length=4000, description="What is right, to remember next time")],
    ctx: Context,
    sql: Annotated[str | None, Field(max_length=20_000, description="The corrected SQL")] = None,
    tags: Annotated[list[Annotated[str, Field(min_length=1, max_length=40)]], Field(max_length=10)] = [],  # noqa: B006
) -> Learning:
    """Remember a mistake and its fix (e.g. 'handled by AI means handled_by = ai, not ai_answered_at'), so later
    answers are grounded in it."""
    runtime = _runtime(ctx)
    async with runtime.pool.connection() as conn:
        learning_id = await queries.insert_learning(conn, question=question, mistake=mistake, fix=fix, sql=sql,
                                                    tags=tags, created_by=runtime.principal().subject)
    return Learning(id=learning_id, question=question, mistake=mistake, fix=fix, sql=sql, tags=tags)


async def search_learnings(
    query: Annotated[str, Field(min_length=1, max_length=500, description="Words from the question or a tag")],
    ctx: Context,
    limit: Annotated[int, Field(ge=1, le=50)] = 5,
) -> LearningList:
    """Earlier mistakes and fixes relevant to a question."""
    async with _runtime(ctx).pool.connection() as conn:
        return LearningList(learnings=await context.search_learnings(conn, query, limit))


async def make_chart(
    kind: Annotated[charts.ChartKind, Field(description="bar or line")],
    x: Annotated[str, Field(description="Column for the x axis")],
    y: Annotated[str, Field(description="Numeric column for the y axis")],
    data: Annotated[list[dict[str, Any]], Field(min_length=1, max_length=1000, description="Rows, e.g. from run_sql")],
    title: Annotated[str, Field(max_length=200)] = "",
) -> ToolResult:
    """A chart of rows: returns the PNG image and the Vega-Lite spec (structured content)."""
    try:
        spec = charts.vega_lite(data, kind, x, y, title)
    except charts.ChartError as exc:
        raise invalid("data", str(exc)) from None
    try:
        png = await asyncio.to_thread(charts.render_png, spec)
    except charts.ChartError as exc:
        raise invalid("title", str(exc)) from None
    return ToolResult(
        content=[Image(data=png, format="png").to_image_content()], structured_content={"vega_lite": spec}
    )


async def answer_offline(runtime: Runtime, reader: AsyncConnectionPool, question: str) -> Answer:
    choice = offline.choose(question, runtime.clock())
    if isinstance(choice, offline.Refusal):
        return Answer(question=question, answered=False, answer=f"{answers.CANNOT}: {choice.reason}.")
    result = await queries.run_saved(runtime, reader, choice.query, choice.params, max_rows=500)
    try:
        figure = answers.figure_or_reason(choice, result)
    except answers.NoFigure as empty:
        # Counts never land here (an empty count is 0); this is an average or a ranking over nothing.
        return Answer(question=question, answered=False, query=choice.query, result=result,
                      answer=f"{answers.CANNOT}: {choice.interpretation}: {empty}.")
    saved = context.saved_queries()[choice.query]
    chart = None
    if saved.chart and result.rows:
        try:
            chart = charts.vega_lite(charts.records(result), saved.chart["kind"], saved.chart["x"], saved.chart["y"],
                                     question.strip())
        except charts.ChartError:  # e.g. an average over a period without ratings: the answer stands, no chart
            chart = None
    params = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in choice.params.items() if v is not None}
    return Answer(
        question=question,
        answered=True,
        answer=answers.sentence(choice, figure, result),
        key_figure=figure,
        query=choice.query,
        params=params,
        period=choice.period.label if choice.period else None,
        result=result,
        chart=chart,
    )


def make_ask(model: Model | None) -> Callable[..., Awaitable[Answer]]:
    """The ask tool: with a model, the analytics agent writes grounded SQL; without one, vetted queries answer."""

    async def ask(
        question: Annotated[str, Field(min_length=3, max_length=1000, description="A question in plain language")],
        ctx: Context,
    ) -> Answer:
        """Answer a question about support end to end: the numbers, a one-sentence answer, the data and a chart
        spec. Says "I can't answer that reliably" instead of guessing."""
        runtime, reader = _runtime(ctx), reader_of(ctx)
        if model is None:
            return await answer_offline(runtime, reader, question)
        try:
            return await agent.answer_with_model(runtime, reader, model, question)
        except (AgentsException, OpenAIError) as exc:
            # The model is down or misbehaved: the vetted queries still answer the common questions.
            log.warning("analytics model failed (%s); answering offline", type(exc).__name__)
            return await answer_offline(runtime, reader, question)

    return ask


def build(settings: Settings | None = None, *, transport: Transport = "memory", clock: Clock = utc_now,
          local_principal: Principal | None = None, model: Model | None = None) -> FastMCP:
    """`model`: an openai-agents Model for ask; by default the configured OpenAI model, or offline without a key."""
    settings = settings or Settings()
    if model is None:
        model = agent.default_model(settings)
    mcp = create_server("analytics", INSTRUCTIONS, settings, transport=transport, clock=clock,
                        local_principal=local_principal)
    # SQL runs on a pool of its own that logs in as the SELECT-only role. FastMCP composes lifespans only when a
    # server is constructed, and create_server builds the platform's, so the reader pool is wrapped around it here.
    mcp._lifespan = with_reader_pool(mcp._lifespan)
    # Innermost: the platform middleware around it audits the refusal.
    mcp.add_middleware(NoCustomerBoundCallers())
    for fn in (list_tables, describe_table, get_business_rules, list_saved_queries, run_saved_query, run_sql,
               search_learnings, make_ask(model)):
        mcp.tool(fn, annotations=READ_ONLY)
    # The PNG travels as image content; the structured part is the Vega-Lite spec of the same chart.
    mcp.tool(make_chart, annotations=READ_ONLY, output_schema={
        "type": "object", "properties": {"vega_lite": {"type": "object", "description": "Vega-Lite v5 spec"}},
        "required": ["vega_lite"]})
    mcp.tool(record_learning, annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=False,
                                                          idempotentHint=False, openWorldHint=False))
    return mcp
