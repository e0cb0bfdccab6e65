"""The orchestrator's HTTP API (Starlette), behind a service token: POST /v1/turns (a customer's message in, the reply
out), POST /v1/corrections (a person edited an AI draft before sending it: a lesson for the category); GET /healthz."""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import psycopg
from psycopg_pool import PoolTimeout
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from orchestrator.learning import CorrectionRefused, record_correction
from orchestrator.pipeline import MessageConflict, Pipeline
from orchestrator.replies import say
from schemas.corrections import CORRECTIONS_PATH, CorrectionRequest
from schemas.errors import ErrorCode, ToolErrorInfo
from schemas.http_body import capped_body
from schemas.services import TURNS_PATH
from schemas.turns import TurnRequest

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024


def _error(status: int, code: ErrorCode, message: str, field: str | None = None, **extra: Any) -> JSONResponse:
    body = ToolErrorInfo(code=code, field=field, message=message).model_dump(exclude_none=True) | extra
    return JSONResponse(body, status_code=status)


def create_app(pipeline_context: Callable[[], contextlib.AbstractAsyncContextManager[Pipeline]],
               service_token: str) -> Starlette:
    """`pipeline_context` opens the pipeline (pools, MCP connections) for the app's lifetime."""
    pipeline: Pipeline | None = None

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        nonlocal pipeline
        async with pipeline_context() as running:
            pipeline = running
            yield

    async def authorised_body(request: Request) -> bytes | Response:
        scheme, _, supplied = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(supplied.strip().encode(), service_token.encode()):
            return _error(401, ErrorCode.FORBIDDEN, "send the service token as 'Authorization: Bearer <token>'")
        return await limited_body(request)

    async def limited_body(request: Request) -> bytes | Response:
        body = await capped_body(request.stream(), request.headers.get("content-length"), MAX_BODY_BYTES)
        if body is None:
            return _error(413, ErrorCode.INVALID_ARGUMENT, f"the request is larger than {MAX_BODY_BYTES} bytes")
        return body

    def invalid(exc: ValidationError) -> Response:
        first = exc.errors(include_url=False)[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        return _error(422, ErrorCode.INVALID_ARGUMENT, str(first["msg"]).removeprefix("Value error, "), field)

    async def turns(request: Request) -> Response:
        body = await authorised_body(request)
        if isinstance(body, Response):
            return body
        try:
            turn = TurnRequest.model_validate_json(body)
        except ValidationError as exc:
            return invalid(exc)
        assert pipeline is not None
        try:
            response = await pipeline.run(turn)
        except MessageConflict as conflict:
            return _error(409, ErrorCode.IDEMPOTENCY_CONFLICT, str(conflict), "message_id")
        except (psycopg.OperationalError, PoolTimeout):
            # Nothing was recorded: the caller retries the same message id later and gets one answer.
            return _error(503, ErrorCode.UNAVAILABLE, "the conversation store is unavailable; retry the same message "
                          "later", reply=say("holding", "en"))
        return JSONResponse(json.loads(response.model_dump_json()))

    async def corrections(request: Request) -> Response:
        body = await authorised_body(request)
        if isinstance(body, Response):
            return body
        try:
            correction = CorrectionRequest.model_validate_json(body)
        except ValidationError as exc:
            return invalid(exc)
        assert pipeline is not None
        try:
            async with pipeline.pool.connection() as conn:
                learned = await record_correction(conn, pipeline.categories, correction)
        except CorrectionRefused as exc:
            return _error(404, ErrorCode.NOT_FOUND, str(exc), exc.field)
        except (psycopg.OperationalError, PoolTimeout):
            return _error(503, ErrorCode.UNAVAILABLE, "the store is unavailable; post the correction again later")
        return JSONResponse(learned.model_dump(mode="json"))

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok" if pipeline is not None else "starting"})

    return Starlette(routes=[Route(TURNS_PATH, turns, methods=["POST"]),
                             Route(CORRECTIONS_PATH, corrections, methods=["POST"]), Route("/healthz", healthz)],
                     exception_handlers={HTTPException: _http_error, Exception: _server_error}, lifespan=lifespan)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Routing's own refusals (no such path, a method the path does not take) in the API's error shape."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        response = _error(405, ErrorCode.INVALID_ARGUMENT, f"{request.method} is not allowed on {request.url.path}; "
                          f"use {allowed or 'another method'}")
        response.headers.update(exc.headers or {})
        return response
    if exc.status_code == 404:
        return _error(404, ErrorCode.NOT_FOUND, f"no such path: {request.url.path} (the API serves POST {TURNS_PATH}, "
                      f"POST {CORRECTIONS_PATH} and GET /healthz)")
    return _error(exc.status_code, ErrorCode.INVALID_ARGUMENT, exc.detail)


async def _server_error(_: Request, exc: Exception) -> Response:
    """A failure nobody foresaw: the API's error shape instead of a plain-text 500 (the traceback is still logged)."""
    return _error(500, ErrorCode.UNAVAILABLE, "the orchestrator failed on this request; it was logged")
