"""The Claude Desktop block in the README starts every server it lists, over stdio, as written."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest
from fastmcp import Client
from fastmcp.client.transports import StdioTransport

from servers.registry import SERVERS

README = Path(__file__).resolve().parents[2] / "README.md"
SNAPSHOTS = Path(__file__).parent / "snapshots"


def desktop_config() -> dict:
    text = README.read_text(encoding="utf-8")
    section = text.split("claude_desktop_config.json", 1)[1]
    block = re.search(r"```json\n(.*?)```", section, re.DOTALL)
    assert block, "README has no ```json block after claude_desktop_config.json"
    return json.loads(block.group(1))


def test_the_block_lists_every_server() -> None:
    servers = desktop_config()["mcpServers"]
    assert sorted(entry["args"][1] for entry in servers.values()) == sorted(SERVERS)


@pytest.mark.parametrize("entry_name", sorted(desktop_config()["mcpServers"]))
async def test_each_configured_command_starts_and_lists_its_tools(entry_name: str, db_url: str) -> None:
    entry = desktop_config()["mcpServers"][entry_name]
    # `levhaolam` on Claude's PATH is this environment's console script.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    env = {**os.environ, "PATH": path, **entry.get("env", {}), "DATABASE_URL": db_url}
    command = (
        str(Path(sys.executable).parent / entry["command"]) if entry["command"] == "levhaolam" else entry["command"]
    )
    async with Client(StdioTransport(command=command, args=entry["args"], env=env)) as client:
        names = sorted(t.name for t in await client.list_tools())
    snapshot = json.loads((SNAPSHOTS / f"{entry['args'][1]}.json").read_text())
    assert names == sorted(t["name"] for t in snapshot)
