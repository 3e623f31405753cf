"""The caller's own account."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from aido.api.accounts import accounts_of, token_response
from aido.api.deps import CurrentUserId, DatabaseDep, SettingsDep
from aido.api.json import JSONBytes, json_response
from aido.api.responses import errors
from aido.core.errors import WrongCurrentPassword
from aido.models.user import PasswordChange, Token, UserPublic
from aido.queries import throttle, users
from aido.queries.throttle import Rule

router = APIRouter(prefix="/users", tags=["users"])


@router.get("/me", response_model=UserPublic, responses=errors(401, 503))
async def read_me(user_id: CurrentUserId, db: DatabaseDep) -> JSONBytes:
    return json_response(await users.get_user(db, user_id=user_id))


@router.delete(
    "/me",
    status_code=204,
    summary="Delete the account and all its tasks",
    responses=errors(401, 503),
)
async def delete_me(user_id: CurrentUserId, db: DatabaseDep) -> Response:
    await users.delete_user(db, user_id=user_id)
    return Response(status_code=204)


@router.post(
    "/me/password",
    response_model=Token,
    summary="Change the password (needs the current one); revokes every earlier token",
    description="Every token issued before the change, on every device, is refused from then "
    "on (by other workers and replicas within TOKEN_REVOCATION_SECONDS); the answer carries a "
    "new token for this client. Attempts are limited per account like log-ins for an email.",
    responses=errors(401, 403, 409, 413, 422, 429, 503),
)
async def change_password(
    change: PasswordChange,
    request: Request,
    user_id: CurrentUserId,
    db: DatabaseDep,
    settings: SettingsDep,
) -> JSONBytes:
    accounts = accounts_of(request)
    rule = Rule(
        settings.LOGIN_MAX_FAILURES_PER_EMAIL,
        settings.LOGIN_EMAIL_WINDOW_SECONDS,
        delay_after=settings.LOGIN_MAX_FAILURES,
    )
    attempts_key = throttle.key("password-change", str(user_id))
    await throttle.admit(db, rules={attempts_key: rule}, what="password change attempts")
    current = await users.get_password_hash(db, user_id=user_id)
    if not await accounts.hashing.verify(change.current_password, current["hashed_password"]):
        raise WrongCurrentPassword
    new_hash = await accounts.hashing.hash(change.new_password)
    generation = await users.change_password(
        db, user_id=user_id, old_hash=current["hashed_password"], new_hash=new_hash
    )
    accounts.revocations.note(user_id, generation)
    await throttle.forgive(db, reset=[attempts_key], refund=[])
    return token_response(request, accounts, user_id=user_id, generation=generation,
                          device_id=None)  # fmt: skip
