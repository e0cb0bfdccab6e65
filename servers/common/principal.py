"""Who is calling: from the bearer token's claims over HTTP, from configuration over stdio."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

ALL_TOOLS = "*"


class Principal(BaseModel):
    """A caller and what it may do. `tools` lists tool names, or is ["*"] for every tool."""

    model_config = ConfigDict(frozen=True)

    subject: str = Field(min_length=1, max_length=200, description="e.g. 'orchestrator/damaged_item', 'staff/dana'")
    scope: str = Field(min_length=1, description="category name, 'staff' or 'analytics'")
    tools: tuple[str, ...]
    customer_id: int | None = Field(default=None, description="When set, the caller may only touch this customer")
    conversation_id: str | None = None

    def may_use(self, tool: str) -> bool:
        return ALL_TOOLS in self.tools or tool in self.tools

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> Principal:
        tools = claims.get("tools", [])
        if isinstance(tools, str):
            tools = tools.split()
        return cls(
            subject=str(claims.get("sub") or claims.get("client_id") or "unknown"),
            scope=str(claims.get("lh_scope") or "none"),
            tools=tuple(str(t) for t in tools),
            customer_id=int(claims["customer_id"]) if claims.get("customer_id") is not None else None,
            conversation_id=str(claims["conversation_id"]) if claims.get("conversation_id") else None,
        )


def staff_principal(name: str, tools: str) -> Principal:
    listed = tuple(t.strip() for t in tools.split(",") if t.strip()) or (ALL_TOOLS,)
    return Principal(subject=f"staff/{name}", scope="staff", tools=listed)
