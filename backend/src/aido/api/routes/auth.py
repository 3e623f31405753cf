"""Sign-up, log-in and log-out everywhere.

Log-in limits (README "Log-in limits"): an attempt is counted before its password is checked,
on keys chosen by who is asking. A device that proves an earlier log-in to the account (its
device token) is counted alone, so an attack on the email from elsewhere never locks it out.
Any other client is counted per (email, client address), per client address, and per email
over all such clients, where failures beyond LOGIN_MAX_FAILURES are spaced out progressively.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from aido.api.accounts import DEVICE_COOKIE, NO_STORE, accounts_of, token_response
from aido.api.deps import CurrentUserId, DatabaseDep, SettingsDep
from aido.api.json import JSONBytes, json_response
from aido.api.responses import errors
from aido.core.config import Settings
from aido.core.errors import HashingBusy, IncorrectCredentials
from aido.models.user import Token, UserCreate, UserLogin, UserPublic
from aido.queries import throttle, users
from aido.queries.throttle import Rule

router = APIRouter(prefix="/auth", tags=["auth"])

_FORM = "application/x-www-form-urlencoded"
_LOGIN_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["email", "password"],
                "properties": {
                    "email": {"type": "string", "format": "email", "maxLength": 320},
                    "password": {"type": "string", "minLength": 1, "maxLength": 128},
                    "device_token": {"type": "string", "maxLength": 1024},
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
                    "device_token": {"type": "string"},
                },
            }
        },
    },
}


def client_address(request: Request) -> str:
    """The client's address, as uvicorn sets it: X-Forwarded-For counts only when the peer is
    one of FORWARDED_ALLOW_IPS. An IPv6 client counts as its /64, which one host gets whole."""
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


@router.post(
    "/signup",
    status_code=201,
    response_model=UserPublic,
    summary="Create an account",
    description="Limited per client address (SIGNUP_MAX_PER_CLIENT per SIGNUP_WINDOW_SECONDS).",
    responses=errors(409, 413, 422, 429, 503),
)
async def signup(
    user_in: UserCreate, request: Request, db: DatabaseDep, settings: SettingsDep
) -> JSONBytes:
    rule = Rule(settings.SIGNUP_MAX_PER_CLIENT, settings.SIGNUP_WINDOW_SECONDS)
    signup_key = throttle.key("signup-client", client_address(request))
    # Counted before the hash, so a flood from one address costs no Argon2 beyond its limit.
    await throttle.admit(db, rules={signup_key: rule}, what="sign-ups from this address")
    hashed = await accounts_of(request).hashing.hash(user_in.password)
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
            if form.get("device_token"):
                data["device_token"] = form.get("device_token")
        else:
            data = orjson.loads(await request.body())
        return UserLogin.model_validate(data)
    except orjson.JSONDecodeError:
        raise RequestValidationError(
            [{"loc": ("body",), "msg": "Body must be JSON or an OAuth2 password form",
              "type": "json_invalid"}]
        ) from None  # fmt: skip
    except ValidationError as exc:
        raise RequestValidationError(
            [{"loc": ("body", *e["loc"]), "msg": e["msg"], "type": e["type"]}
             for e in exc.errors()]
        ) from None  # fmt: skip


def login_rules(
    settings: Settings, *, email: str, client: str, device_id: str | None
) -> tuple[dict[str, Rule], list[str]]:
    """The keys a log-in attempt is counted on, and those of them a success only refunds
    (the others it resets)."""
    per_window = Rule(settings.LOGIN_MAX_FAILURES, settings.LOGIN_WINDOW_SECONDS)
    if device_id is not None:
        return {throttle.key("login-device", device_id): per_window}, []
    client_key = throttle.key("login-client", client)
    return {
        throttle.key("login-email-client", email, client): per_window,
        client_key: Rule(settings.LOGIN_MAX_FAILURES_PER_CLIENT, settings.LOGIN_WINDOW_SECONDS),
        throttle.key("login-email", email): Rule(
            settings.LOGIN_MAX_FAILURES_PER_EMAIL,
            settings.LOGIN_EMAIL_WINDOW_SECONDS,
            delay_after=settings.LOGIN_MAX_FAILURES,
        ),
    }, [client_key]


@router.post(
    "/login",
    response_model=Token,
    summary="Log in: JSON {email, password} or the OAuth2 password form",
    openapi_extra={"requestBody": _LOGIN_BODY},
    responses=errors(401, 413, 422, 429, 503),
)
async def login(request: Request, db: DatabaseDep, settings: SettingsDep) -> JSONBytes:
    creds = await _read_credentials(request)
    accounts = accounts_of(request)
    email = str(creds.email)
    row = await users.get_credentials(db, email=email)
    device_id = None
    if row is not None:
        device_id = accounts.tokens.device_id(
            creds.device_token or request.cookies.get(DEVICE_COOKIE),
            user_id=row["id"],
            generation=row["token_generation"],
        )
    rules, refunded = login_rules(
        settings, email=email, client=client_address(request), device_id=device_id
    )
    await throttle.admit(db, rules=rules, what="failed log-ins")
    hashed = row["hashed_password"] if row else None
    try:
        # An unknown email still costs one Argon2 verification: both failures look alike.
        valid = await accounts.hashing.verify(creds.password, hashed)
    except HashingBusy:
        await throttle.forgive(db, reset=[], refund=list(rules))  # not checked: not counted
        raise
    if not valid or row is None:
        raise IncorrectCredentials
    await throttle.forgive(db, reset=[k for k in rules if k not in refunded], refund=refunded)
    return token_response(
        request, accounts, user_id=row["id"], generation=row["token_generation"],
        device_id=device_id,
    )  # fmt: skip


@router.post(
    "/logout-all",
    status_code=204,
    summary="Log out everywhere: revoke every token of the caller, this one included",
    description="Every access token and device token issued before this call is refused "
    "from then on (by other workers and replicas within TOKEN_REVOCATION_SECONDS).",
    responses=errors(401, 503),
)
async def logout_all(request: Request, user_id: CurrentUserId, db: DatabaseDep) -> Response:
    generation = await users.revoke_tokens(db, user_id=user_id)
    accounts_of(request).revocations.note(user_id, generation)
    return Response(status_code=204, headers=NO_STORE)
