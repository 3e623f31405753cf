"""Every answer the suite's `client` receives is checked against the model its route declares.

The routes return bytes serialised by orjson (faster than letting FastAPI validate and serialise
them again: bench/README.md, "response_model"), so OpenAPI's `response_model` would otherwise be
a promise nobody checks. Here a 2xx body must validate as the route's model with exactly the
model's fields (no extra key, none missing), and an error body must be `{"detail": …}`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from fastapi.routing import APIRoute
from pydantic import BaseModel, TypeAdapter
from starlette.routing import Match

from aido.api.routes import auth, health, tasks, users


def _fields(model: Any, value: Any, where: str) -> None:
    """`value` has exactly the fields of `model` (recursively, through lists of models)."""
    if isinstance(model, type) and issubclass(model, BaseModel):
        assert isinstance(value, dict), f"{where}: not an object"
        assert set(value) == set(model.model_fields), f"{where}: keys {sorted(value)}"
        for name, info in model.model_fields.items():
            _fields(info.annotation, value[name], f"{where}.{name}")
    elif getattr(model, "__origin__", None) is list:
        for i, item in enumerate(value):
            _fields(model.__args__[0], item, f"{where}[{i}]")


@dataclass
class ResponseModelCheck:
    """An httpx response hook; `seen` collects the routes it has checked."""

    routes: list[APIRoute]
    seen: set[tuple[str, str]] = field(default_factory=set)

    @classmethod
    def for_the_app(cls) -> ResponseModelCheck:
        # The routers main.create_app includes (their paths carry their prefixes).
        routers = (health.router, auth.router, users.router, tasks.router)
        return cls([r for router in routers for r in router.routes if isinstance(r, APIRoute)])

    def route(self, method: str, path: str) -> APIRoute | None:
        scope = {"type": "http", "method": method, "path": path}
        return next((r for r in self.routes if r.matches(scope)[0] is Match.FULL), None)

    def __call__(self, response: httpx.Response) -> None:
        request = response.request
        route = self.route(request.method, request.url.path)
        if route is None or response.status_code == 204:
            return
        response.read()
        body = orjson.loads(response.content) if response.content else None
        where = f"{request.method} {route.path} {response.status_code}"
        if response.is_success:
            assert route.response_model is not None, f"{where}: no response_model"
            TypeAdapter(route.response_model).validate_python(body)
            _fields(route.response_model, body, where)
            self.seen.add((request.method, route.path))
        else:
            assert isinstance(body, dict) and set(body) == {"detail"}, f"{where}: {body!r}"
