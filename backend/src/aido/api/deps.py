"""Dependencies shared by the routes: the database handle, settings and the caller's id.

All are `async def` although none awaits: FastAPI runs a plain `def` dependency in its
threadpool, a thread hop per dependency on every request.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer

from aido.core.config import Settings
from aido.core.security import InvalidToken, decode_access_token
from aido.db.session import Database, get_session

SessionDep = Annotated[Database, Depends(get_session)]

# auto_error=False: a missing token must get our 401 body and header, not FastAPI's.
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/login", auto_error=False)

UNAUTHORIZED = HTTPException(
    status_code=status.HTTP_401_UNAUTHORIZED,
    detail="Could not validate credentials",
    headers={"WWW-Authenticate": "Bearer"},
)


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


async def get_current_user_id(
    settings: SettingsDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> uuid.UUID:
    """The caller's id from a valid token, with no database round trip.

    Whether the user still exists is settled by each route's own statement: every task row
    belongs to a live user (ON DELETE CASCADE), so a query that finds rows proves it, and a
    query that finds none checks the user before answering 404 (see crud.users.ensure_exists).
    """
    if not token:
        raise UNAUTHORIZED
    try:
        return decode_access_token(token, secret=settings.JWT_SECRET)
    except InvalidToken:
        raise UNAUTHORIZED from None


CurrentUserId = Annotated[uuid.UUID, Depends(get_current_user_id)]
