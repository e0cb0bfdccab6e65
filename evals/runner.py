"""`levhaolam eval run`: replay a dataset through the orchestrator under each config, judge every answer, store it.

Each item becomes a new conversation (`eval:<run>:<config>:<item>`) whose first message is the ticket's, sent by a
contact with the ticket's e-mail, through the real pipeline and MCP servers. Nothing is confirmed: an action the
orchestrator proposes waits for a yes that never comes (and expires), so an experiment changes no subscription.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

import telemetry
from evals import judges
from evals.configs import EvalConfig
from evals.models import Answer, DatasetItem, ItemResult, Proposed
from evals.rules import PinnedRulesTools, RuleVersion, versions_for
from orchestrator.brain import Brain, BrainInput, BrainReply
from orchestrator.pipeline import Clock, Pipeline, utc_now
from orchestrator.service import ModelFactory, running_pipeline
from schemas.categories import Category
from schemas.domain import Channel
from schemas.services import McpServer
from schemas.settings import Settings
from schemas.turns import TurnRequest

CONVERSATION_PREFIX = "eval:"
Progress = Callable[[str, ItemResult | None], None]


class CostCapReached(RuntimeError):
    pass


@dataclass
class RunOptions:
    concurrency: int = 4
    cost_cap_usd: float | None = None
    created_by: str = "staff"
    run_key: str | None = None
    dataset_name: str = "dataset"


@dataclass
class RunOutcome:
    run_key: str
    status: str
    results: list[ItemResult] = field(default_factory=list)
    spent_usd: float = 0.0
    skipped: int = 0


@dataclass
class PinnedBrain:
    """The brain the pipeline chose, shown the run's pinned rules instead of the active ones."""

    inner: Brain
    pinned: dict[Category, RuleVersion]

    async def handle(self, turn: BrainInput) -> BrainReply:
        turn.tools = PinnedRulesTools.wrapping(turn.tools, self.pinned)
        return await self.inner.handle(turn)


def new_run_key(now: datetime | None = None) -> str:
    return f"{(now or datetime.now(UTC)):%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def conversation_id(run_key: str, config: str, item_id: str) -> str:
    return f"{CONVERSATION_PREFIX}{run_key}:{config}:{item_id}"[:128]


async def _what_was_proposed(conn: psycopg.AsyncConnection, conversation: str) -> tuple[list[Proposed], bool]:
    rows = await (await conn.execute(
        "SELECT p.tool, p.arguments FROM pending_actions p JOIN conversations c ON c.id = p.conversation_id "
        "WHERE c.external_id = %s ORDER BY p.id", (conversation,))).fetchall()
    state = await (await conn.execute("SELECT state FROM conversations WHERE external_id = %s",
                                      (conversation,))).fetchone()
    awaiting = bool(state and isinstance(state[0], dict) and state[0].get("awaiting"))
    return [Proposed(tool=row[0], arguments=dict(row[1])) for row in rows], awaiting


async def replay(pipeline: Pipeline, pool: AsyncConnectionPool, item: DatasetItem, conversation: str) -> Answer:
    channel = item.channel if item.channel in set(Channel) else Channel.API.value
    request = TurnRequest(conversation_id=conversation, message_id="1", channel=Channel(channel),
                          contact={"email": item.customer_email}, text=item.messages[0])
    started = time.perf_counter()
    try:
        response = await pipeline.run(request)
    except Exception as exc:  # an experiment reports a crash as that item's result and goes on
        return Answer(error=f"{type(exc).__name__}: {str(exc)[:300]}",
                      latency_ms=int((time.perf_counter() - started) * 1000))
    latency = int((time.perf_counter() - started) * 1000)
    async with pool.connection() as conn:
        proposed, awaiting = await _what_was_proposed(conn, conversation)
    return Answer(category=response.category, decision=response.decision.value, reply=response.reply,
                  proposed=proposed, executed=[a.tool for a in response.actions_taken], awaiting=awaiting,
                  cost_usd=float(response.cost or 0.0), latency_ms=latency, trace_id=response.trace_id)


async def forget_what_the_run_taught(conn: psycopg.AsyncConnection, run_key: str) -> int:
    """Customer memories written by the run's conversations (a retention offer made, a preference noted): left in
    place, the next config would meet customers who already 'heard' the offer, and the configs would not be
    compared on equal terms."""
    cur = await conn.execute(
        "DELETE FROM customer_memories m USING conversations c WHERE m.source_conversation_id = c.id "
        "AND c.external_id LIKE %s", (f"{CONVERSATION_PREFIX}{run_key}:%",))
    return cur.rowcount


async def _start_run(conn: psycopg.AsyncConnection, run_key: str, options: RunOptions, items: int,
                     configs: list[dict[str, Any]]) -> int:
    row = await (await conn.execute(
        "INSERT INTO eval_runs (run_key, dataset, items, configs, cost_cap_usd, created_by) "
        "VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
        (run_key, options.dataset_name, items, Jsonb(configs), options.cost_cap_usd, options.created_by))).fetchone()
    assert row is not None
    return int(row[0])


async def _store(conn: psycopg.AsyncConnection, run_id: int, result: ItemResult) -> None:
    answer = result.answer
    await conn.execute(
        "INSERT INTO eval_results (run_id, config, item_id, expected_category, category, decision, reply, proposed, "
        "scores, cost_usd, latency_ms, trace_id, error) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (run_id, result.config, result.item_id, result.expected_category.value,
         answer.category.value if answer.category else None, answer.decision, answer.reply,
         Jsonb([p.model_dump() for p in answer.proposed]),
         Jsonb({**result.scores, **{f"note.{k}": v for k, v in result.judge_notes.items()}}),
         round(answer.cost_usd, 6), answer.latency_ms, answer.trace_id, answer.error))


@contextlib.asynccontextmanager
async def _config_pipeline(settings: Settings, config: EvalConfig, urls: dict[McpServer, str], clock: Clock,
                           model_for: ModelFactory | None, pinned: dict[Category, RuleVersion],
                           options: dict[str, Any]) -> AsyncIterator[Pipeline]:
    async with running_pipeline(settings, categories=config.categories, urls=urls, clock=clock, model_for=model_for,
                                **options) as pipeline:
        if config.rule_pins:
            chosen = pipeline.brain_for
            pipeline.brain_for = lambda category, memory: PinnedBrain(chosen(category, memory), pinned)
        yield pipeline


async def run_experiment(settings: Settings, pool: AsyncConnectionPool, items: list[DatasetItem],
                         configs: list[EvalConfig], urls: dict[McpServer, str], options: RunOptions, *,
                         clock: Clock = utc_now, model_for: ModelFactory | None = None,
                         judge: judges.LlmJudge | None = None, progress: Progress = lambda _c, _r: None,
                         pipeline_options: dict[str, Any] | None = None,
                         on_result: Callable[[ItemResult], object] | None = None) -> RunOutcome:
    run_key = options.run_key or new_run_key()
    async with pool.connection() as conn:
        pins = {config.name: await versions_for(conn, config.rule_pins) for config in configs}
        described = [{**config.summary(), "rules": {c.value: v.version for c, v in pins[config.name].items()}}
                     for config in configs]
        run_id = await _start_run(conn, run_key, options, len(items), described)
    outcome = RunOutcome(run_key, "running")
    spent = {"usd": 0.0}
    semaphore = asyncio.Semaphore(max(1, options.concurrency))

    async def one(pipeline: Pipeline, config: EvalConfig, item: DatasetItem) -> None:
        async with semaphore:
            if options.cost_cap_usd is not None and spent["usd"] >= options.cost_cap_usd:
                outcome.skipped += 1
                progress(config.name, None)
                return
            with telemetry.span("eval.item", {"levhaolam.eval.run": run_key, "levhaolam.eval.config": config.name,
                                              "levhaolam.eval.item": item.id}):
                answer = await replay(pipeline, pool, item, conversation_id(run_key, config.name, item.id))
                scores = judges.deterministic_scores(item, answer)
                notes: dict[str, str] = {}
                if judge is not None:
                    try:
                        graded, rationale, usage = await judge.score(item, answer)
                        scores.update(graded)
                        notes["judge"] = rationale
                    except Exception as exc:  # a judge's failure is a missing score, not a failed run
                        notes["judge_error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
            spent["usd"] += answer.cost_usd
            result = ItemResult(config=config.name, item_id=item.id, expected_category=item.expected.category,
                                answer=answer, scores=scores, judge_notes=notes)
            async with pool.connection() as conn:
                await _store(conn, run_id, result)
            outcome.results.append(result)
            if on_result is not None:
                on_result(result)
            progress(config.name, result)

    status = "failed"
    try:
        for config in configs:
            async with _config_pipeline(settings, config, urls, clock, model_for, pins[config.name],
                                        pipeline_options or {}) as pipeline:
                await asyncio.gather(*(one(pipeline, config, item) for item in items))
            async with pool.connection() as conn:
                await forget_what_the_run_taught(conn, run_key)
        status = "capped" if outcome.skipped else "finished"
    finally:
        outcome.status, outcome.spent_usd = status, round(spent["usd"], 6)
        async with pool.connection() as conn:
            await conn.execute("UPDATE eval_runs SET status = %s, finished_at = now() WHERE id = %s",
                               (status, run_id))
    return outcome
