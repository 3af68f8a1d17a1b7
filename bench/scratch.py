"""Scratch databases: SQLite files in a temporary directory and PostgreSQL databases made for one run.

Every database is migrated with the project's own Alembic migrations, so the raw baselines write into
exactly the tables and indexes the application writes into. Everything created is dropped on ``close``.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from goldtrace.config import sqlite_url
from goldtrace.db import migrate

SQLITE = "sqlite"
POSTGRES = "postgresql"
DEFAULT_PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

# The same pragmas goldtrace.db.session sets on every connection, so raw baselines are comparable.
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=60000",
)


@dataclass(frozen=True)
class Database:
    """One migrated scratch database (picklable, so worker processes can be handed one)."""

    kind: str
    url: str  # SQLAlchemy URL, as goldtrace.db.session.make_engine takes it

    @property
    def conninfo(self) -> str:
        """The libpq URI of a PostgreSQL database (raw psycopg connections)."""
        return make_url(self.url).set(drivername="postgresql").render_as_string(hide_password=False)

    @property
    def path(self) -> str:
        """The file of an SQLite database."""
        database = make_url(self.url).database
        assert database is not None
        return database

    def raw_connect(self) -> Any:
        """Return a plain DB-API connection, configured as the application configures its own.

        SQLite connections are in autocommit mode: callers issue BEGIN IMMEDIATE and COMMIT themselves,
        as goldtrace.db.session makes SQLAlchemy do.
        """
        if self.kind == SQLITE:
            conn = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            for pragma in SQLITE_PRAGMAS:
                conn.execute(pragma)
            return conn
        return psycopg.connect(self.conninfo)

    @property
    def placeholder(self) -> str:
        """The DB-API parameter marker of the driver."""
        return "?" if self.kind == SQLITE else "%s"


class Scratch:
    """Makes scratch databases of either kind and removes them all on ``close``."""

    def __init__(self, pg_admin_url: str | None) -> None:
        self.tmpdir = Path(tempfile.mkdtemp(prefix="goldtrace-bench-"))
        self.pg_admin_url = pg_admin_url
        self.pg_problem: str | None = None
        self._pg_databases: list[str] = []
        self._count = 0
        if pg_admin_url is not None:
            self.pg_problem = _probe(pg_admin_url)

    @property
    def has_postgres(self) -> bool:
        """True when PostgreSQL was asked for and answers."""
        return self.pg_admin_url is not None and self.pg_problem is None

    def new(self, kind: str, purpose: str, *, migrate_schema: bool = True) -> Database:
        """Create, migrate and return a new empty database named after ``purpose``."""
        self._count += 1
        name = f"goldtrace_bench_{os.getpid()}_{self._count}_{purpose}"
        if kind == SQLITE:
            url = sqlite_url(self.tmpdir / f"{name}.db")
        else:
            assert self.pg_admin_url is not None
            admin = create_engine(_psycopg(self.pg_admin_url), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            admin.dispose()
            self._pg_databases.append(name)
            url = make_url(self.pg_admin_url).set(database=name).render_as_string(False)
        db = Database(kind=kind, url=url)
        if migrate_schema:
            migrate.upgrade(db.url)
        return db

    def drop(self, db: Database) -> None:
        """Remove one database made here (frees disk and cache for the next measurement)."""
        if db.kind == SQLITE:
            for suffix in ("", "-wal", "-shm"):
                Path(db.path + suffix).unlink(missing_ok=True)
            return
        name = make_url(db.url).database
        assert self.pg_admin_url is not None and name in self._pg_databases
        admin = create_engine(_psycopg(self.pg_admin_url), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        self._pg_databases.remove(name)

    def server_version(self, kind: str) -> str:
        """Return the version of the database engine."""
        if kind == SQLITE:
            return sqlite3.sqlite_version
        assert self.pg_admin_url is not None
        with psycopg.connect(_conninfo(self.pg_admin_url)) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            settings = conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN "
                "('fsync', 'synchronous_commit', 'shared_buffers', 'commit_delay')"
                " ORDER BY name"
            ).fetchall()
        assert row is not None
        extra = ", ".join(f"{name}={value}" for name, value in settings)
        return f"{row[0]} ({extra})"

    def close(self) -> None:
        """Drop every PostgreSQL database made here and delete the SQLite files."""
        if self._pg_databases and self.pg_admin_url is not None:
            admin = create_engine(_psycopg(self.pg_admin_url), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                for name in self._pg_databases:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
            self._pg_databases.clear()
        shutil.rmtree(self.tmpdir, ignore_errors=True)


def _psycopg(url: str) -> str:
    return make_url(url).set(drivername="postgresql+psycopg").render_as_string(False)


def _conninfo(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(False)


def _probe(url: str) -> str | None:
    """Return why PostgreSQL cannot be used, or None when it answers."""
    try:
        with psycopg.connect(_conninfo(url), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return None
