"""Bearer tokens on API requests: ``current_actor`` and the 401 it raises."""

from __future__ import annotations

import pytest
from flask import Flask, g, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from builders import register_mines
from goldtrace.errors import Unauthenticated
from goldtrace.services import accounts
from goldtrace.services.context import Context
from goldtrace.webapp.auth import current_actor
from goldtrace.webapp.request_state import db


@pytest.fixture
def token(ledger: Session, ctx: Context) -> str:
    mine = register_mines(ledger, ctx, 1)[0]
    accounts.add_user(
        ledger, email="ana@example.org", org_id=mine, role="admin", password="a long password"
    )
    return accounts.create_token(ledger, email="ana@example.org")[1]


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": value}


def test_a_valid_token_gives_the_actor_once_per_request(app: Flask, token: str) -> None:
    with app.test_request_context(headers=bearer(f"Bearer {token}")):
        actor = current_actor()
        assert (actor.email, actor.org_kind, actor.role) == ("ana@example.org", "mine", "admin")
        assert g.actor is actor and current_actor() is actor
    with app.test_request_context(headers=bearer(f"bearer  {token} ")):
        assert current_actor() == actor


def test_the_lookup_joins_a_transaction_the_view_already_opened(app: Flask, token: str) -> None:
    with app.test_request_context(headers=bearer(f"Bearer {token}")):
        session = db()
        with session.begin():
            assert current_actor().email == "ana@example.org"
        with session.begin():
            pass


@pytest.mark.parametrize(
    "headers",
    [
        {},
        bearer(""),
        bearer("Bearer"),
        bearer("Bearer "),
        bearer("Basic YWxhZGRpbjpvcGVuc2VzYW1l"),
        bearer("Bearer gt_a gt_b"),
        bearer("Bearer gt_unknown"),
        bearer("Bearer not-even-prefixed"),
    ],
)
def test_missing_malformed_or_unknown_tokens_are_refused(
    app: Flask, token: str, headers: dict[str, str]
) -> None:
    with app.test_request_context(headers=headers), pytest.raises(Unauthenticated):
        current_actor()


def test_a_revoked_token_is_refused(app: Flask, ledger: Session, token: str) -> None:
    row, revoked = accounts.create_token(ledger, email="ana@example.org")
    accounts.revoke_token(ledger, token_id=row.id, by_user=None)
    with app.test_request_context(headers=bearer(f"Bearer {revoked}")):
        with pytest.raises(Unauthenticated):
            current_actor()
        assert "actor" not in g


def test_refusal_is_a_json_401_with_a_bearer_challenge(app: Flask, token: str) -> None:
    # No API view needs a token yet, so the test mounts one.
    def whoami() -> ResponseReturnValue:
        return jsonify({"email": current_actor().email})

    app.add_url_rule("/api/_test/whoami", view_func=whoami)
    client = app.test_client()
    ok = client.get("/api/_test/whoami", headers=bearer(f"Bearer {token}"))
    assert ok.status_code == 200 and ok.json == {"email": "ana@example.org"}
    assert "WWW-Authenticate" not in ok.headers
    for headers, error in (
        ({}, None),
        (bearer("Token abc"), "invalid_request"),
        (bearer("Bearer gt_nope"), "invalid_token"),
    ):
        refused = client.get("/api/_test/whoami", headers=headers)
        assert refused.status_code == 401
        assert refused.json is not None and refused.json["error"]["code"] in {
            "unauthenticated",
            "invalid_token",
        }
        challenge = refused.headers["WWW-Authenticate"]
        assert challenge.startswith("Bearer ")
        assert (f'error="{error}"' in challenge) if error else ("error=" not in challenge)
