"""Sign-up and log-in."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from aido.api.deps import SessionDep, SettingsDep
from aido.api.json import JSONBytes, json_response
from aido.api.responses import errors
from aido.core.metrics import count_refusal
from aido.core.security import create_access_token, hash_password, verify_password
from aido.crud import login_throttle, users
from aido.models.user import Token, UserCreate, UserLogin, UserPublic

router = APIRouter(prefix="/auth", tags=["auth"])

BAD_CREDENTIALS = HTTPException(
    status.HTTP_401_UNAUTHORIZED,
    "Incorrect email or password",
    headers={"WWW-Authenticate": "Bearer"},
)
_FORM = "application/x-www-form-urlencoded"
_LOGIN_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["email", "password"],
                "properties": {
                    "email": {"type": "string", "format": "email"},
                    "password": {"type": "string", "minLength": 1, "maxLength": 128},
                },
                "additionalProperties": False,
            },
            "example": {"email": "ada@example.com", "password": "correct horse battery staple"},
        },
        _FORM: {
            "schema": {
                "type": "object",
                "required": ["username", "password"],
                "properties": {
                    "username": {"type": "string", "description": "The account's email"},
                    "password": {"type": "string"},
                    "grant_type": {"type": "string", "enum": ["password"]},
                },
            }
        },
    },
}


@router.post(
    "/signup",
    status_code=201,
    response_model=UserPublic,
    summary="Create an account",
    responses=errors(409, 413, 422, 503),
)
async def signup(user_in: UserCreate, db: SessionDep) -> JSONBytes:
    hashed = await run_in_threadpool(hash_password, user_in.password)
    row = await users.create_user(db, email=str(user_in.email), hashed_password=hashed)
    return json_response(row, 201)


async def _read_credentials(request: Request) -> UserLogin:
    """OAuth2 password form (Swagger's Authorize button) or JSON, by Content-Type."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    data: Any
    try:
        if content_type == _FORM:
            form = await request.form()
            data = {"email": form.get("username"), "password": form.get("password")}
            loc: tuple[str, ...] = ("body",)
        else:
            data = orjson.loads(await request.body())
            loc = ("body",)
        return UserLogin.model_validate(data)
    except orjson.JSONDecodeError:
        raise RequestValidationError(
            [{"loc": ("body",), "msg": "Body must be JSON or an OAuth2 password form",
              "type": "json_invalid"}]
        ) from None  # fmt: skip
    except ValidationError as exc:
        raise RequestValidationError(
            [{"loc": (*loc, *e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        ) from None


@router.post(
    "/login",
    response_model=Token,
    summary="Log in: JSON {email, password} or the OAuth2 password form",
    openapi_extra={"requestBody": _LOGIN_BODY},
    responses=errors(401, 413, 422, 429, 503),
)
async def login(request: Request, db: SessionDep, settings: SettingsDep) -> JSONBytes:
    creds = await _read_credentials(request)
    email = str(creds.email)
    client = request.client.host if request.client else None
    keys = login_throttle.keys_for(email=email, client=client)
    limits = {
        "email": settings.LOGIN_MAX_FAILURES,
        "client": settings.LOGIN_MAX_FAILURES_PER_CLIENT,
    }
    window = settings.LOGIN_WINDOW_SECONDS
    wait = await login_throttle.seconds_until_allowed(db, keys=keys, limits=limits, window=window)
    if wait:
        count_refusal("login_throttled")
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "Too many failed log-ins; try again later",
            headers={"Retry-After": str(wait)},
        )
    row = await users.get_credentials(db, email=email)
    hashed = row["hashed_password"] if row else None
    # An unknown email still costs one Argon2 verification: both failures look alike.
    if not await run_in_threadpool(verify_password, creds.password, hashed) or row is None:
        await login_throttle.record_failure(db, keys=keys, window=window)
        raise BAD_CREDENTIALS
    await login_throttle.clear(db, key=keys["email"])
    issued = create_access_token(
        row["id"], secret=settings.JWT_SECRET, expire_minutes=settings.JWT_EXPIRE_MINUTES
    )
    return json_response(
        {"access_token": issued.token, "token_type": "bearer", "expires_in": issued.expires_in}
    )
