"""Filling the web UI's forms from a test client: the CSRF token and the login form."""

from __future__ import annotations

import re

from flask.testing import FlaskClient


def csrf_token(html: str) -> str:
    """The CSRF token of the (first) form on a page."""
    match = re.search(r'name="[\w-]*csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="[\w-]*csrf_token"', html
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


def log_in(client: FlaskClient, email: str, password: str) -> str:
    """Log in through the login form; return a CSRF token for later forms."""
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"csrf_token": token, "email": email, "password": password}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return token
