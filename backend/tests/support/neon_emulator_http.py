"""HTTP glue of the Neon emulator: auth, injected faults, JSON bodies, Neon's error shape.

Every API request and every answer passes through the emulator's contract (Neon's published
OpenAPI document): what the document does not allow is recorded with
`emulator.record_violations`, and the test fixtures fail the test that caused it.

The emulator object passed in provides `handle(method, path, query, body)`,
`control(method, action, body)`, `take_fault(method, path)`, `contract`,
`record_violations(problems)`, `api_keys`, `forbidden_keys`, `delay`, `requests` and `lock`
(see neon_emulator.NeonEmulator).
"""

from __future__ import annotations

import json
import time
import uuid
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

Json = dict[str, Any]
API_PREFIX = "/api/v2"
BUSY = "project already has running conflicting operations, scheduling of new ones is prohibited"


class ApiError(Exception):
    """Answered as Neon answers errors: `{"code", "message", "request_id"}`."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def make_handler(emulator: Any) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass  # quiet: the request log lives in emulator.requests

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_DELETE(self) -> None:
            self._serve("DELETE")

        def _serve(self, method: str) -> None:
            split = urlsplit(self.path)
            path = split.path
            queries = parse_qs(split.query, keep_blank_values=True)
            query = {k: v[0] for k, v in queries.items()}
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            request_id = self.headers.get("X-Request-ID") or str(uuid.uuid4())
            headers = {k: v for k, v in self.headers.items()}
            is_api = path.startswith(API_PREFIX + "/")
            api_path = path[len(API_PREFIX) :]
            if is_api:
                emulator.record_violations(
                    emulator.contract.check_request(method, api_path, queries, headers, raw)
                )
            status: int = 500
            reply_headers: dict[str, str] = {}
            payload: Json = {}
            try:
                body = json.loads(raw) if raw else None
                if path.startswith("/_emulator/"):
                    status, payload = emulator.control(method, path.rsplit("/", 1)[1], body or {})
                else:
                    status, payload = self._api(method, path, body, query)
            except ApiError as exc:
                status, reply_headers = exc.status, exc.headers
                payload = {"code": "", "message": exc.message, "request_id": request_id}
            except ValueError:
                status = 400
                payload = {"code": "", "message": "invalid request: body is not JSON",
                           "request_id": request_id}  # fmt: skip
            except Exception as exc:  # a bug in the emulator: answer, and say what
                status = 500
                payload = {"code": "", "message": f"emulator error: {type(exc).__name__}: {exc}",
                           "request_id": request_id}  # fmt: skip
            if is_api:
                emulator.record_violations(
                    emulator.contract.check_response(
                        method, api_path, queries, headers, status, payload
                    )
                )
            if not path.startswith("/_emulator/"):
                with emulator.lock:
                    emulator.requests.append({"method": method, "path": path, "status": status})
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in reply_headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _api(self, method: str, path: str, body: Json | None, query: Json) -> tuple[int, Json]:
            if not path.startswith(API_PREFIX + "/"):
                raise ApiError(404, f"unknown path {path}")
            path = path[len(API_PREFIX) :]
            if emulator.delay:
                time.sleep(emulator.delay)
            auth = self.headers.get("Authorization", "")
            key = auth[7:] if auth.startswith("Bearer ") else ""
            if key in emulator.forbidden_keys:
                raise ApiError(403, "forbidden: the API key has no access to this resource")
            if key not in emulator.api_keys:
                raise ApiError(401, "authentication required")
            fault = emulator.take_fault(method, path)
            if fault is not None:
                headers = {}
                if fault.retry_after is not None:
                    headers["Retry-After"] = f"{fault.retry_after:g}"
                message = fault.message or HTTPStatus(fault.status).phrase
                if fault.status == 423 and not fault.message:
                    message = BUSY
                raise ApiError(fault.status, message, headers)
            answer: tuple[int, Json] = emulator.handle(method, path, query, body)
            return answer

    return Handler
