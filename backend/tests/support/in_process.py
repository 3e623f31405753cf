"""The app served in the test process: `create_app(settings)` behind httpx's ASGITransport, its
lifespan run (pool, accounts, start-up checks) on an event loop in a thread of its own, so sync
tests use it through an ordinary `httpx.Client`. For tests where a real process is not the
point: no port, no start-up wait, coverage and breakpoints in the app's code. Faults, start-up,
http_guard, signals and logs stay with the real server process (tests/support/server.py)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

import anyio.from_thread
import httpx

from aido.core.config import Settings
from aido.main import create_app

BASE_URL = "http://testserver"


def settings_from(env: Mapping[str, str]) -> Settings:
    """The Settings a server started with `env` would read (no .env, no ambient variables)."""
    return Settings.model_validate({k: v for k, v in env.items() if k in Settings.model_fields})


class _PortalTransport(httpx.BaseTransport):
    """A sync transport that hands each request to an ASGITransport on the portal's loop."""

    def __init__(self, portal: anyio.from_thread.BlockingPortal, app: Any) -> None:
        self._portal = portal
        # An error the app does not handle is its 500 answer, as from a server process.
        self._asgi = httpx.ASGITransport(app=app, raise_app_exceptions=False)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._portal.call(self._send, request)

    async def _send(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        forwarded = httpx.Request(
            request.method, request.url, headers=request.headers, content=body
        )
        response = await self._asgi.handle_async_request(forwarded)
        content = await response.aread()
        return httpx.Response(
            response.status_code, headers=response.headers, stream=httpx.ByteStream(content)
        )


@contextlib.contextmanager
def serve_in_process(settings: Settings) -> Iterator[httpx.Client]:
    """An httpx.Client on the app, its lifespan started before and ended after."""
    app = create_app(settings)
    with contextlib.ExitStack() as stack:
        portal = stack.enter_context(anyio.from_thread.start_blocking_portal())
        stack.enter_context(portal.wrap_async_context_manager(app.router.lifespan_context(app)))
        transport = _PortalTransport(portal, app)
        yield stack.enter_context(httpx.Client(transport=transport, base_url=BASE_URL, timeout=30))
