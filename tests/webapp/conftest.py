"""An app whose requests share the test's rolled-back connection."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection
from sqlalchemy.orm import sessionmaker

from goldtrace.config import Settings
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
