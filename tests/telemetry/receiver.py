"""A local OTLP/HTTP trace receiver (Starlette), standing in for Langfuse, a collector or Jaeger: it accepts
`POST /v1/traces` as protobuf or OTLP/JSON, gzip or not, and keeps the spans as plain records to assert on."""

from __future__ import annotations

import contextlib
import gzip
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.json_format import MessageToDict
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from servers.common.loopback import serve_on_loopback


@dataclass
class ReceivedSpan:
    name: str
    trace_id: str
    span_id: str
    parent_id: str | None
    scope: str
    service: str
    kind: str
    attributes: dict[str, Any]
    status: str
    start_ns: int
    end_ns: int

    def __repr__(self) -> str:
        return f"<{self.name} [{self.scope}] {self.span_id[:6]}<-{(self.parent_id or '')[:6]}>"


def _value(value: dict[str, Any]) -> Any:
    if "stringValue" in value:
        return value["stringValue"]
    if "boolValue" in value:
        return value["boolValue"]
    if "intValue" in value:
        return int(value["intValue"])
    if "doubleValue" in value:
        return float(value["doubleValue"])
    if "arrayValue" in value:
        return [_value(v) for v in value["arrayValue"].get("values", [])]
    return None


def _attributes(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {item["key"]: _value(item.get("value", {})) for item in items}


def _hex(value: str, *, from_base64: bool) -> str:
    if not from_base64:
        return value.lower()
    import base64

    return base64.b64decode(value).hex()


def spans_of(payload: dict[str, Any], *, ids_base64: bool) -> list[ReceivedSpan]:
    found = []
    for resource_spans in payload.get("resourceSpans", []):
        service = _attributes(resource_spans.get("resource", {}).get("attributes", [])).get("service.name", "")
        for scope_spans in resource_spans.get("scopeSpans", []):
            scope = scope_spans.get("scope", {}).get("name", "")
            for span in scope_spans.get("spans", []):
                parent = span.get("parentSpanId")
                found.append(ReceivedSpan(
                    name=span["name"], trace_id=_hex(span["traceId"], from_base64=ids_base64),
                    span_id=_hex(span["spanId"], from_base64=ids_base64),
                    parent_id=_hex(parent, from_base64=ids_base64) if parent else None, scope=scope,
                    service=service, kind=str(span.get("kind", "")),
                    attributes=_attributes(span.get("attributes", [])),
                    status=str(span.get("status", {}).get("code", "STATUS_CODE_UNSET")),
                    start_ns=int(span.get("startTimeUnixNano", 0)), end_ns=int(span.get("endTimeUnixNano", 0))))
    return found


@dataclass
class Receiver:
    url: str = ""
    spans: list[ReceivedSpan] = field(default_factory=list)
    requests: list[dict[str, str]] = field(default_factory=list)

    def trace(self, trace_id: str) -> list[ReceivedSpan]:
        return [span for span in self.spans if span.trace_id == trace_id]

    def clear(self) -> None:
        self.spans.clear()
        self.requests.clear()


def receiver_app(receiver: Receiver, path: str = "/v1/traces") -> Starlette:
    async def traces(request: Request) -> Response:
        body = await request.body()
        if request.headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        receiver.requests.append(dict(request.headers))
        if request.headers.get("content-type", "").startswith("application/json"):
            receiver.spans.extend(spans_of(json.loads(body), ids_base64=False))
            return JSONResponse({})
        message = ExportTraceServiceRequest()
        message.ParseFromString(body)
        # Protobuf's JSON mapping spells bytes (the ids) in base64; OTLP/JSON spells them in hex.
        receiver.spans.extend(spans_of(MessageToDict(message), ids_base64=True))
        return Response(ExportTraceServiceResponse().SerializeToString(), media_type="application/x-protobuf")

    return Starlette(routes=[Route(path, traces, methods=["POST"])])


@contextlib.asynccontextmanager
async def otlp_receiver(path: str = "/v1/traces") -> AsyncIterator[Receiver]:
    receiver = Receiver()
    async with serve_on_loopback(receiver_app(receiver, path)) as base:
        receiver.url = base
        yield receiver
