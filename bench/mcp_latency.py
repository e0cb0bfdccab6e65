"""Per-tool latency of the MCP servers over streamable HTTP, on the default demo data.

    .venv/bin/python -m bench.mcp_latency [--calls 50]

Starts a throwaway embedded PostgreSQL, seeds the default demo data, serves each server with a
real uvicorn on a free port, keeps one client session per server (as the orchestrator does) and
calls every tool `--calls` times with arguments taken from the data. Reports p50 and p95, and each
p50 as a ratio to get_delivery_estimate, a tool that does no database work: the ratio is what the
database and the tool's own logic add on top of the protocol, and stays comparable across machines.
Action tools are measured in their first phase (the confirmation request), plus one full
ask-and-confirm cycle of pause_subscription.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import os
import statistics
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import psycopg
from fastmcp import Client
from fastmcp.client.transports import StreamableHttpTransport
from rich.console import Console
from rich.table import Table

from access.tokens import mint_token
from bench.figures import Figure, write_json
from levhaolam import event_loop
from schemas.settings import Settings
from servers.common.loopback import serve_on_loopback
from servers.registry import builder
from store.database import throwaway_embedded
from store.demo.generator import SeedConfig
from store.demo.loader import seed
from store.migrate import migrate

SECRET = "bench-secret-" + "b" * 40


async def _sample(conn: psycopg.AsyncConnection, query: str) -> list[tuple]:
    return await (await conn.execute(query)).fetchall()


async def _cases(conn: psycopg.AsyncConnection) -> list[tuple[str, str, Callable[[int], dict]]]:
    customers = await _sample(conn, "SELECT id, email FROM customers ORDER BY id LIMIT 200")
    subs = await _sample(conn, "SELECT customer_id, id FROM subscriptions WHERE status = 'active' "
                               "AND frequency = 'monthly' ORDER BY id")
    orders = await _sample(conn, "SELECT o.customer_id, o.id, s.tracking_number, (SELECT sku FROM order_items i "
                                 "WHERE i.order_id = o.id LIMIT 1) FROM orders o JOIN shipments s ON s.order_id = o.id "
                                 "WHERE s.status = 'delivered' ORDER BY o.id LIMIT 200")
    claims = await _sample(conn, "SELECT customer_id, id FROM damage_claims ORDER BY id") or [(1, 1)]

    def pick(rows: list[tuple], i: int) -> tuple:
        return rows[i % len(rows)]

    address = {"line1": "Herzl St 10", "city": "Haifa", "postal_code": "3303110", "country_code": "IL"}
    return [
        ("shipping", "get_delivery_estimate", lambda i: {"country_code": "DE", "shipped_on": "2026-12-03"}),
        ("customers", "identify_customer", lambda i: {"email": pick(customers, i)[1]}),
        ("customers", "get_customer_profile", lambda i: {"customer_id": pick(customers, i)[0]}),
        ("customers", "get_order_history", lambda i: {"customer_id": pick(customers, i)[0]}),
        (
            "subscriptions",
            "get_subscription",
            lambda i: dict(zip(("customer_id", "subscription_id"), pick(subs, i), strict=True)),
        ),
        ("subscriptions", "list_subscriptions", lambda i: {"customer_id": pick(subs, i)[0]}),
        (
            "subscriptions",
            "get_retention_offers",
            lambda i: dict(zip(("customer_id", "subscription_id"), pick(subs, i), strict=True)),
        ),
        (
            "subscriptions",
            "create_cancel_link",
            lambda i: dict(zip(("customer_id", "subscription_id"), pick(subs, i), strict=True)),
        ),
        (
            "subscriptions",
            "pause_subscription",
            lambda i: dict(zip(("customer_id", "subscription_id"), pick(subs, i), strict=True)) | {"months": 2},
        ),
        (
            "subscriptions",
            "skip_month",
            lambda i: (
                dict(zip(("customer_id", "subscription_id"), pick(subs, i), strict=True)) | {"box_month": "2027-02-01"}
            ),
        ),
        (
            "subscriptions",
            "change_frequency",
            lambda i: (
                dict(zip(("customer_id", "subscription_id"), pick(subs, i), strict=True)) | {"frequency": "quarterly"}
            ),
        ),
        (
            "subscriptions",
            "change_address",
            lambda i: dict(zip(("customer_id", "subscription_id"), pick(subs, i), strict=True)) | {"address": address},
        ),
        (
            "subscriptions",
            "cancel_subscription",
            lambda i: dict(zip(("customer_id", "subscription_id"), pick(subs, i), strict=True)),
        ),
        ("shipping", "track_shipment", lambda i: {"customer_id": pick(orders, i)[0], "order_id": pick(orders, i)[1]}),
        ("shipping", "list_shipments", lambda i: {"customer_id": pick(orders, i)[0]}),
        (
            "shipping",
            "report_missing_package",
            lambda i: {"customer_id": pick(orders, i)[0], "order_id": pick(orders, i)[1]},
        ),
        ("damage", "get_claim_status", lambda i: dict(zip(("customer_id", "claim_id"), pick(claims, i), strict=True))),
        ("damage", "request_photos", lambda i: dict(zip(("customer_id", "claim_id"), pick(claims, i), strict=True))),
        (
            "damage",
            "create_damage_claim",
            lambda i: {
                "customer_id": pick(orders, i)[0],
                "order_id": pick(orders, i)[1],
                "description": "broken jar",
                "items": [{"sku": pick(orders, i)[3], "damage_type": "broken"}],
            },
        ),
    ]


async def run(calls: int, json_path: Path | None = None) -> None:
    console = Console(width=150)
    os.environ.pop("DATABASE_URL", None)
    with throwaway_embedded(prefix="levhaolam-bench-") as url:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            await migrate(conn)
            config = SeedConfig()
            await seed(conn, config)
            cases = await _cases(conn)
        settings = Settings(_env_file=None, DATABASE_URL=url, LEVHAOLAM_JWT_SECRET=SECRET,
                            LEVHAOLAM_CANCEL_LINK_KEY=base64.b64encode(os.urandom(32)).decode())
        token = mint_token(SECRET, subject="bench", scope="staff", tools=["*"])
        results: dict[str, tuple[float, float, str]] = {}
        async with contextlib.AsyncExitStack() as stack:
            clients = {}
            for name in sorted({c[0] for c in cases}):
                base = await stack.enter_async_context(
                    serve_on_loopback(builder(name)(settings, transport="http").http_app(path="/mcp")))
                clients[name] = await stack.enter_async_context(
                    Client(StreamableHttpTransport(f"{base}/mcp", headers={"Authorization": f"Bearer {token}"})))
            for server_name, tool, args in cases:
                client = clients[server_name]
                await client.call_tool(tool, args(0), raise_on_error=False)  # warm-up
                timings, outcome = [], "ok"
                for i in range(calls):
                    started = time.perf_counter()
                    result = await client.call_tool(tool, args(i), raise_on_error=False)
                    timings.append((time.perf_counter() - started) * 1000)
                    if result.is_error:
                        outcome = "refused (policy)"
                results[f"{server_name}.{tool}"] = (statistics.median(timings),
                                                    statistics.quantiles(timings, n=20)[18], outcome)
            timings = []
            subs = [c for c in cases if c[1] == "pause_subscription"][0][2]
            for i in range(calls):
                started = time.perf_counter()
                first = await clients["subscriptions"].call_tool("pause_subscription", subs(1000 + i),
                                                                 raise_on_error=False)
                if not first.is_error:
                    await clients["subscriptions"].call_tool("pause_subscription", subs(1000 + i) | {
                        "confirmation_token": first.structured_content["confirmation_token"]}, raise_on_error=False)
                timings.append((time.perf_counter() - started) * 1000)
            results["subscriptions.pause_subscription (ask + confirm)"] = (
                statistics.median(timings), statistics.quantiles(timings, n=20)[18], "ok")
        baseline = results["shipping.get_delivery_estimate"][0]
        table = Table("tool", "p50 ms", "p95 ms", "p50 / baseline", "result",
                      title=f"MCP over streamable HTTP, {calls} calls each, demo data ({config.customers} customers, "
                            f"{config.tickets} tickets), {datetime.now():%Y-%m-%d}")
        for name, (p50, p95, outcome) in results.items():
            table.add_row(name, f"{p50:.1f}", f"{p95:.1f}", f"{p50 / baseline:.2f}", outcome)
        console.print(table)
        console.print(f"baseline get_delivery_estimate p50 = {baseline:.1f} ms (protocol + HTTP, no database)")
        # Per server: its slowest tool's p50, and that as a multiple of the protocol-only baseline.
        figures = [Figure("mcp", "protocol baseline (get_delivery_estimate), p50", baseline, "ms")]
        for server in sorted({name.split(".")[0] for name in results}):
            slowest = max((v[0], name) for name, v in results.items() if name.startswith(f"{server}."))
            figures.append(Figure("mcp", f"{server}: slowest tool p50 ({slowest[1].split('.', 1)[1]})", slowest[0],
                                  "ms"))
            figures.append(Figure("mcp", f"{server}: slowest tool vs baseline", slowest[0] / baseline, "x"))
        write_json(json_path, figures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--json", type=Path, help="also write the figures here (levhaolam bench reads them)")
    args = parser.parse_args()
    event_loop.run(run(args.calls, args.json))


if __name__ == "__main__":
    main()
