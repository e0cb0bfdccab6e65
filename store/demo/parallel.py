"""Generating the demo data's shards in worker processes, handed to the loader in order with their final ids.

Shard k goes to worker k mod W. A worker generates its shard with local ids and reports how many rows of each
kind it numbered; the loader answers with the offsets (the counts of every shard before k, known as soon as shard
k - 1 reported), and the worker shifts, encodes to binary COPY and returns the shard. Workers generate in
parallel; only the cheap shifting waits for the order. Data that fits in one shard is generated in-process.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

from schemas.policy import load_policy
from store.demo.generator import DemoGenerator, SeedConfig
from store.demo.maker import Finished, ShardMaker
from store.demo.shards import CustomerFacts, add_counts

MAX_WORKERS = 8
READY_AHEAD = 3  # encoded shards waiting for the database, ~20-40 MB each at the large scale
_PROJECT_ROOT = Path(__file__).resolve().parents[2]  # where the `store` package can be imported from


class WorkerFailed(RuntimeError):
    """A worker process raised or died; the message says what happened."""


class _Worker(Protocol):
    async def call(self, method: str, *args: Any) -> Any: ...


class _LocalWorker:
    def __init__(self, maker: ShardMaker) -> None:
        self._maker = maker

    async def call(self, method: str, *args: Any) -> Any:
        return getattr(self._maker, method)(*args)


class _ProcessWorker:
    """A `python -m store.demo.worker` process (store/demo/worker.py says why not multiprocessing's spawn)."""

    def __init__(self, config: SeedConfig, types: dict[str, list[int]]) -> None:
        path = os.pathsep.join(filter(None, (str(_PROJECT_ROOT), os.environ.get("PYTHONPATH"))))
        self.process = subprocess.Popen([sys.executable, "-m", "store.demo.worker"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, env=os.environ | {"PYTHONPATH": path})
        assert self.process.stdin is not None and self.process.stdout is not None
        self._outbox = Connection(os.dup(self.process.stdin.fileno()), readable=False)
        self._inbox = Connection(os.dup(self.process.stdout.fileno()), writable=False)
        self.process.stdin.close()
        self.process.stdout.close()
        self._outbox.send((config, types))

    def _roundtrip(self, method: str, args: tuple) -> Any:
        try:
            self._outbox.send((method, args))
            status, result = self._inbox.recv()
        except (EOFError, OSError) as exc:
            raise WorkerFailed(f"a seed worker stopped (exit code {self.process.poll()}): {exc!r}") from None
        if status == "error":
            raise WorkerFailed(f"a seed worker failed:\n{result}")
        return result

    async def call(self, method: str, *args: Any) -> Any:
        # Pipes block: wait in a thread so the loader keeps feeding the database meanwhile.
        return await asyncio.to_thread(self._roundtrip, method, args)

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self._outbox.send(None)
        self._outbox.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._inbox.close()


@contextlib.contextmanager
def _process_workers(count: int, config: SeedConfig, types: dict[str, list[int]]) -> Iterator[list[_ProcessWorker]]:
    workers: list[_ProcessWorker] = []
    try:
        for _ in range(count):
            workers.append(_ProcessWorker(config, types))
        yield workers
    finally:
        for worker in workers:
            worker.stop()


class _Stages:
    """Runs shard tasks over workers in order, carrying the id offsets from shard to shard."""

    def __init__(self, workers: list[_Worker]) -> None:
        self.workers = workers
        self.offsets: dict[str, int] = {}

    async def run(self, kind: str, tasks: list[tuple]) -> AsyncIterator[Finished]:
        width = len(self.workers)
        started = {k: asyncio.ensure_future(self.workers[k % width].call("start", kind, tasks[k]))
                   for k in range(min(width, len(tasks)))}
        try:
            for k in range(len(tasks)):
                worker = self.workers[k % width]
                counts = await started.pop(k)
                finished = await worker.call("finish", self.offsets)
                self.offsets = add_counts(self.offsets, counts)
                if k + width < len(tasks):
                    started[k + width] = asyncio.ensure_future(worker.call("start", kind, tasks[k + width]))
                yield finished
        finally:
            for pending in started.values():
                pending.cancel()


def worker_count(config: SeedConfig, requested: int | None = None) -> int:
    """Processes worth starting: one per core (at most MAX_WORKERS), none when everything fits in one shard."""
    generator = DemoGenerator(config, load_policy())
    shards = max(generator.customer_shards, generator.ticket_shards)
    wanted = requested if requested is not None else min(os.cpu_count() or 1, MAX_WORKERS)
    return 0 if shards <= 1 else max(0, min(wanted, shards))


async def _produce(config: SeedConfig, types: dict[str, list[int]], count: int) -> AsyncIterator[Finished]:
    local = ShardMaker(config, types)
    local.start("reference", ())
    yield local.finish({})
    with contextlib.ExitStack() as stack:
        pool: list[_Worker] = ([_LocalWorker(local)] if count == 0
                               else list(stack.enter_context(_process_workers(count, config, types))))
        # The tickets' creation times come from one stream; draw them while the customers are generated.
        times = asyncio.ensure_future(asyncio.to_thread(local.ticket_times))
        try:
            stages = _Stages(pool)
            generator = DemoGenerator(config, load_policy())
            customers: list[CustomerFacts] = []
            latest: dict[int, tuple[int, str]] = {}
            async for finished in stages.run("customers", [(k,) for k in range(generator.customer_shards)]):
                customers += finished.customers
                latest |= finished.latest_orders
                yield finished
            for worker in pool:
                await worker.call("use_customers", customers, latest)
            drawn = await times
            tasks = [local.ticket_task(drawn, k) for k in range(generator.ticket_shards)]
            async for finished in stages.run("tickets", tasks):
                yield finished
        finally:
            times.cancel()


async def shards(config: SeedConfig, types: dict[str, list[int]], workers: int | None = None
                 ) -> AsyncIterator[Finished]:
    """Every shard of the demo data, in load order, encoded for binary COPY.

    A task keeps the workers busy while the caller loads: shard k + 1 is placed and encoded while shard k is
    being copied, at most READY_AHEAD shards ahead."""
    ready: asyncio.Queue[Finished | BaseException | None] = asyncio.Queue(maxsize=READY_AHEAD)

    async def produce() -> None:
        try:
            async for finished in _produce(config, types, worker_count(config, workers)):
                await ready.put(finished)
            await ready.put(None)
        except Exception as exc:  # handed to the consumer, which raises it
            await ready.put(exc)

    producer = asyncio.ensure_future(produce())
    try:
        while (item := await ready.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        producer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await producer
