"""Making one shard ready to load: generate it, put its ids in place, encode it for binary COPY.

The same object works in a worker process (store/demo/worker.py) and in the loader's own process.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from schemas.policy import load_policy
from store.demo.encode import Encoder
from store.demo.generator import DemoGenerator, SeedConfig, TicketTimes
from store.demo.rows import TABLES
from store.demo.shards import Batch, CustomerFacts, Shard, globalize


@dataclass
class Finished:
    """A shard ready to load: its progress, one binary COPY stream per table, and what the tickets need."""

    batch: Batch
    data: dict[str, bytes]
    rows: dict[str, int]
    customers: list[CustomerFacts] = field(default_factory=list)
    latest_orders: dict[int, tuple[int, str]] = field(default_factory=dict)


class ShardMaker:
    """Makes shards, in a worker process or in the loader's own: `start` generates, `finish` places and encodes."""

    def __init__(self, config: SeedConfig, types: dict[str, list[int]]) -> None:
        self._generator = DemoGenerator(config, load_policy())
        self._encoder = Encoder(types)
        self._shard: Batch | None = None

    def start(self, kind: str, args: tuple) -> dict[str, int]:
        generator = self._generator
        self._shard = {"reference": generator.reference, "customers": generator.customer_shard,
                       "tickets": generator.ticket_shard}[kind](*args)
        return self._shard.counts if isinstance(self._shard, Shard) else {}

    def finish(self, offsets: dict[str, int]) -> Finished:
        shard, self._shard = self._shard, None
        assert shard is not None, "finish without start"
        finished = Finished(Batch(shard.phase, shard.units), {}, {})
        if isinstance(shard, Shard):
            globalize(shard, offsets)
            finished.customers, finished.latest_orders = shard.customers, shard.latest_orders
        for row_type, table in TABLES.items():  # the dict's order satisfies the foreign keys
            rows = shard.rows.get(row_type)
            if rows:
                finished.data[table] = self._encoder.encode(table, rows)
                finished.rows[table] = len(rows)
        return finished

    def use_customers(self, customers: list[CustomerFacts], latest_orders: dict[int, tuple[int, str]]) -> None:
        self._generator.use_customers(customers, latest_orders)

    def ticket_times(self) -> TicketTimes:
        return self._generator.ticket_times()

    def ticket_task(self, times: TicketTimes, number: int) -> tuple:
        return self._generator.ticket_task(times, number)


