"""The Flask application: ``create_app`` is the one factory (``gunicorn 'goldtrace.webapp:create_app()'``)."""

from __future__ import annotations

from flask import Flask, g
from sqlalchemy.orm import Session, sessionmaker

from goldtrace.config import PROJECT_ROOT, Settings
from goldtrace.db.session import make_engine, make_sessionmaker
from goldtrace.services.context import Context
from goldtrace.webapp import (
    api,
    certificate_check,
    certificates_api,
    errors,
    flags_api,
    i18n,
    openapi,
    pages,
    premiums_api,
    public,
    risk_api,
    security,
    transparency,
    ui,
    verify_page,
    witness_api,
)

MAX_BODY_BYTES = 1024 * 1024


def create_app(
    settings: Settings | None = None, *, sessions: sessionmaker[Session] | None = None
) -> Flask:
    """Return a configured application. Tests pass ``sessions`` bound to their own connection."""
    settings = settings or Settings.from_env()
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "web" / "templates"),
        static_folder=str(PROJECT_ROOT / "web" / "static"),
    )
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        TESTING=settings.testing,
    )
    if sessions is None:
        sessions = make_sessionmaker(make_engine(settings.database_url))
    app.extensions["goldtrace"] = {"ctx": Context(settings), "sessions": sessions}

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()

    errors.register(app)
    i18n.install(app)
    security.install(app, settings)
    # The JSON API authenticates with bearer tokens, never cookies, so CSRF cannot reach it.
    security.csrf.exempt(api.bp)
    security.csrf.exempt(premiums_api.bp)
    security.csrf.exempt(certificates_api.bp)
    security.csrf.exempt(flags_api.bp)
    security.csrf.exempt(witness_api.bp)
    security.csrf.exempt(risk_api.bp)
    app.register_blueprint(transparency.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(premiums_api.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(public.bp)
    app.register_blueprint(certificates_api.bp)
    app.register_blueprint(flags_api.bp)
    app.register_blueprint(witness_api.bp)
    app.register_blueprint(risk_api.bp)
    app.register_blueprint(verify_page.bp)
    app.register_blueprint(certificate_check.bp)
    app.register_blueprint(ui.bp)
    return app
