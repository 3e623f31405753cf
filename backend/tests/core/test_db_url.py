"""Every DATABASE_URL spelling users are handed becomes the psycopg 3 form."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from aido.core.db_url import (
    DatabaseUrlError,
    direct_url,
    is_pooled,
    normalize_database_url,
    redact_url,
)

SECRET = "s3cr3t-P%40ss"  # percent-encoded '@' inside the password
NEON_POOLED = (
    f"postgresql://neondb_owner:{SECRET}@ep-cool-darkness-123456-pooler.c-2.us-east-2.aws.neon.tech"
    "/neondb?sslmode=require&channel_binding=require"
)


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


@pytest.mark.parametrize(
    "scheme", ["postgres", "postgresql", "postgresql+psycopg", "POSTGRESQL", "postgresql+psycopg2"]
)
def test_every_accepted_scheme_becomes_psycopg3(scheme: str) -> None:
    result = normalize_database_url(f"{scheme}://app:pw@localhost:5432/app")
    assert result.url == "postgresql+psycopg://app:pw@localhost:5432/app"


def test_psycopg2_is_rewritten_with_a_warning() -> None:
    result = normalize_database_url("postgresql+psycopg2://app:pw@localhost/app")
    assert result.url.startswith("postgresql+psycopg://")
    assert any("psycopg2" in w for w in result.warnings)
    assert normalize_database_url("postgres://app:pw@localhost/app").warnings == ()


def test_neon_pooled_url_keeps_channel_binding_and_password() -> None:
    result = normalize_database_url(NEON_POOLED)
    parts = urlsplit(result.url)
    assert parts.scheme == "postgresql+psycopg"
    assert parts.password == SECRET
    assert parts.hostname == "ep-cool-darkness-123456-pooler.c-2.us-east-2.aws.neon.tech"
    assert query(result.url) == {"sslmode": ["require"], "channel_binding": ["require"]}


def test_remote_host_without_sslmode_gets_require() -> None:
    url = normalize_database_url("postgres://u:p@db.example.com/app?application_name=x").url
    assert query(url) == {"application_name": ["x"], "sslmode": ["require"]}


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]"])
def test_local_host_gets_no_sslmode(host: str) -> None:
    assert "sslmode" not in normalize_database_url(f"postgres://u:p@{host}/app").url


def test_explicit_sslmode_and_other_parameters_are_kept_as_given() -> None:
    raw = "postgres://u:p@db.example.com/app?sslmode=verify-full&options=-c%20search_path%3Dapp"
    url = normalize_database_url(raw).url
    assert query(url) == {"sslmode": ["verify-full"], "options": ["-c search_path=app"]}


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("not a url", "not a URL"),
        ("mysql://u:p@localhost/app", "scheme 'mysql'"),
        ("postgres://u:p@localhost:notaport/app", "malformed host or port"),
        ("postgres://u:p@localhost", "names no database"),
    ],
)
def test_malformed_urls_are_refused_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(DatabaseUrlError, match=reason):
        normalize_database_url(raw)


def test_errors_never_contain_the_password() -> None:
    for raw in (f"mysql://u:{SECRET}@h/db", f"postgres://u:{SECRET}@h:x/db"):
        with pytest.raises(DatabaseUrlError) as info:
            normalize_database_url(raw)
        assert SECRET not in str(info.value)


def test_redaction_hides_only_the_password() -> None:
    redacted = redact_url(normalize_database_url(NEON_POOLED).url)
    assert SECRET not in redacted
    assert redacted.startswith("postgresql+psycopg://neondb_owner:***@ep-cool-darkness")
    assert (
        redact_url("postgresql+psycopg://u@localhost/db") == "postgresql+psycopg://u@localhost/db"
    )


def test_direct_url_removes_the_pooler_suffix_only() -> None:
    pooled = normalize_database_url(NEON_POOLED).url
    direct = direct_url(pooled)
    assert is_pooled(pooled) and not is_pooled(direct)
    parts = urlsplit(direct)
    assert parts.hostname == "ep-cool-darkness-123456.c-2.us-east-2.aws.neon.tech"
    assert parts.password == SECRET
    assert query(direct) == query(pooled)
    local = "postgresql+psycopg://u:p@localhost:5432/db"
    assert direct_url(local) == local
