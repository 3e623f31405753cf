"""The caller's own account."""

from __future__ import annotations

from fastapi import APIRouter, Response

from aido.api.deps import CurrentUserId, SessionDep
from aido.api.json import JSONBytes, json_response
from aido.api.responses import errors
from aido.crud import users
from aido.models.user import UserPublic

router = APIRouter(prefix="/users", tags=["users"])


@router.get("/me", response_model=UserPublic, responses=errors(401, 503))
async def read_me(user_id: CurrentUserId, db: SessionDep) -> JSONBytes:
    return json_response(await users.get_user(db, user_id=user_id))


@router.delete(
    "/me",
    status_code=204,
    summary="Delete the account and all its tasks",
    responses=errors(401, 503),
)
async def delete_me(user_id: CurrentUserId, db: SessionDep) -> Response:
    await users.delete_user(db, user_id=user_id)
    return Response(status_code=204)
