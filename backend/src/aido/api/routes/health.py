"""Health: /health proves the database answers; /health/live only that the process does."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter
from pydantic import BaseModel

from aido.api.deps import DatabaseDep, SettingsDep
from aido.api.json import JSONBytes, json_response
from aido.db.transient import describe

router = APIRouter(tags=["health"])
log = logging.getLogger("aido.health")

_HEALTHY = {"status": "healthy", "database": "connected"}
_UNHEALTHY = {"status": "unhealthy", "database": "unavailable"}


class Health(BaseModel):
    status: str
    database: str


@router.get(
    "/health",
    response_model=Health,
    summary="Readiness: the database answers SELECT 1",
    responses={503: {"model": Health, "description": "The database is unavailable"}},
)
async def health(db: DatabaseDep, settings: SettingsDep) -> JSONBytes:
    # Bounded: a dead or blackholed database answers 503 within DB_CONNECT_TIMEOUT + 1 s.
    try:
        await asyncio.wait_for(db.ping(), timeout=settings.DB_CONNECT_TIMEOUT + 0.5)
    except Exception as exc:
        log.warning("health check failed: %s", describe(exc))
        return json_response(_UNHEALTHY, 503, {"Retry-After": "5"})
    return json_response(_HEALTHY)


@router.get("/health/live", response_model=Health, summary="Liveness: no database access")
async def live() -> JSONBytes:
    return json_response({"status": "alive", "database": "not checked"})
