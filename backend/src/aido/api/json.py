"""JSON responses serialized once by orjson, skipping pydantic re-validation of our own rows.

Endpoints still declare `response_model` so OpenAPI documents the shape; FastAPI returns a
Response instance as is.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Response


class JSONBytes(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def json_response(
    content: Any, status_code: int = 200, headers: dict[str, str] | None = None
) -> JSONBytes:
    return JSONBytes(content, status_code=status_code, headers=headers)
