"""Who is calling the API: the bearer token of ``Authorization: Bearer <token>`` (RFC 6750)."""

from __future__ import annotations

from flask import Response, after_this_request, g, request

from goldtrace.domain.actors import Actor
from goldtrace.errors import Unauthenticated
from goldtrace.services import accounts
from goldtrace.webapp.request_state import db


def current_actor() -> Actor:
    """Return the actor of this request's bearer token, looked up once per request.

    Raises Unauthenticated (401, with a ``WWW-Authenticate: Bearer`` challenge) when the header is
    missing or malformed, or the token is unknown, revoked or belongs to an inactive user.
    """
    if "actor" in g:
        actor: Actor = g.actor
        return actor
    token = _bearer_token()
    session = db()
    try:
        # The lookup runs in a short transaction of its own so that the view can still open its
        # transaction afterwards; called inside the view's transaction, it simply joins it.
        if session.in_transaction():
            actor = _lookup(token)
        else:
            with session.begin():
                actor = _lookup(token)
    except Unauthenticated:
        _challenge('Bearer realm="goldtrace", error="invalid_token"')
        raise
    g.actor = actor
    return actor


def _bearer_token() -> str:
    header = request.headers.get("Authorization")
    if header is None:
        _challenge('Bearer realm="goldtrace"')
        raise Unauthenticated("this request needs an Authorization: Bearer token")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        _challenge('Bearer realm="goldtrace", error="invalid_request"')
        raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
    return token


def _lookup(token: str) -> Actor:
    session = db()
    return accounts.actor_for(session, accounts.user_for_token(session, token))


def _challenge(value: str) -> None:
    # The error handler builds the 401 body; the challenge header is added to that response here,
    # so that webapp/errors.py keeps one error shape for every status.
    @after_this_request
    def _add_header(response: Response) -> Response:
        if response.status_code == 401:
            response.headers["WWW-Authenticate"] = value
        return response
