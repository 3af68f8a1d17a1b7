"""Logging in and out, and changing one's password."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_user, logout_user

from goldtrace.db.models import User
from goldtrace.errors import Unauthenticated
from goldtrace.services import accounts
from goldtrace.webapp.messages import plain
from goldtrace.webapp.request_state import db
from goldtrace.webapp.security import SessionUser, login_required, ui_actor
from goldtrace.webapp.ui import bp
from goldtrace.webapp.ui.forms import LoginForm, PasswordForm


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("ui.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    """The login page; five failures in 15 minutes lock the account out for a while."""
    form = LoginForm(next=request.args.get("next"))
    if not form.validate_on_submit():
        return render_template("login.html", form=form)
    session = db()
    address = request.remote_addr or "unknown"
    email = form.email.data or ""
    if accounts.login_blocked(session, email=email, address=address):
        flash(_("Too many failed attempts. Wait 15 minutes and try again."), "error")
        return render_template("login.html", form=form), 429
    try:
        user = accounts.authenticate(session, email=email, password=form.password.data or "")
    except Unauthenticated as exc:
        session.rollback()
        accounts.record_login_failure(session, email=email, address=address)
        session.commit()
        flash(plain(exc), "error")
        return render_template("login.html", form=form), 401
    actor = accounts.actor_for(session, user)
    session.commit()
    login_user(SessionUser(actor))
    return redirect(_safe_next(form.next.data))  # type: ignore[return-value]


@bp.post("/logout")
@login_required
def logout() -> Response:
    """Log out (a POST, so that a link elsewhere cannot log anyone out)."""
    logout_user()
    return redirect(url_for("pages.home"))  # type: ignore[return-value]


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password() -> str | Response:
    """Change one's own password."""
    form = PasswordForm()
    if form.validate_on_submit():
        session = db()
        user = session.get(User, ui_actor().user_id)
        assert user is not None
        try:
            accounts.change_password(session, user=user, old=form.current.data, new=form.new.data)
        except Unauthenticated:
            session.rollback()
            flash(_("The current password is wrong."), "error")
            return render_template("password.html", form=form)
        session.commit()
        flash(_("Your password was changed."), "ok")
        return redirect(url_for("ui.dashboard"))  # type: ignore[return-value]
    return render_template("password.html", form=form)
