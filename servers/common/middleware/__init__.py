"""Cross-cutting rules applied to every tool call, one middleware per rule, outermost first:

1. `RefusalAuditMiddleware` writes every refused call of a state-changing tool (and every access refusal) to the
   audit log, once.
2. `TypedErrorsMiddleware` turns bad arguments and database outages into the documented typed errors.
3. `ScopeMiddleware` lists only the caller's tools and refuses calls to others.
4. `ControlCharactersMiddleware` refuses control characters (a NUL byte, escapes) in any string of any argument.
5. `CustomerBindingMiddleware` refuses calls naming another customer than the one the caller is bound to.

`TracingMiddleware`, outside them all, labels the call's server span (server, caller scope, outcome).
"""

from __future__ import annotations

from fastmcp.server.middleware import Middleware

from servers.common.middleware.binding import CustomerBindingMiddleware
from servers.common.middleware.refusals import RefusalAuditMiddleware
from servers.common.middleware.scope import ScopeMiddleware
from servers.common.middleware.text import ControlCharactersMiddleware
from servers.common.middleware.tracing import TracingMiddleware
from servers.common.middleware.typed_errors import TypedErrorsMiddleware


def platform_middleware() -> list[Middleware]:
    return [TracingMiddleware(), RefusalAuditMiddleware(), TypedErrorsMiddleware(), ScopeMiddleware(),
            ControlCharactersMiddleware(), CustomerBindingMiddleware()]


__all__ = ["ControlCharactersMiddleware", "CustomerBindingMiddleware", "RefusalAuditMiddleware", "ScopeMiddleware",
           "TracingMiddleware", "TypedErrorsMiddleware", "platform_middleware"]
