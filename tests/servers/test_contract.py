"""Each server's tool list is its contract: pinned in a snapshot, identical over memory, HTTP and stdio.

Set UPDATE_SNAPSHOTS=1 to rewrite the snapshots after a deliberate change, and review the diff.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from fastmcp import Client
from fastmcp.client.transports import StdioTransport

from servers.registry import SERVERS, builder
from tests.helpers import bearer, http_client, http_server, memory_client, settings_for

SNAPSHOTS = Path(__file__).parent / "snapshots"
LEVHAOLAM = str(Path(sys.executable).parent / "levhaolam")


def wire(tools: list) -> list[dict]:
    keep = ("name", "title", "description", "inputSchema", "outputSchema", "annotations")
    listed = [{k: v for k, v in t.model_dump(mode="json", by_alias=True, exclude_none=True).items() if k in keep}
              for t in tools]
    return sorted(listed, key=lambda t: t["name"])


def check_snapshot(name: str, tools: list[dict]) -> None:
    path = SNAPSHOTS / f"{name}.json"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.write_text(json.dumps(tools, indent=2, sort_keys=True) + "\n")
    assert path.exists(), f"no snapshot for {name}; run with UPDATE_SNAPSHOTS=1 once and commit it"
    assert tools == json.loads(path.read_text()), f"the {name} contract changed; if deliberate, UPDATE_SNAPSHOTS=1"


def test_every_tool_has_a_description_and_annotations() -> None:
    for name in SERVERS:
        for tool in json.loads((SNAPSHOTS / f"{name}.json").read_text()):
            assert len(tool.get("description", "")) > 40, tool["name"]
            annotations = tool["annotations"]
            assert {"readOnlyHint", "destructiveHint", "idempotentHint"} <= set(annotations), tool["name"]
            assert "outputSchema" in tool, tool["name"]
            if not annotations["readOnlyHint"] and tool["name"] not in ("create_cancel_link", "record_learning"):
                # Every state-changing tool takes part in the two-phase protocol.
                assert {"confirmation_token", "idempotency_key"} <= set(tool["inputSchema"]["properties"])


@pytest.mark.parametrize("name", SERVERS)
async def test_contract_in_memory(name: str, make_server) -> None:
    async with memory_client(make_server(name)) as client:
        check_snapshot(name, wire(await client.list_tools()))


@pytest.mark.parametrize("name", SERVERS)
async def test_contract_over_streamable_http(name: str, db_url: str) -> None:
    server = builder(name)(settings_for(db_url), transport="http")
    async with http_server(server) as url:
        async with http_client(url, bearer(["*"], scope="staff")) as client:
            check_snapshot(name, wire(await client.list_tools()))


@pytest.mark.parametrize("name", SERVERS)
async def test_contract_over_stdio(name: str, db_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": db_url}
    transport = StdioTransport(command=LEVHAOLAM, args=["serve", name, "--transport", "stdio"], env=env)
    async with Client(transport) as client:
        check_snapshot(name, wire(await client.list_tools()))
