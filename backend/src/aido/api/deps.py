"""Dependencies shared by the routes: the database handle, settings and the caller's id.

All are `async def` although none awaits: FastAPI runs a plain `def` dependency in its
threadpool, a thread hop per dependency on every request.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from aido.api.accounts import Accounts
from aido.core.config import Settings
from aido.core.errors import NotAuthenticated
from aido.db.database import Database


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
