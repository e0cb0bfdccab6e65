"""The platform's services and where they listen by default: the one list every part reads."""

from __future__ import annotations

from enum import StrEnum


class McpServer(StrEnum):
    """The independent MCP servers, one per capability."""

    CUSTOMERS = "customers"
    SUBSCRIPTIONS = "subscriptions"
    SHIPPING = "shipping"
    DAMAGE = "damage"
    KNOWLEDGE = "knowledge"
    ANALYTICS = "analytics"


MCP_PATH = "/mcp"
DEFAULT_HOST = "127.0.0.1"

DEFAULT_PORTS: dict[McpServer, int] = {
    McpServer.CUSTOMERS: 8101,
    McpServer.SUBSCRIPTIONS: 8102,
    McpServer.SHIPPING: 8103,
    McpServer.DAMAGE: 8104,
    McpServer.ANALYTICS: 8105,
    McpServer.KNOWLEDGE: 8106,
}


def default_url(server: McpServer, host: str = DEFAULT_HOST) -> str:
    return f"http://{host}:{DEFAULT_PORTS[server]}{MCP_PATH}"
