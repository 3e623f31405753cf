"""Token verification, the cache of verified tokens, and device tokens."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest

from aido.core.security import InvalidToken, TokenSigner

SECRET = "s" * 48


def signer(secret: str = SECRET) -> TokenSigner:
    return TokenSigner(secret, expire_minutes=5, device_days=1)


def test_a_cached_token_still_expires() -> None:
    user_id = uuid.uuid4()
    now = int(time.time())
    token = jwt.encode({"sub": str(user_id), "iat": now - 10, "exp": now + 1}, SECRET)
    tokens = signer()
    assert tokens.verify_access(token).user_id == user_id  # verified, then cached
    assert tokens.verify_access(token).user_id == user_id  # from the cache
    time.sleep(1.2)
    with pytest.raises(InvalidToken):
        tokens.verify_access(token)


def test_a_token_is_not_valid_under_another_secret() -> None:
    issued = signer().access_token(uuid.uuid4(), generation=0)
    signer().verify_access(issued.token)
    with pytest.raises(InvalidToken):
        signer("t" * 48).verify_access(issued.token)


def test_a_tampered_token_is_never_cached() -> None:
    tokens = signer()
    issued = tokens.access_token(uuid.uuid4(), generation=0)
    header, payload, signature = issued.token.split(".")
    tampered = f"{header}.{payload}.{signature[:-2]}AA"
    for _ in range(2):
        with pytest.raises(InvalidToken):
            tokens.verify_access(tampered)


def test_a_token_carries_its_generation_and_one_without_it_is_generation_0() -> None:
    user_id = uuid.uuid4()
    tokens = signer()
    assert tokens.verify_access(tokens.access_token(user_id, generation=3).token).generation == 3
    now = int(time.time())
    legacy = jwt.encode({"sub": str(user_id), "iat": now, "exp": now + 60}, SECRET)
    assert tokens.verify_access(legacy).generation == 0
    for bad in ("3", -1, True, 1.5):
        forged = jwt.encode({"sub": str(user_id), "iat": now, "exp": now + 60, "gen": bad}, SECRET)
        with pytest.raises(InvalidToken):
            tokens.verify_access(forged)


def test_a_device_token_is_not_an_access_token_and_binds_user_and_generation() -> None:
    user_id, other = uuid.uuid4(), uuid.uuid4()
    tokens = signer()
    device = tokens.device_token(user_id, generation=2, device_id="phone")
    assert tokens.device_id(device, user_id=user_id, generation=2) == "phone"
    assert tokens.device_id(device, user_id=other, generation=2) is None
    assert tokens.device_id(device, user_id=user_id, generation=3) is None  # revoked since
    assert signer("t" * 48).device_id(device, user_id=user_id, generation=2) is None
    with pytest.raises(InvalidToken):
        tokens.verify_access(device)  # signed with a derived key
    access = tokens.access_token(user_id, generation=2).token
    assert tokens.device_id(access, user_id=user_id, generation=2) is None
