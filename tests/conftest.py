"""Shared fixtures: the real migrations run once per session; every test runs in a rolled-back transaction.

Set GOLDTRACE_TEST_DATABASE_URL to run the database tests on PostgreSQL; otherwise they use SQLite.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from builders import TEST_SECRET
from goldtrace.config import Settings, sqlite_url
from goldtrace.db import migrate
from goldtrace.db.session import make_engine
from goldtrace.domain.organizations import OrgProfile
from goldtrace.services.context import Context
from goldtrace.services.organizations import bootstrap, register_org


def postgres_url() -> str | None:
    """The PostgreSQL database to test against, if any."""
    return os.environ.get("GOLDTRACE_TEST_DATABASE_URL") or None


def reset_postgres(url: str) -> None:
    """Empty the public schema of a PostgreSQL test database."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = postgres_url()
    if url is None:
        url = sqlite_url(Path(tmp_path_factory.mktemp("db")) / "test.db")
    else:
        reset_postgres(url)
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key=TEST_SECRET,
        log_origin="goldtrace.test/log",
        testing=True,
    )


@pytest.fixture
def ctx(settings: Settings) -> Context:
    return Context(settings)


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    conn = engine.connect()
    trans = conn.begin()
    yield conn
    trans.rollback()
    conn.close()


@pytest.fixture
def session(connection: Connection) -> Iterator[Session]:
    with Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    ) as s:
        yield s


@pytest.fixture
def ledger(session: Session, ctx: Context) -> Session:
    """A session on a ledger with its log key and genesis event (the standard body ``arm``)."""
    bootstrap(session, ctx)
    return session


def is_postgres_url(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


@pytest.fixture
def fresh_database_url(tmp_path: Path) -> Iterator[str]:
    """An empty database of the kind under test, dropped afterwards (for migrations, processes, CLI)."""
    base = postgres_url()
    if base is None:
        yield sqlite_url(tmp_path / "fresh.db")
        return
    url = make_url(base)
    name = f"{url.database}_{os.getpid()}_{tmp_path.name}"[:60].lower().replace("-", "_")
    admin = make_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def trader_ledger_engine(fresh_database_url: str, ctx: Context) -> Iterator[Engine]:
    """An engine on a fresh database whose ledger (committed, not rolled back) holds the genesis
    and the registration of the organization ``trader``; for tests of commits and concurrency."""
    migrate.upgrade(fresh_database_url)
    engine = make_engine(fresh_database_url)
    with Session(engine) as session, session.begin():
        body = bootstrap(session, ctx)
        profile = OrgProfile(id="trader", name="T", kind="trader")
        register_org(session, ctx, actor=body.id, profile=profile)
    try:
        yield engine
    finally:
        engine.dispose()
