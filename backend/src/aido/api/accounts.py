"""The per-process state of accounts: the token signer, the bounded Argon2 pool and the list
of revoked token generations, made at start-up (main.lifespan) and kept on `app.state`."""

from __future__ import annotations

import functools
import logging
import secrets
import uuid
from dataclasses import dataclass

from starlette.requests import Request

from aido.api.json import JSONBytes, json_response
from aido.core.config import Settings
from aido.core.password_hashing import PasswordHashing, default_slots
from aido.core.revocation import RevocationList
from aido.core.security import CLOCK_SKEW_SECONDS, TokenSigner
from aido.db.database import Database
from aido.queries import signing_secret, users

log = logging.getLogger("aido.security")


@dataclass
class Accounts:
    tokens: TokenSigner
    hashing: PasswordHashing
    revocations: RevocationList

    def close(self) -> None:
        self.hashing.close()


async def start_accounts(db: Database, settings: Settings) -> Accounts:
    secret = settings.JWT_SECRET
    if secret is None:
        secret, created = await signing_secret.load_or_create(db)
        log.info(
            "JWT_SECRET is not set: signing tokens with the secret stored in the database "
            "(%s; shared by every worker and replica on it)",
            "generated now" if created else "generated earlier",
        )
    tokens = TokenSigner(
        secret,
        expire_minutes=settings.JWT_EXPIRE_MINUTES,
        device_days=settings.LOGIN_DEVICE_TOKEN_DAYS,
    )
    slots = settings.PASSWORD_HASH_CONCURRENCY or default_slots(settings.WEB_CONCURRENCY)
    hashing = PasswordHashing(
        slots=slots, max_wait=settings.PASSWORD_HASH_MAX_WAIT_SECONDS,
        nice=settings.PASSWORD_HASH_NICE,
    )  # fmt: skip
    lifetime = settings.JWT_EXPIRE_MINUTES * 60 + 2 * CLOCK_SKEW_SECONDS
    revocations = RevocationList(
        functools.partial(users.revocations_since, db, lifetime_seconds=lifetime),
        max_age=settings.TOKEN_REVOCATION_SECONDS,
        retain=lifetime,
    )
    await revocations.refresh()
    log.info("password hashing: %d at a time in this process", slots)
    return Accounts(tokens, hashing, revocations)


def accounts_of(request: Request) -> Accounts:
    accounts: Accounts = request.app.state.accounts
    return accounts


# Responses that carry a token must not be kept by a browser or proxy cache (ASVS 8.2.1).
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
DEVICE_COOKIE = "aido_device"


def token_response(
    request: Request, accounts: Accounts, *, user_id: uuid.UUID, generation: int,
    device_id: str | None,
) -> JSONBytes:  # fmt: skip
    """An access token and a device token (also as the `aido_device` cookie), not cacheable.
    `device_id`: the device's id when it proved one, else a new one."""
    tokens = accounts.tokens
    issued = tokens.access_token(user_id, generation=generation)
    device_token = tokens.device_token(
        user_id, generation=generation, device_id=device_id or secrets.token_urlsafe(16)
    )
    body = {"access_token": issued.token, "token_type": "bearer",
            "expires_in": issued.expires_in, "device_token": device_token}  # fmt: skip
    response = json_response(body, headers=NO_STORE)
    response.set_cookie(
        DEVICE_COOKIE,
        device_token,
        max_age=tokens.device_seconds,
        path="/auth",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response
