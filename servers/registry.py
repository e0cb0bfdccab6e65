"""The servers the `levhaolam serve` command can start, by name. The only module that knows them all."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from fastmcp import FastMCP

from schemas.services import McpServer

SERVERS = tuple(server.value for server in McpServer)


def builder(name: str) -> Callable[..., FastMCP]:
    if name not in SERVERS:
        raise KeyError(f"unknown server {name!r}; expected one of: {', '.join(SERVERS)}")
    return importlib.import_module(f"servers.{name}.server").build
