"""Dependencies shared by the routes: the database handle, settings and the caller's id.

All are `async def` although none awaits: FastAPI runs a plain `def` dependency in its
threadpool, a thread hop per dependency on every request. The task routes, the busiest, take
one dependency (`TaskCallerDep`) for all they need: each dependency FastAPI solves costs ~15 µs
of CPU per request (bench/README.md, issue 15). Their fast path (api/fast_path.py) calls
`task_caller` itself.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from aido.api.accounts import Accounts
from aido.core.config import Settings
from aido.core.errors import NotAuthenticated
from aido.db.database import Database
from aido.queries.tasks import TaskRules


async def get_database(request: Request) -> Database:
    """The process's database handle (one pool per process, made at start-up)."""
    db: Database = request.app.state.db
    return db


DatabaseDep = Annotated[Database, Depends(get_database)]


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


class BearerUserId(OAuth2PasswordBearer):
    """The caller's id from a valid, unrevoked bearer token, with no database round trip in
    the common case (revocations: core/revocation.py).

    One dependency with no sub-dependencies: the token check runs on every task request,
    and FastAPI solving a tree (token scheme + settings + check) cost more than the check
    itself (bench/README.md). Subclassing the scheme keeps it in OpenAPI as before.

    Whether the user still exists is settled by each route's own statement: every task row
    belongs to a live user (ON DELETE CASCADE), so a query that finds rows proves it, and a
    query that finds none checks the user before answering 404 (see queries.users.ensure_exists).
    """

    async def __call__(self, request: Request) -> uuid.UUID:  # type: ignore[override]
        # Our own 401 body and header for a missing or malformed header, not FastAPI's.
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise NotAuthenticated
        accounts: Accounts = request.app.state.accounts
        claims = accounts.tokens.verify_access(token)  # InvalidToken is a NotAuthenticated
        revocations = accounts.revocations
        await revocations.ensure_fresh()
        if revocations.is_revoked(claims.user_id, claims.generation):
            raise NotAuthenticated
        return claims.user_id


bearer_user_id = BearerUserId(tokenUrl="/auth/login")

CurrentUserId = Annotated[uuid.UUID, Depends(bearer_user_id)]


@dataclass(frozen=True, slots=True)
class TaskCaller:
    """What a task route needs: the caller's id, the database handle and the process's task
    rules (quotas and search bounds, from Settings)."""

    user_id: uuid.UUID
    db: Database
    rules: TaskRules


class BearerTaskCaller(BearerUserId):
    """The bearer check of `CurrentUserId`, answering with a `TaskCaller` (one dependency to
    solve instead of three)."""

    async def __call__(self, request: Request) -> TaskCaller:  # type: ignore[override]
        user_id = await super().__call__(request)
        state = request.app.state
        rules: TaskRules | None = getattr(state, "task_rules", None)
        if rules is None:  # built from the settings on first use
            rules = state.task_rules = TaskRules.from_settings(state.settings)
        return TaskCaller(user_id, state.db, rules)


# The same security scheme in OpenAPI as CurrentUserId's (named after BearerUserId).
task_caller = BearerTaskCaller(tokenUrl="/auth/login", scheme_name="BearerUserId")
TaskCallerDep = Annotated[TaskCaller, Depends(task_caller)]
