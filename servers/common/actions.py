"""The two-phase action engine: confirmation bound to (customer, tool, arguments), executed once.

A tool supplies `plan` (check preconditions and policy, lock what it will change, return the
summary) and `execute` (make the change, return the summary and the changed record). The engine
runs `plan` again at execution time, under the same locks, so a confirmation given for a state that
has since changed cannot push an action through.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Generic

import psycopg
from fastmcp import Context
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from pydantic import BaseModel, Field

from schemas.actions import ActionResponse, AuditOutcome, ConfirmationToken, IdempotencyKey, ResultT
from schemas.errors import ErrorCode
from servers.common import audit
from servers.common.errors import ToolFailure
from servers.common.runtime import Clock, runtime_of

ConfirmationArg = Annotated[ConfirmationToken | None, Field(description=ConfirmationToken.__metadata__[0].description)]
IdempotencyArg = Annotated[IdempotencyKey | None, Field(description=IdempotencyKey.__metadata__[0].description)]

# A tool's two halves: check and lock, returning the summary to confirm; then make the change.
PlanStep = Callable[[psycopg.AsyncConnection], Awaitable[str]]
ExecuteStep = Callable[[psycopg.AsyncConnection], Awaitable[tuple[str, BaseModel]]]


def canonical(arguments: dict[str, Any]) -> str:
    return json.dumps(arguments, sort_keys=True, separators=(",", ":"), default=str)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class ActionCall(Generic[ResultT]):
    tool: str
    customer_id: int
    arguments: dict[str, Any]  # what the confirmation binds: everything but the token and the key
    result_type: type[ResultT]
    confirmation_token: str | None = None
    idempotency_key: str | None = None

    @property
    def bound_arguments(self) -> dict[str, Any]:
        return {"customer_id": self.customer_id, **self.arguments}

    @property
    def arguments_hash(self) -> str:
        return _sha256(canonical(self.bound_arguments))


async def perform(ctx: Context, call: ActionCall[ResultT], plan: PlanStep, execute: ExecuteStep
                  ) -> ActionResponse[ResultT]:
    runtime = runtime_of(ctx)
    principal = runtime.principal()
    response_type = ActionResponse[call.result_type]  # type: ignore[name-defined]
    audit_args = {**call.bound_arguments, "confirmed": call.confirmation_token is not None}
    if call.idempotency_key:
        audit_args["idempotency_key"] = call.idempotency_key

    async def write_audit(conn: psycopg.AsyncConnection, outcome: AuditOutcome, **extra: Any) -> int:
        return await audit.record(conn, principal=principal, server=runtime.server, tool=call.tool,
                                  arguments=audit_args, outcome=outcome.value, customer_id=call.customer_id, **extra)

    async def append_audit(conn: psycopg.AsyncConnection, outcome: AuditOutcome, **extra: Any) -> None:
        await audit.append(conn, principal=principal, server=runtime.server, tool=call.tool, arguments=audit_args,
                           outcome=outcome.value, customer_id=call.customer_id, **extra)

    try:
        # Pipelined: BEGIN and the statements whose results nobody waits for travel with the next one that returns
        # rows (a confirmation request is BEGIN+plan, then pending row+audit row+COMMIT: two round trips, not five).
        async with runtime.pool.connection() as conn, conn.pipeline():
            async with conn.transaction():
                replay = await _replay(conn, call, response_type)
                if replay is not None:
                    await append_audit(conn, AuditOutcome.REPLAYED, result={"audit_id": replay.audit_id})
                    return replay
                if call.confirmation_token is None:
                    summary = await plan(conn)
                    token = secrets.token_urlsafe(32)
                    expires_at = runtime.clock() + runtime.confirmation_ttl
                    await conn.execute(
                        "INSERT INTO pending_confirmations (token_hash, customer_id, tool, arguments_hash, arguments, "
                        "summary, caller, conversation_id, created_at, expires_at) "
                        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                        (_sha256(token), call.customer_id, call.tool, call.arguments_hash,
                         Jsonb(json.loads(canonical(call.bound_arguments))), summary, principal.subject,
                         principal.conversation_id, runtime.clock(), expires_at),
                    )
                    await append_audit(conn, AuditOutcome.CONFIRMATION_REQUESTED, result={"summary": summary})
                    return response_type(status="confirmation_required", tool=call.tool, summary=summary,
                                         confirmation_token=token, expires_at=expires_at,
                                         arguments=call.bound_arguments)

                used = await _claim_token(conn, call, runtime.clock)
                if used:
                    # A concurrent or repeated submit of the same confirmed call: the first one won.
                    replay = await _replay(conn, call, response_type)
                    if replay is not None:
                        await append_audit(conn, AuditOutcome.REPLAYED, result={"audit_id": replay.audit_id})
                        return replay
                    raise ToolFailure(ErrorCode.CONFIRMATION_USED, "this confirmation was already used; the action "
                                      "was done once. Call without a token to ask the customer again if they want "
                                      "it done again", "confirmation_token")
                await plan(conn)
                summary, result = await execute(conn)
                payload = {"summary": summary, "result": result.model_dump(mode="json")}
                audit_id = await write_audit(conn, AuditOutcome.EXECUTED, result=payload)
                response = response_type(status="executed", tool=call.tool, summary=summary, audit_id=audit_id,
                                         arguments=call.bound_arguments, result=result)
                if call.idempotency_key:
                    await conn.execute(
                        "INSERT INTO idempotency_keys (tool, key, customer_id, arguments_hash, result) "
                        "VALUES (%s, %s, %s, %s, %s)",
                        (call.tool, call.idempotency_key, call.customer_id, call.arguments_hash,
                         Jsonb(response.model_dump(mode="json"))),
                    )
                return response
    except ToolFailure as failure:
        async with runtime.pool.connection() as conn:
            await write_audit(conn, AuditOutcome.REFUSED, error_code=failure.info.code.value,
                              result={"message": failure.info.message, "field": failure.info.field})
        failure.audited = True
        raise


async def _replay(conn: psycopg.AsyncConnection, call: ActionCall[ResultT],
                  response_type: type[ActionResponse[ResultT]]) -> ActionResponse[ResultT] | None:
    if not call.idempotency_key:
        return None
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute("SELECT customer_id, arguments_hash, result FROM idempotency_keys WHERE tool = %s AND key = %s",
                      (call.tool, call.idempotency_key))
    stored = await cur.fetchone()
    if stored is None:
        return None
    if stored["customer_id"] != call.customer_id or stored["arguments_hash"] != call.arguments_hash:
        raise ToolFailure(ErrorCode.IDEMPOTENCY_CONFLICT, "this idempotency_key was already used with other "
                          "arguments; use a new key for a different action", "idempotency_key")
    return response_type.model_validate({**stored["result"], "replayed": True})


async def _claim_token(conn: psycopg.AsyncConnection, call: ActionCall[ResultT], clock: Clock) -> bool:
    """Lock the confirmation row and check it; mark it used. Returns True if it had been used already."""
    assert call.confirmation_token is not None
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(
        "SELECT customer_id, tool, arguments_hash, expires_at, used_at FROM pending_confirmations "
        "WHERE token_hash = %s FOR UPDATE", (_sha256(call.confirmation_token),))
    row = await cur.fetchone()
    if row is None or row["customer_id"] != call.customer_id or row["tool"] != call.tool:
        raise ToolFailure(ErrorCode.CONFIRMATION_INVALID, "this confirmation_token is not valid for this customer "
                          "and tool; call without a token to get a new confirmation", "confirmation_token")
    if row["arguments_hash"] != call.arguments_hash:
        raise ToolFailure(ErrorCode.CONFIRMATION_INVALID, "this confirmation_token was issued for different "
                          "arguments; the customer confirmed something else. Call without a token to confirm these "
                          "arguments", "confirmation_token")
    if row["used_at"] is not None:
        return True
    if row["expires_at"] <= clock():
        raise ToolFailure(ErrorCode.CONFIRMATION_EXPIRED, "this confirmation expired; call without a token and ask "
                          "the customer to confirm again", "confirmation_token")
    await conn.execute("UPDATE pending_confirmations SET used_at = greatest(%s, created_at) WHERE token_hash = %s",
                       (clock(), _sha256(call.confirmation_token)))
    return False
