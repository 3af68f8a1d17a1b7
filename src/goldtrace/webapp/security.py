"""Sessions for people: login (Flask-Login), CSRF on every form (Flask-WTF), cookie flags and headers."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import Flask, Response, abort
from flask_login import LoginManager, UserMixin, current_user
from flask_wtf.csrf import CSRFProtect

from goldtrace.config import Settings
from goldtrace.db.models import User
from goldtrace.domain.actors import Actor
from goldtrace.services.accounts import actor_for
from goldtrace.webapp.request_state import db

csrf = CSRFProtect()
P = ParamSpec("P")
R = TypeVar("R")

# Everything is served from this origin: no CDN, no inline script, no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


class SessionUser(UserMixin):  # type: ignore[misc]
    """The logged-in person as Flask-Login holds them."""

    def __init__(self, actor: Actor) -> None:
        self.actor = actor

    def get_id(self) -> str:
        return str(self.actor.user_id)


def _load_user(user_id: str) -> SessionUser | None:
    if not user_id.isdigit():
        return None
    session = db()
    user = session.get(User, int(user_id))
    if user is None or not user.active:
        return None
    return SessionUser(actor_for(session, user))


def ui_actor() -> Actor:
    """The logged-in person's Actor; 401 (the login page) when nobody is logged in."""
    if not current_user.is_authenticated:
        abort(401)
    actor: Actor = current_user.actor
    return actor


def install(app: Flask, settings: Settings) -> None:
    """Configure login, CSRF and secure defaults on ``app``."""
    https = settings.base_url.startswith("https://")
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # The demo runs on http://127.0.0.1; behind TLS the cookies are marked Secure.
        SESSION_COOKIE_SECURE=https,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=https,
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=https,
    )
    manager = LoginManager()
    manager.login_view = "ui.login"
    manager.session_protection = "strong"
    manager.user_loader(_load_user)
    manager.init_app(app)
    csrf.init_app(app)

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response


def login_required(view: Callable[P, R]) -> Callable[P, R]:
    """Refuse (401, shown as the login page) unless someone is logged in."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if not current_user.is_authenticated:
            abort(401)
        return view(*args, **kwargs)

    return wrapper
