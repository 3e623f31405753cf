"""GET /metrics: the Prometheus text format, for a bearer of METRICS_TOKEN only.

Routed only when METRICS_TOKEN is set (main.create_app); without it the path is a 404 like
any unknown one. Not in OpenAPI: it is for the operator's scraper, not for API clients.
README "Operations" shows the scrape configurations (compose, Kubernetes).
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response

from aido.api.errors import error
from aido.core.metrics import CONTENT_TYPE, exposition, record_pool

router = APIRouter(include_in_schema=False)

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="metrics"'}


def bearer_matches(authorization: str | None, token: str) -> bool:
    scheme, _, given = (authorization or "").partition(" ")
    # Compared in constant time: the answer's timing tells nothing of the token.
    return scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), token.encode())


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    token: str = request.app.state.settings.METRICS_TOKEN
    if not bearer_matches(request.headers.get("authorization"), token):
        return error(401, "Send the metrics token as a bearer token", CHALLENGE)
    # This worker's pool as of now (the others' as of their last second).
    record_pool(request.app.state.db.pool_stats())
    return Response(exposition(), media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})
