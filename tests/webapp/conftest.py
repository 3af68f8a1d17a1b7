"""An app whose requests share the test's rolled-back connection."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection
from sqlalchemy.orm import sessionmaker

from goldtrace.config import Settings
from goldtrace.services import accounts
from goldtrace.webapp import create_app


@pytest.fixture
def app(settings: Settings, connection: Connection) -> Flask:
    sessions = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    return create_app(settings, sessions=sessions)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Web tests create and log in many users and are about pages, tokens and roles, not password
    hashing (tests/services/test_accounts.py is): the real argon2id hasher with its cheapest
    parameters, since production parameters cost ~0.2 s a user."""
    monkeypatch.setattr(
        accounts, "_HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )
