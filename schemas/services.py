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
ORCHESTRATOR_PORT = 8100
TURNS_PATH = "/v1/turns"
DEFAULT_ORCHESTRATOR_URL = f"http://{DEFAULT_HOST}:{ORCHESTRATOR_PORT}"
# The Chatwoot bridge: webhooks in, the local chat page at /.
BRIDGE_PORT = 8090
WEBHOOK_PATH = "/chatwoot/webhook"
# Where the orchestrator finds each server: {server} and {port} are filled in (compose: http://{server}:{port}/mcp).
DEFAULT_MCP_URL_TEMPLATE = f"http://{DEFAULT_HOST}:{{port}}{MCP_PATH}"

DEFAULT_PORTS: dict[McpServer, int] = {
    McpServer.CUSTOMERS: 8101,
    McpServer.SUBSCRIPTIONS: 8102,
    McpServer.SHIPPING: 8103,
    McpServer.DAMAGE: 8104,
    McpServer.ANALYTICS: 8105,
    McpServer.KNOWLEDGE: 8106,
}


def mcp_url(server: McpServer, template: str = DEFAULT_MCP_URL_TEMPLATE) -> str:
    return template.format(server=server.value, port=DEFAULT_PORTS[server])
