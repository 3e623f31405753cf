"""The stack's best case for the list, the create and the patch, to compare the API with.

FastAPI, one `async def` route per case, a psycopg_pool of autocommit connections, the API's
statements in their plainest form, rows serialised by orjson. Nothing else: no token check, no
validation, no retries, no middleware, no cursor, no quota. Not used by the API or the tests.

`scripts/bench` runs it in the same run as the API (same workers, connections, data and wrk
requests) and prints aido's CPU per request against it (bench/README.md). By hand:

    REFERENCE_DATABASE_URL=postgresql://user:pw@127.0.0.1:5432/db \\
    REFERENCE_OWNERS=<uuid>,<uuid>,... \\
        .venv/bin/uvicorn --app-dir bench reference_app:app --workers 2 --port 18080 \\
        --no-access-log --log-level warning

The `Authorization` header wrk sends is ignored: owners rotate over REFERENCE_OWNERS.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import orjson
from fastapi import FastAPI, Request, Response
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

URL = os.environ["REFERENCE_DATABASE_URL"]
POOL_SIZE = int(os.environ.get("REFERENCE_POOL_SIZE", "16"))
COLUMNS = "id, title, description, completed, created_at, updated_at"
LIST = (
    f"SELECT {COLUMNS} FROM task "
    "WHERE owner_id = %s ORDER BY created_at DESC, id DESC LIMIT %s"
)
CREATE = (
    "INSERT INTO task (id, owner_id, title, description, completed) "
    f"VALUES (%s, %s, %s, %s, %s) RETURNING {COLUMNS}"
)
PATCH = f"UPDATE task SET completed = %s, updated_at = now() WHERE id = %s RETURNING {COLUMNS}"

owners = itertools.cycle(os.environ["REFERENCE_OWNERS"].split(","))
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


def _json(content: object, status_code: int = 200) -> Response:
    return Response(orjson.dumps(content), status_code, media_type="application/json")


@app.get("/health/live")
async def live() -> Response:
    return Response(b'{"status":"alive"}', media_type="application/json")


@app.get("/tasks")
async def list_tasks(limit: int = 50) -> Response:
    async with pool.connection() as conn:
        cur = await conn.execute(LIST, (next(owners), limit + 1))
        rows = await cur.fetchall()
    return _json({"items": rows[:limit], "next_cursor": None})


@app.post("/tasks")
async def create_task(request: Request) -> Response:
    body = orjson.loads(await request.body())
    params = (uuid.uuid4(), next(owners), body["title"], body.get("description"),
              body.get("completed", False))  # fmt: skip
    async with pool.connection() as conn:
        row = await (await conn.execute(CREATE, params)).fetchone()
    return _json(row, 201)


@app.patch("/tasks/{task_id}")
async def patch_task(task_id: str, request: Request) -> Response:
    body = orjson.loads(await request.body())
    async with pool.connection() as conn:
        row = await (await conn.execute(PATCH, (body["completed"], task_id))).fetchone()
    return _json(row)
