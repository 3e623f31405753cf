"""Token verification, including the cache of verified tokens."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest

from aido.core.security import InvalidToken, create_access_token, decode_access_token

SECRET = "s" * 48


def test_a_cached_token_still_expires() -> None:
    user_id = uuid.uuid4()
    now = int(time.time())
    token = jwt.encode({"sub": str(user_id), "iat": now - 10, "exp": now + 1}, SECRET)
    assert decode_access_token(token, secret=SECRET) == user_id  # verified, then cached
    assert decode_access_token(token, secret=SECRET) == user_id  # from the cache
    time.sleep(1.2)
    with pytest.raises(InvalidToken):
        decode_access_token(token, secret=SECRET)


def test_a_cached_token_is_not_valid_under_another_secret() -> None:
    issued = create_access_token(uuid.uuid4(), secret=SECRET, expire_minutes=5)
    decode_access_token(issued.token, secret=SECRET)
    with pytest.raises(InvalidToken):
        decode_access_token(issued.token, secret="t" * 48)


def test_a_tampered_token_is_never_cached() -> None:
    issued = create_access_token(uuid.uuid4(), secret=SECRET, expire_minutes=5)
    header, payload, signature = issued.token.split(".")
    tampered = f"{header}.{payload}.{signature[:-2]}AA"
    for _ in range(2):
        with pytest.raises(InvalidToken):
            decode_access_token(tampered, secret=SECRET)
