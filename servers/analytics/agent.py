"""Answering with a model: an openai-agents agent that writes SQL grounded in the six context layers.

Its SQL goes through the same guard and read-only executor as run_sql. A refused or failing query
comes back to the model as text, so it can correct itself; when a failure is followed by a query
that works, the server records the pair as a learning, whatever the model remembers to do.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Literal

from agents import Agent, Model, RunConfig, Runner, function_tool
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel, Field

from schemas.analytics import Answer, KeyFigure, QueryResult
from schemas.settings import Settings
from servers.analytics import charts, context, queries
from servers.analytics import question as question_module
from servers.common.errors import ToolFailure
from servers.common.runtime import Runtime

MAX_TURNS = 8


class ChartHint(BaseModel):
    kind: Literal["bar", "line"]
    x: str
    y: str


class ModelAnswer(BaseModel):
    """What the analytics agent must return."""

    interpretation: str = Field(
        description="How the question was read, before any number: the measure, every filter and the period, e.g. "
                    "'Tickets with urgency critical, the last 30 days' or 'Channel with the fewest tickets, October "
                    "2026'. The answer is shown after it, so a misreading shows at once.")
    answer: str = Field(description="One or two sentences with the numbers, for a support manager")
    key_label: str | None = Field(default=None, description="What the main number is, e.g. 'ai_handled'")
    key_value: float | str | None = Field(default=None, description="The main number (or category, date)")
    sql: str | None = Field(default=None, description="The final SQL that produced the answer")
    chart: ChartHint | None = None
    can_answer: bool = Field(default=True, description="False when the data cannot answer the question reliably")


@dataclass
class _Session:
    runtime: Runtime
    reader: AsyncConnectionPool  # the SELECT-only login's pool: every query of the model runs there
    failures: list[tuple[str, str]] = field(default_factory=list)  # (sql, error)
    last_result: QueryResult | None = None
    last_sql: str | None = None


async def grounding(runtime: Runtime, question: str) -> str:
    """The six layers, as the agent's instructions: tables, rules, vetted queries, category rules, learnings,
    live schema."""
    async with runtime.pool.connection() as conn:
        tables = await context.live_tables(conn)
        rules = await context.category_rules(conn)
        learnings = await context.search_learnings(conn, question, 5)
    lines = ["You answer questions about Lev Haolam's customer support with PostgreSQL queries over these tables "
             "(live schema; meanings from the data team):"]
    for table in tables:
        lines.append(f"\n## {table.name}: {table.description}")
        lines += [f"- {c.name} ({c.type}): {c.meaning or ''}" for c in table.columns]
        lines += [f"- caveat: {c}" for c in table.caveats]
    lines.append("\n## Business rules (use these definitions exactly)")
    lines += [f"- {r.name}: {r.definition}" + (f" SQL: {r.sql}" if r.sql else "") for r in context.business_rules()]
    lines.append("\n## Vetted queries (prefer run_saved_query when one fits)")
    lines += [f"- {q.name}({', '.join(p.name for p in q.params)}): {q.description}"
              for q in context.saved_queries().values()]
    lines.append("\n## Category rules in force")
    lines += [f"- {category}: {text[:160]}" for category, text in rules.items()]
    if learnings:
        lines.append("\n## Learnings from earlier mistakes (apply them)")
        lines += [f"- {item.mistake} -> {item.fix}" + (f" (SQL: {item.sql})" if item.sql else "") for item in learnings]
    lines.append(f"\nNow is {runtime.clock().isoformat()} (UTC). Write one SELECT per call. If a query fails, read "
                 "the error and fix the query. If the data cannot answer reliably, set can_answer to false; never "
                 "guess a number. Apply every filter the question names (urgency, language, channel, category, who "
                 "answered, status, rating); say in `interpretation` exactly what you measured, over which tickets "
                 f"and which period. The tables keep {question_module.RETENTION_DAYS} days: a period outside them, a "
                 "forecast, or a subject the tables do not hold (products, staff, carriers' charges, revenue) cannot "
                 "be answered.")
    return "\n".join(lines)


def _tools(session: _Session) -> list:
    runtime, reader = session.runtime, session.reader

    async def attempt(label: str, sql_text: str, run: Awaitable[QueryResult]) -> str:
        try:
            result = await run
        except ToolFailure as failure:
            session.failures.append((label, failure.info.message))
            return f"ERROR: {failure.info.message}"
        session.last_result, session.last_sql = result, sql_text
        return result.model_dump_json()

    @function_tool
    async def run_sql(sql: str, max_rows: int = 50) -> str:
        """Run one read-only SELECT over the support tables and return the rows as JSON, or the error."""
        return await attempt(sql, sql, queries.run_checked_sql(runtime, reader, sql, min(max(max_rows, 1), 500)))

    @function_tool
    async def run_saved_query(name: str, params_json: str = "{}") -> str:
        """Run a vetted query by name with parameters given as a JSON object (ISO dates for timestamptz)."""
        try:
            params = json.loads(params_json or "{}")
        except ValueError as exc:
            return f"ERROR: params_json is not JSON: {exc}"
        saved = context.saved_queries().get(name)
        return await attempt(f"saved:{name} {params_json}", saved.sql if saved else name,
                             queries.run_saved(runtime, reader, name, params, 200))

    return [run_sql, run_saved_query]


async def answer_with_model(runtime: Runtime, reader: AsyncConnectionPool, model: Model, question: str) -> Answer:
    session = _Session(runtime, reader)
    agent = Agent(name="analytics", instructions=await grounding(runtime, question), model=model,
                  tools=_tools(session), output_type=ModelAnswer)
    result = await Runner.run(agent, question, max_turns=MAX_TURNS,
                              run_config=RunConfig(tracing_disabled=True, workflow_name="analytics.ask"))
    output: ModelAnswer = result.final_output
    if session.failures and session.last_sql and output.can_answer:
        await _remember(runtime, question, session)
    if not output.can_answer or output.key_value is None:
        return Answer(question=question, answered=False, method="model",
                      answer=f"I can't answer that reliably: {output.answer}")
    # The same shape as the offline answers: how the question was read, then the answer.
    reading = output.interpretation.strip().rstrip(":. ")
    text = output.answer if not reading or output.answer.startswith(reading) else f"{reading}: {output.answer}"
    chart = None
    if output.chart and session.last_result and session.last_result.rows:
        try:
            chart = charts.vega_lite(charts.records(session.last_result), output.chart.kind, output.chart.x,
                                     output.chart.y, question.strip())
        except charts.ChartError:
            chart = None
    return Answer(question=question, answered=True, method="model", answer=text, query="sql",
                  key_figure=KeyFigure(label=output.key_label or "value", value=output.key_value),
                  params={"sql": output.sql or session.last_sql}, result=session.last_result, chart=chart)


async def _remember(runtime: Runtime, question: str, session: _Session) -> None:
    failed_sql, error = session.failures[-1]
    async with runtime.pool.connection() as conn:
        await queries.insert_learning(conn, question=question, mistake=f"{failed_sql} failed: {error}",
                                      fix=f"This worked instead: {session.last_sql}", sql=session.last_sql,
                                      tags=["auto", "sql_fix"], created_by="analytics-agent")


def default_model(settings: Settings) -> Model | None:
    """The configured model, or None to answer offline."""
    if settings.openai_api_key is None:
        return None
    from agents import OpenAIResponsesModel
    from openai import AsyncOpenAI

    client = AsyncOpenAI(api_key=settings.openai_api_key.get_secret_value())
    return OpenAIResponsesModel(model=settings.analytics_model, openai_client=client)
