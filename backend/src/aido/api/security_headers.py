"""Headers every response carries (OWASP REST Security Cheat Sheet, API8:2023 misconfiguration).

- `X-Content-Type-Options: nosniff`: a browser never runs a JSON error body as script or HTML.
- `X-Frame-Options: DENY` and `Content-Security-Policy: frame-ancestors 'none'`: no page can
  frame the API (or /docs) to trick a click.

Added by a pure ASGI wrapper, which costs one list concatenation per response; the 500 answer
that Starlette sends outside every middleware adds them itself (api/errors.py).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", "frame-ancestors 'none'"),
)
_RAW = [(name.lower().encode(), value.encode()) for name, value in SECURITY_HEADERS]


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *_RAW]
            await send(message)

        await self.app(scope, receive, send_with_headers)
