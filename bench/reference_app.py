"""The stack's best case for the list, to compare the API with (bench/README.md).

FastAPI, one `async def` route, a psycopg_pool of autocommit connections, the API's first-page
query, the page serialised by orjson. Nothing else: no token check, no parameter validation,
no retries, no middleware, no cursor. Not used by the API or the tests.

Run it against a database migrated and seeded the bench's way (`aido.db.migrate.upgrade_head`,
then `benchkit.seed.seed`), and load it with the bench's wrk script (`scripts/benchkit/rotate.lua`)
at the same concurrency as the API:

    REFERENCE_DATABASE_URL=postgresql://user:pw@127.0.0.1:5432/db \\
        .venv/bin/uvicorn --app-dir bench reference_app:app --workers 2 --port 18080 \\
        --no-access-log --log-level warning
    # then GET /hello and GET /tasks?limit=50 (owners rotate over 32 users)

The `Authorization` header wrk sends is ignored.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import orjson
import psycopg
from fastapi import FastAPI, Response
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

URL = os.environ["REFERENCE_DATABASE_URL"]
POOL_SIZE = int(os.environ.get("REFERENCE_POOL_SIZE", "16"))
LIST = (
    "SELECT id, title, description, completed, created_at, updated_at FROM task "
    "WHERE owner_id = %s ORDER BY created_at DESC, id DESC LIMIT %s"
)

with psycopg.connect(URL) as _conn:
    _owners = [
        row[0] for row in _conn.execute('SELECT id FROM "user" ORDER BY id LIMIT 32')
    ]
owners = itertools.cycle(_owners)
pool = AsyncConnectionPool(
    URL,
    min_size=POOL_SIZE,
    max_size=POOL_SIZE,
    kwargs={"autocommit": True, "row_factory": dict_row},
    open=False,
)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    await pool.open(wait=True)
    yield
    await pool.close()


app = FastAPI(lifespan=lifespan)


@app.get("/hello")
async def hello() -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


@app.get("/tasks")
async def tasks(limit: int = 50) -> Response:
    async with pool.connection() as conn:
        cur = await conn.execute(LIST, (next(owners), limit + 1))
        rows = await cur.fetchall()
    page = {"items": rows[:limit], "next_cursor": None}
    return Response(orjson.dumps(page), media_type="application/json")
