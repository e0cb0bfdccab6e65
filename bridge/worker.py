"""Bridge workers: take jobs from PostgreSQL, ask the orchestrator, carry the answer out in Chatwoot.

Any number of worker processes, on any machine sharing the database, may run at once:
- A job is claimed with FOR UPDATE SKIP LOCKED, and only when it is the first unfinished job of its conversation, so
  each conversation's messages are answered in order, one at a time.
- A claimed job is leased; the worker renews the lease while it works. A worker that dies (or stalls) loses the lease
  and another worker resumes the job. Every write names the lease, so a stalled worker can change nothing after that.
- The orchestrator replays its stored answer to a retried message id, so asking again after a crash is safe.
- The Chatwoot actions are planned once and journaled one by one (started, done). An action whose outcome is unknown
  (the worker died mid-call, or the call timed out) is checked against Chatwoot's echo of the bot's own messages
  before it is sent again: no reply is posted twice.
- Failures are retried with exponential backoff (429, 5xx, timeouts, the orchestrator down); after
  `max_attempts` tries, or at once for an error that retrying cannot fix, the job becomes a dead letter with its reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

import psycopg
from psycopg_pool import AsyncConnectionPool

from bridge import dispatch
from bridge.chatwoot import ChatwootApi, ChatwootError
from bridge.dispatch import AssignTeam, Handoff, Plan, PostMessage, SetStatus
from bridge.turns_client import TurnFailed, TurnsApi
from bridge.webhook import fingerprint
from schemas.chatwoot import BOT_OWNED_STATUS
from schemas.turns import TurnRequest
from store import bridge_jobs as jobs

log = logging.getLogger(__name__)

MAX_DELAY_S = 300.0
T = TypeVar("T")


@dataclass(frozen=True)
class WorkerConfig:
    concurrency: int = 4
    max_attempts: int = 10
    retry_base_s: float = 2.0
    lease_s: float = 30.0
    handoff: Handoff = Handoff()
    # How long Chatwoot may take to echo a post before an unconfirmed post is sent again.
    echo_grace_s: float = 10.0
    poll_s: float = 1.0


class Retry(Exception):
    def __init__(self, reason: str, delay_s: float | None = None) -> None:
        super().__init__(reason)
        self.delay_s = delay_s


class Permanent(Exception):
    """Retrying cannot help (a refused request, a deleted conversation): the job becomes a dead letter now."""


class LeaseLost(Exception):
    """Another worker took the job over: this one stops touching it."""


class Worker:
    def __init__(self, pool: AsyncConnectionPool, chatwoot: ChatwootApi, turns: TurnsApi, config: WorkerConfig,
                 *, name: str | None = None) -> None:
        self.pool = pool
        self.chatwoot = chatwoot
        self.turns = turns
        self.config = config
        self.name = name or f"worker-{uuid.uuid4().hex[:8]}"
        self._wake = asyncio.Event()

    # ------------------------------------------------------------------------------------------------ running
    async def run(self, stop: asyncio.Event, listen_url: str | None = None) -> None:
        """Work until `stop` is set, then finish the jobs in hand (for at most a lease) and return. With `listen_url`,
        new jobs wake the workers at once (LISTEN), else they poll."""
        loops = [asyncio.create_task(self._loop(stop), name=f"{self.name}-{i}") for i in range(self.config.concurrency)]
        others = [asyncio.create_task(self._listen(listen_url, stop), name=f"{self.name}-listen")] if listen_url else []
        try:
            await stop.wait()
            self._wake.set()  # idle loops see the stop now rather than at their next poll
            # A job cut off here would wait out its lease before another worker resumes it: let it finish.
            _, late = await asyncio.wait(loops, timeout=self.config.lease_s)
            for task in late:
                task.cancel()
        finally:
            for task in loops + others:
                task.cancel()
            await asyncio.gather(*loops, *others, return_exceptions=True)

    async def _loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                worked = await self.run_once()
            except (psycopg.Error, OSError) as exc:
                # The database is away: nothing can be claimed or recorded; the leases keep the jobs safe meanwhile.
                log.warning("%s: database unavailable (%s); retrying", self.name, type(exc).__name__)
                worked = False
            if not worked:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.config.poll_s)
                self._wake.clear()

    async def _listen(self, url: str, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {jobs.CHANNEL}")
                    while not stop.is_set():
                        async for _ in conn.notifies(timeout=5.0):
                            self._wake.set()
            except (psycopg.Error, OSError):
                await asyncio.sleep(1.0)

    async def run_once(self) -> bool:
        """Claim and carry out one job; False when none was ready."""
        job = await self._db(jobs.claim, self.config.lease_s)
        if job is None:
            return False
        assert job.lease_token is not None
        token = job.lease_token
        if job.attempts > self.config.max_attempts:
            # Its workers kept dying mid-job (each claim counts as a try): stop feeding it to new ones.
            await self._db(jobs.bury, job.id, token, f"gave up after {job.attempts - 1} tries; last error: "
                                                       f"{job.last_error or 'the worker stopped mid-job'}")
            return True
        async with self._leased(job.id, token):
            try:
                outcome = await self._work(job, token)
            except LeaseLost:
                log.warning("%s: job %s was taken over by another worker", self.name, job.id)
                return True
            except Retry as exc:
                await self._failed(job, token, str(exc), exc.delay_s)
                return True
            except Permanent as exc:
                await self._db(jobs.bury, job.id, token, str(exc))
                log.error("job %s is a dead letter: %s", job.id, exc)
                return True
            except (psycopg.Error, OSError):
                raise  # the database is away: the job keeps its lease and is resumed later
            except Exception as exc:  # a bug must cost one job its tries, not stop the worker
                log.exception("job %s failed unexpectedly", job.id)
                await self._failed(job, token, f"unexpected {type(exc).__name__}: {exc}", None)
                return True
            await self._db(jobs.complete, job.id, token, outcome)
            log.info("job %s (%s): %s", job.id, job.dedupe_key, outcome)
        return True

    async def _failed(self, job: jobs.JobRow, token: uuid.UUID, reason: str, delay_s: float | None) -> None:
        if job.attempts >= self.config.max_attempts:
            await self._db(jobs.bury, job.id, token, f"gave up after {job.attempts} tries: {reason}")
            log.error("job %s is a dead letter after %s tries: %s", job.id, job.attempts, reason)
            return
        if delay_s is None:
            delay_s = min(self.config.retry_base_s * 2 ** (job.attempts - 1), MAX_DELAY_S)
            delay_s *= random.uniform(0.8, 1.2)  # spread retries so that recovering services are not stampeded
        await self._db(jobs.retry_later, job.id, token, reason, delay_s)
        log.warning("job %s: try %s failed (%s); again in %.1f s", job.id, job.attempts, reason, delay_s)

    @contextlib.asynccontextmanager
    async def _leased(self, job_id: int, token: uuid.UUID) -> AsyncIterator[None]:
        """Renew the lease while the job runs (an orchestrator turn may outlast it)."""

        async def renew() -> None:
            while True:
                await asyncio.sleep(self.config.lease_s / 3)
                with contextlib.suppress(psycopg.Error, OSError):
                    if not await self._db(jobs.extend, job_id, token, self.config.lease_s):
                        return

        task = asyncio.create_task(renew())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _db(self, fn: Callable[..., Awaitable[T]], *args: object) -> T:
        async with self.pool.connection() as conn:
            return await fn(conn, *args)

    async def _fenced(self, fn: Callable[..., Awaitable[bool]], *args: object) -> None:
        if not await self._db(fn, *args):
            raise LeaseLost()

    # ------------------------------------------------------------------------------------------------ one job
    async def _work(self, job: jobs.JobRow, token: uuid.UUID) -> str:
        conversation = job.conversation_id
        typing = False
        if job.plan is None:
            if not await self._bot_owns(job):
                return "not answered: a person owns the conversation"
            request = TurnRequest.model_validate(job.request)
            await self.chatwoot.typing(conversation, True)
            typing = True
            try:
                response = await self.turns.turn(request)
            except TurnFailed as exc:
                await self.chatwoot.typing(conversation, False)
                raise (Retry(str(exc)) if exc.retryable else Permanent(str(exc))) from None
            said = dispatch.customer_text(request.text, request.button_value, len(request.attachments))
            plan = dispatch.plan(response, said, self.config.handoff)
            await self._fenced(jobs.save_plan, job.id, token, response.model_dump(mode="json"),
                               plan.model_dump(mode="json"))
        else:
            plan = Plan.model_validate(job.plan)
        uncertain = job.step_started_at
        if job.steps_done == 0 and uncertain is None and any(
                isinstance(a, PostMessage) and not a.private for a in plan.actions) and not await self._bot_owns(job):
            plan = dispatch.for_people(plan)  # a person took over while the orchestrator was thinking
        try:
            for index in range(job.steps_done, len(plan.actions)):
                action = plan.actions[index]
                if uncertain is not None and index == job.steps_done:
                    if await self._landed(job, action, uncertain):
                        await self._fenced(jobs.finish_step, job.id, token, index)
                        continue
                await self._fenced(jobs.start_step, job.id, token, index)
                try:
                    await self._perform(conversation, action)
                except ChatwootError as exc:
                    if not exc.ambiguous:  # Chatwoot answered: the action did not happen; no echo to wait for
                        await self._fenced(jobs.clear_step, job.id, token, index)
                    raise (Retry(str(exc)) if exc.retryable else Permanent(str(exc))) from None
                await self._fenced(jobs.finish_step, job.id, token, index)
        finally:
            if typing:
                await self.chatwoot.typing(conversation, False)
        if not plan.actions:
            return "nothing to say"
        if plan.handoff and not any(isinstance(a, SetStatus) for a in plan.actions):
            return "noted for the person who owns the conversation"
        return "handed off" if plan.handoff else "replied"

    async def _landed(self, job: jobs.JobRow, action: dispatch.Action, started: datetime) -> bool:
        """Did the action whose outcome is unknown happen? Status and team changes are simply done again; a message
        counts as posted once Chatwoot echoed it; until the grace period is over the job waits for the echo."""
        if not isinstance(action, PostMessage):
            return False
        if await self._db(jobs.echoed_since, job.account_id, job.conversation_id,
                          fingerprint(action.private, action.content), started):
            return True
        waited = (datetime.now(UTC) - started).total_seconds()
        if waited < self.config.echo_grace_s:
            raise Retry("waiting for Chatwoot's echo of a post whose outcome is unknown",
                        delay_s=self.config.echo_grace_s - waited + 0.1)
        return False

    async def _perform(self, conversation: int, action: dispatch.Action) -> None:
        if isinstance(action, PostMessage):
            await self.chatwoot.create_message(conversation, action)
        elif isinstance(action, SetStatus):
            await self.chatwoot.toggle_status(conversation, action.status)
        elif isinstance(action, AssignTeam):
            await self.chatwoot.assign_team(conversation, action.team_id)

    async def _bot_owns(self, job: jobs.JobRow) -> bool:
        """Is the conversation still the bot's (pending)? Chatwoot says, if it lets a bot read conversations;
        otherwise the latest state a webhook reported."""
        try:
            status = await self.chatwoot.conversation_status(job.conversation_id)
        except ChatwootError as exc:
            raise (Retry(str(exc)) if exc.retryable else Permanent(str(exc))) from None
        if status is None:
            status = await self._db(jobs.known_status, job.account_id, job.conversation_id)
        return status is None or status == BOT_OWNED_STATUS
