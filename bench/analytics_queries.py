"""p50 time of every vetted analytics query on the configured database (use the large demo scale).

    levhaolam seed --customers 100000 --tickets 1000000      # once, into an empty database
    .venv/bin/python -m bench.analytics_queries [--runs 7]

Runs each saved query as the analytics server does (its SELECT-only login, READ ONLY transaction, row
cap), over a 7-day and a 90-day window ending at the newest ticket, and reports p50 beside its target
(< 50 ms over 7 days and for queries without a period, < 100 ms over 90 days, at 1M tickets) and the
ratio to a full `count(*)` of support_threads_data measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import warnings
from datetime import timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.figures import Figure, write_json
from schemas.settings import Settings
from servers.analytics.context import saved_queries
from servers.analytics.executor import run_read_only
from servers.analytics.reader import open_reader_pool, reader_url
from store.database import database_url, open_pool
from store.migrate import migrate


async def _p50(pool, sql: str, params: dict | None, runs: int) -> float:
    await run_read_only(pool, sql, params, max_rows=500, timeout_ms=60_000)  # warm-up
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        await run_read_only(pool, sql, params, max_rows=500, timeout_ms=60_000)
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


TARGET_MS = {7: 50.0, 90: 100.0}


async def run(runs: int, json_path: Path | None = None) -> None:
    settings = Settings()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        url = database_url(settings)
    async with open_pool(url, max_size=2) as admin:
        async with admin.connection() as conn:
            await conn.set_autocommit(True)
            await migrate(conn)
            row = await (await conn.execute("SELECT count(*), max(created_at) FROM support_threads_data")).fetchone()
    async with open_reader_pool(reader_url(url, settings), settings) as pool:
        assert row is not None and row[0], "the database has no tickets; run `levhaolam seed` first"
        tickets, now = row
        baseline = await _p50(pool, "SELECT count(*) FROM support_threads_data", None, runs)
        table = Table("query", "window", "p50 ms", "target", "p50 / full count(*)",
                      title=f"Saved analytics queries, {tickets:,} tickets, p50 of {runs} runs")
        figures: list[Figure] = []
        scale = f"{tickets:,} tickets"
        for name, query in saved_queries().items():
            for days in (7, 90):
                params: dict = {}
                for p in query.params:
                    params[p.name] = {"start": now - timedelta(days=days), "end": now, "now": now}.get(
                        p.name, int(p.default) if p.type == "int" and p.default else None)
                if not any(p.name == "start" for p in query.params) and days == 90:
                    continue
                p50 = await _p50(pool, query.sql, params, runs)
                windowed = any(p.name == "start" for p in query.params)
                target = TARGET_MS[days] if tickets >= 1_000_000 else None
                table.add_row(name, f"{days} days" if windowed else "-", f"{p50:.1f}",
                              f"< {TARGET_MS[days]:g}", f"{p50 / baseline:.2f}")
                figures.append(Figure("analytics", f"{name}{f', {days} days' if windowed else ''}, p50", p50, "ms",
                                      target, scale=scale))
        Console(width=120).print(table)
        write_json(json_path, figures)
        Console().print(f"baseline: full count(*) of support_threads_data p50 = {baseline:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the figures here (levhaolam bench reads them)")
    args = parser.parse_args()
    asyncio.run(run(args.runs, args.json))


if __name__ == "__main__":
    main()
