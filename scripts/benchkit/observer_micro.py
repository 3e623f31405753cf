"""The request observer's own cost, in process: microseconds of CPU per request.

    .venv/bin/python scripts/benchkit/observer_micro.py [--requests N]
    PROMETHEUS_MULTIPROC_DIR=$(mktemp -d) .venv/bin/python scripts/benchkit/observer_micro.py

Drives a trivial ASGI app (one 200 answer) directly, without a server or a socket, through:
nothing; aido's RequestObserver with ids only (ACCESS_LOG=false, no metrics); with the
metrics histogram; with the JSON access log too (written to /dev/null); and, for comparison,
the same id + access log + histogram done by a Starlette BaseHTTPMiddleware (the other way to
write a middleware). With PROMETHEUS_MULTIPROC_DIR set, the histogram is in prometheus_client's
multiprocess mode, as under several workers. bench/README.md ("Observability") has the
figures; `scripts/bench` prices the same on the real list case.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aido.api.request_observer import RequestDurations, RequestObserver, request_id_of
from aido.core.logging import FIELDS, JsonFormatter, current_request_id

ROUTE = Route("/tasks", endpoint=lambda request: Response(b"[]"))
HEADERS = [(b"host", b"x"), (b"authorization", b"Bearer t"), (b"accept", b"*/*"),
           (b"user-agent", b"wrk")]  # fmt: skip


async def plain_app(scope: Scope, receive: Receive, send: Send) -> None:
    scope["route"] = ROUTE
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})  # fmt: skip
    await send({"type": "http.response.body", "body": b"[]"})


class BaseHttpObserver(BaseHTTPMiddleware):
    """What RequestObserver does, written the other way."""

    durations = RequestDurations()

    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        request_id = request_id_of(request.scope["headers"])
        current_request_id.set(request_id)
        response = await call_next(request)
        response.headers["x-request-id"] = request_id
        seconds = time.perf_counter() - started
        template = request.scope["route"].path_format
        self.durations.observe(request.method, template, response.status_code, seconds)
        logging.getLogger("aido.access").info(
            "%s %s %d %.1f ms", request.method, template, response.status_code, seconds * 1000,
            extra={FIELDS: {"route": template}},
        )  # fmt: skip
        return response


async def drive(app: ASGIApp, requests: int) -> float:
    """CPU seconds per request of `requests` calls."""

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        return None

    def scope() -> dict[str, Any]:
        return {"type": "http", "method": "GET", "path": "/tasks", "raw_path": b"/tasks",
                "root_path": "", "query_string": b"", "headers": HEADERS,
                "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000),
                "scheme": "http", "http_version": "1.1", "asgi": {"version": "3.0"}}  # fmt: skip

    for _ in range(2000):  # warm up: children made, caches filled
        await app(scope(), receive, send)
    started = time.process_time()
    for _ in range(requests):
        await app(scope(), receive, send)
    return (time.process_time() - started) / requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=50_000)
    args = parser.parse_args()
    handler = logging.StreamHandler(open(os.devnull, "w"))  # noqa: SIM115 - lives with the process
    handler.setFormatter(JsonFormatter())
    access = logging.getLogger("aido.access")
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    access.propagate = False
    variants: dict[str, ASGIApp] = {
        "no middleware": plain_app,
        "RequestObserver: request id only": RequestObserver(
            plain_app, routes=[], access_log=False
        ),  # fmt: skip
        "RequestObserver: + metrics": RequestObserver(
            plain_app, routes=[], access_log=False, metrics=True
        ),  # fmt: skip
        "RequestObserver: + metrics + JSON access log": RequestObserver(
            plain_app, routes=[], access_log=True, metrics=True
        ),
        "BaseHTTPMiddleware: the same": BaseHttpObserver(plain_app),
    }
    base = None
    for name, app in variants.items():
        per_request = asyncio.run(drive(app, args.requests)) * 1e6
        base = per_request if base is None else base
        print(f"{name:<46} {per_request:7.1f} µs/request  (+{per_request - base:5.1f})")


if __name__ == "__main__":
    main()
