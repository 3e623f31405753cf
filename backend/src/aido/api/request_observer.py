"""Every request gets an id, one access-log line and its metrics, from one ASGI wrapper.

- **Request id**: the client's `X-Request-ID` when it is a plain token (1-128 of
  `A-Za-z0-9._:-`, the proxy's rule in docker/proxy/aido-http.conf), else a new one (32 hex
  digits, as nginx makes them). It is echoed in the response's `X-Request-ID` and set in
  `current_request_id`, so every line logged while the request is served carries it.
- **Access log** (`aido.access`, ACCESS_LOG): method, route template, status, duration and
  client address; at INFO, except health probes and /metrics at DEBUG (a probe every few
  seconds would drown the log).
- **Metrics** (only when /metrics is served): the duration histogram by method, route
  template and status.

Routes are templates, never paths: `/tasks/{task_id}`, so ids and query strings stay out of
logs and label values; a path outside every route is `unmatched`. One wrapper rather than
three: the clock is read twice per request, and the send wrapper is made once
(bench/README.md, "Observability").
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Sequence

from prometheus_client import Histogram
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aido.core.logging import FIELDS, current_request_id
from aido.core.metrics import REQUEST_DURATION

access_log = logging.getLogger("aido.access")

HEADER = b"x-request-id"
PLAIN_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")
UNMATCHED = "unmatched"
QUIET_ROUTES = frozenset({"/health", "/health/live", "/metrics"})
# Label values stay a known set whatever a client sends as its method.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Nothing was sent: the client went away (nginx's code for it), or the app failed.
CLIENT_GONE, FAILED = 499, 500


def request_id_of(headers: Sequence[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name == HEADER:
            if PLAIN_REQUEST_ID.fullmatch(value):
                return value.decode("ascii")
            break
    return os.urandom(16).hex()


class RequestDurations:
    """The histogram's children by route, method and status, each made once: a request
    costs three dict lookups, not a label tuple, its strings and the metric's lock."""

    def __init__(self) -> None:
        self._children: dict[str, dict[str, dict[int, Histogram]]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        try:
            child = self._children[route][method][status]
        except KeyError:
            child = REQUEST_DURATION.labels(method, route, str(status))
            self._children.setdefault(route, {}).setdefault(method, {})[status] = child
        child.observe(seconds)


class RequestObserver:
    def __init__(
        self,
        app: ASGIApp,
        *,
        routes: Sequence[BaseRoute],
        access_log: bool = True,
        metrics: bool = False,
    ) -> None:
        self.app = app
        self.routes = routes  # the API's routes, for requests answered before routing
        self.access_log = access_log
        self.durations = RequestDurations() if metrics else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = request_id_of(scope["headers"])
        current_request_id.set(request_id)
        echoed = (HEADER, request_id.encode())
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), echoed]
            await send(message)

        failed = False
        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            failed = True  # Starlette's outermost layer answers 500 (api/errors.py)
            raise
        finally:
            if not status:
                status = FAILED if failed else CLIENT_GONE
            self._observe(scope, status, time.perf_counter() - started)

    def _observe(self, scope: Scope, status: int, seconds: float) -> None:
        route = scope.get("route")
        template = getattr(route, "path_format", None) or self._template_of(scope)
        method = scope["method"]
        if method not in METHODS:
            method = "OTHER"
        if self.durations is not None:
            self.durations.observe(method, template, status, seconds)
        if not self.access_log:
            return
        level = logging.DEBUG if template in QUIET_ROUTES else logging.INFO
        if not access_log.isEnabledFor(level):
            return
        ms = seconds * 1000
        client = scope.get("client")
        address = client[0] if client else None
        access_log.log(
            level, "%s %s %d %.1f ms client=%s", method, template, status, ms, address,
            extra={FIELDS: {"method": method, "route": template, "status": status,
                            "duration_ms": round(ms, 2), "client": address}},
        )  # fmt: skip

    def _template_of(self, scope: Scope) -> str:
        """The route of a request answered before routing (413, a CORS preflight) or of
        none (404), found the router's way: rare, so tried here, not for every request."""
        for route in self.routes:
            match, _ = route.matches(scope)
            if match is not Match.NONE:
                return getattr(route, "path_format", None) or UNMATCHED
        return UNMATCHED
