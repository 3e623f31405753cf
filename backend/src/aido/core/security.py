"""Password hashing (Argon2) and tokens (JWT HS256): access tokens and device tokens."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from aido.core.errors import InvalidToken

ALGORITHM = "HS256"
_hasher = PasswordHash((Argon2Hasher(),))
# Verified against when the email is unknown, so both failure paths cost one Argon2 check.
_DUMMY_HASH = _hasher.hash("aido-dummy-password-for-timing")
# Clocks of replicas differ a little: an `iat` this far in the future, or this much older
# than the token lifetime, is still accepted.
CLOCK_SKEW_SECONDS = 60


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


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    # The user's token generation when the token was issued (0 for tokens from before
    # generations existed): below the user's current one, the token is revoked.
    generation: int
    expires: int


def create_access_token(
    user_id: uuid.UUID, *, secret: str, expire_minutes: int, generation: int = 0
) -> IssuedToken:
    now = int(time.time())
    expires_in = expire_minutes * 60
    claims = {"sub": str(user_id), "iat": now, "exp": now + expires_in, "gen": generation}
    return IssuedToken(jwt.encode(claims, secret, algorithm=ALGORITHM), expires_in)


def _generation(value: object) -> int:
    if value is None:
        return 0
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError("gen")
    return value


class TokenSigner:
    """Issues and checks the tokens of one signing secret.

    Access tokens: `sub` (user id), `iat`, `exp`, `gen` (token generation). Device tokens, given
    at log-in so that a device's later log-ins are throttled on their own (api/routes/auth.py),
    are signed with a key derived from the secret: one can never pass for the other.
    """

    # Verified access tokens -> claims. A client sends the same token on every request, and
    # checking its signature and claims was ~8 % of a request's CPU. Only tokens that passed
    # full verification enter; expiry is checked again on every hit, revocation by the caller
    # (core/revocation.py) on every request.
    VERIFIED_MAX = 10_000

    def __init__(self, secret: str, *, expire_minutes: int, device_days: int) -> None:
        self._secret = secret
        self._device_key = hmac.new(secret.encode(), b"aido device token", hashlib.sha256).digest()
        self.expire_minutes = expire_minutes
        self._max_age = expire_minutes * 60 + CLOCK_SKEW_SECONDS
        self.device_seconds = device_days * 86400
        self._verified: dict[str, AccessClaims] = {}

    def access_token(self, user_id: uuid.UUID, *, generation: int) -> IssuedToken:
        return create_access_token(
            user_id, secret=self._secret, expire_minutes=self.expire_minutes,
            generation=generation,
        )  # fmt: skip

    def verify_access(self, token: str) -> AccessClaims:
        """The claims of a valid access token. Only HS256 is accepted, so `alg: none` and
        tokens signed with another algorithm fail here; so does a token older than the
        configured lifetime, whatever its `exp` says."""
        cached = self._verified.get(token)
        if cached is not None:
            if time.time() < cached.expires:
                return cached
            del self._verified[token]
        try:
            # `iat` is checked here, with room for the skew of replicas' clocks (PyJWT's
            # leeway would stretch `exp` as well).
            claims = jwt.decode(
                token, self._secret, algorithms=[ALGORITHM],
                options={"require": ["sub", "iat", "exp"], "verify_iat": False},
            )  # fmt: skip
            issued = claims["iat"]
            if not isinstance(issued, int) or isinstance(issued, bool):
                raise ValueError("iat")
            age = time.time() - issued
            if age > self._max_age or age < -CLOCK_SKEW_SECONDS:
                raise ValueError("iat")
            verified = AccessClaims(
                uuid.UUID(str(claims["sub"])),
                _generation(claims.get("gen")),
                min(int(claims["exp"]), issued + self._max_age),
            )
        except (jwt.InvalidTokenError, ValueError, TypeError) as exc:
            raise InvalidToken(type(exc).__name__) from None
        if len(self._verified) >= self.VERIFIED_MAX:
            self._verified.pop(next(iter(self._verified)))  # the oldest entry
        self._verified[token] = verified
        return verified

    def device_token(self, user_id: uuid.UUID, *, generation: int, device_id: str) -> str:
        now = int(time.time())
        claims = {"typ": "device", "sub": str(user_id), "did": device_id, "gen": generation,
                  "iat": now, "exp": now + self.device_seconds}  # fmt: skip
        return jwt.encode(claims, self._device_key, algorithm=ALGORITHM)

    def device_id(self, token: str | None, *, user_id: uuid.UUID, generation: int) -> str | None:
        """The device id of a valid device token of this user in this generation, else None."""
        if not token:
            return None
        try:
            claims = jwt.decode(token, self._device_key, algorithms=[ALGORITHM],
                                options={"require": ["sub", "did", "exp"]})  # fmt: skip
        except jwt.InvalidTokenError:
            return None
        if (
            claims.get("typ") != "device"
            or claims.get("sub") != str(user_id)
            or claims.get("gen") != generation
            or not isinstance(claims.get("did"), str)
        ):
            return None
        return str(claims["did"])
