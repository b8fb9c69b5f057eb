"""Fixtures shared by every test: stores on each backend."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, settings

from cvid.log.store import LogStore
from tests.support import make_store

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"

# Machines here are shared and noisy: time is not what property tests check.
settings.register_profile(
    "cvid", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("cvid")


def postgres_base_url() -> str:
    """The server the tests use; CI exports CVID_TEST_POSTGRES_URL."""
    return os.environ.get("CVID_TEST_POSTGRES_URL", DEFAULT_POSTGRES)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL whose search_path is a fresh schema, dropped afterwards.

    A server that does not answer fails the test: these tests must run, never skip.
    """
    base = postgres_base_url()
    name = f"cvid_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(base, autocommit=True)
    except psycopg.OperationalError as e:
        pytest.fail(f"PostgreSQL at {base} does not answer ({e}); set CVID_TEST_POSTGRES_URL")
    with admin:
        admin.execute(f'CREATE SCHEMA "{name}"')
        sep = "&" if "?" in base else "?"
        try:
            yield f"{base}{sep}options=-csearch_path%3D{name}"
        finally:
            admin.execute(f'DROP SCHEMA "{name}" CASCADE')


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Where a store lives, once per backend: 'memory', a SQLite path or a PostgreSQL URL."""
    if request.param == "memory":
        yield "memory"
    elif request.param == "sqlite":
        yield str(tmp_path / "log.db")
    else:
        yield request.getfixturevalue("postgres_url")


@pytest.fixture
def store(backend: str) -> Iterator[LogStore]:
    """An empty store, initialised with origin ``example.org/log``, per backend."""
    opened = make_store(backend)
    opened.create("example.org/log")
    yield opened
    opened.close()
