"""Password hashing (Argon2) and access tokens (JWT HS256)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

ALGORITHM = "HS256"
_hasher = PasswordHash((Argon2Hasher(),))
# Verified against when the email is unknown, so both failure paths cost one Argon2 check.
_DUMMY_HASH = _hasher.hash("aido-dummy-password-for-timing")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, hashed: str | None) -> bool:
    if hashed is None:
        _hasher.verify(password, _DUMMY_HASH)
        return False
    return _hasher.verify(password, hashed)


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_in: int


def create_access_token(user_id: uuid.UUID, *, secret: str, expire_minutes: int) -> IssuedToken:
    now = int(time.time())
    expires_in = expire_minutes * 60
    claims = {"sub": str(user_id), "iat": now, "exp": now + expires_in}
    return IssuedToken(jwt.encode(claims, secret, algorithm=ALGORITHM), expires_in)


class InvalidToken(Exception):
    pass


# Verified tokens -> (user id, expiry). A client sends the same token on every request, and
# checking its signature and claims was ~8 % of a request's CPU. Only tokens that passed full
# verification with this secret enter; the expiry is checked again on every hit.
_VERIFIED_MAX = 10_000
_verified: dict[tuple[str, str], tuple[uuid.UUID, int]] = {}


def decode_access_token(token: str, *, secret: str) -> uuid.UUID:
    """The user id in a valid token. Only HS256 is accepted, so `alg: none` and tokens
    signed with another algorithm fail here."""
    cached = _verified.get((secret, token))
    if cached is not None:
        user_id, expires = cached
        if time.time() < expires:
            return user_id
        del _verified[(secret, token)]
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "iat", "exp"]}
        )
        user_id = uuid.UUID(str(claims["sub"]))
        expires = int(claims["exp"])
    except (jwt.InvalidTokenError, ValueError, TypeError) as exc:
        raise InvalidToken(type(exc).__name__) from None
    if len(_verified) >= _VERIFIED_MAX:
        _verified.pop(next(iter(_verified)))  # the oldest entry
    _verified[(secret, token)] = (user_id, expires)
    return user_id
