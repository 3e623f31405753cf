"""The security headers (core/security_headers.py) on every response of the app.

Added by a pure ASGI wrapper, which costs one list concatenation per response; the 500 answer
that Starlette sends outside every middleware adds them itself (api/errors.py).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aido.core.security_headers import SECURITY_HEADERS

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
