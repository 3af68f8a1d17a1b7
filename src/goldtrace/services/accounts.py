"""Users, their passwords and their API tokens.

Passwords are stored as argon2id hashes; API tokens are shown once and only their SHA-256 is stored
(a token is 256 random bits, so a fast hash is enough and lets a request find it by index).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from goldtrace.db.models import ApiToken, LoginFailure, User
from goldtrace.domain.actors import Actor, check_role
from goldtrace.domain.instants import format_instant, now_instant
from goldtrace.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Unauthenticated
from goldtrace.services.organizations import get_org, standard_body_id

MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "gt_"  # noqa: S105 (a marker that lets scanners spot leaked tokens, not a secret)
MAX_LABEL_LENGTH = 100

# argon2-cffi's defaults are the RFC 9106 low-memory argon2id profile (t=3, m=64 MiB, p=4).
_HASHER = PasswordHasher()
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_BAD_LOGIN = "wrong email or password"
_BAD_TOKEN = "the bearer token is not valid"  # noqa: S105 (a message)


def add_user(session: Session, *, email: str, org_id: str, role: str, password: str) -> User:
    """Create an active user of ``org_id`` and return it.

    Raises InvalidInput for a malformed email, a short password or a role that does not fit the
    organization; NotFound for an unknown organization; Conflict when the email is taken.
    """
    email = normalise_email(email)
    org = get_org(session, org_id)
    check_role(role, org.kind)
    if role == "standard_body" and org.id != standard_body_id(session):
        raise InvalidInput(
            "only users of the standard body may have role standard_body",
            code="bad_role",
            fields={"role": "does not fit the organization"},
        )
    _check_password(password)
    if _user_by_email(session, email) is not None:
        raise Conflict(
            f"a user with email {email} already exists",
            code="duplicate_email",
            fields={"email": "taken"},
        )
    user = User(
        email=email,
        org_id=org.id,
        role=role,
        password_hash=_HASHER.hash(password),
        active=True,
        created_at=now_instant(),
    )
    session.add(user)
    session.flush()
    return user


def list_users(session: Session) -> list[User]:
    """Return every user, by organization then email."""
    return list(session.scalars(select(User).order_by(User.org_id, User.email)))


def authenticate(session: Session, *, email: str, password: str) -> User:
    """Return the active user with this email and password.

    Raises Unauthenticated with one message whatever was wrong, after the same hashing work, so
    that neither the answer nor its timing tells whether the email exists.
    """
    user = _user_by_email(session, email.strip().lower()) if isinstance(email, str) else None
    if not isinstance(password, str):
        raise Unauthenticated(_BAD_LOGIN)
    if user is None:
        _verify(_dummy_hash(), password)
        raise Unauthenticated(_BAD_LOGIN)
    if not _verify(user.password_hash, password) or not user.active:
        raise Unauthenticated(_BAD_LOGIN)
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
        session.flush()
    return user


def change_password(session: Session, *, user: User, old: str, new: str) -> None:
    """Replace the user's password. Raises Unauthenticated if ``old`` is wrong, InvalidInput if
    ``new`` is too short."""
    if not isinstance(old, str) or not _verify(user.password_hash, old):
        raise Unauthenticated("the current password is wrong")
    _check_password(new, field="new")
    user.password_hash = _HASHER.hash(new)
    session.flush()


def create_token(session: Session, *, email: str, label: str | None = None) -> tuple[ApiToken, str]:
    """Issue an API token for the user with ``email``; return its row and the plaintext token.

    The plaintext is not stored anywhere: the caller shows it once. Raises NotFound for an unknown
    email, Conflict for an inactive user, InvalidInput for a label over 100 characters.
    """
    user = get_user(session, email=email)
    if not user.active:
        raise Conflict(f"user {user.email} is inactive", code="user_inactive")
    if label is not None:
        label = label.strip() or None
    if label is not None and len(label) > MAX_LABEL_LENGTH:
        raise InvalidInput(
            f"label is longer than {MAX_LABEL_LENGTH} characters", fields={"label": "too long"}
        )
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        token_hash=_token_hash(plaintext),
        label=label,
        created_at=now_instant(),
        revoked_at=None,
    )
    session.add(token)
    session.flush()
    return token, plaintext


def revoke_token(session: Session, *, token_id: int, by_user: User | None) -> ApiToken:
    """Revoke a token and return it. ``by_user`` None is the host's operator on the command line.

    A user may revoke their own tokens, an admin those of their organization, the standard body any.
    Raises NotFound for an unknown token, PermissionDenied otherwise, Conflict if already revoked.
    """
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"unknown token {token_id}", code="unknown_token")
    owner = session.get(User, token.user_id)
    assert owner is not None
    if by_user is not None and not _may_manage(by_user, owner):
        raise PermissionDenied("you may not revoke this token", code="not_token_owner")
    if token.revoked_at is not None:
        raise Conflict(f"token {token_id} is already revoked", code="token_revoked")
    token.revoked_at = now_instant()
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> User:
    """Return the active user holding ``token``; Unauthenticated for unknown or revoked tokens."""
    if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX):
        raise Unauthenticated(_BAD_TOKEN, code="invalid_token")
    row = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == _token_hash(token))
    ).one_or_none()
    if row is None:
        raise Unauthenticated(_BAD_TOKEN, code="invalid_token")
    api_token, user = row
    if api_token.revoked_at is not None or not user.active:
        raise Unauthenticated(_BAD_TOKEN, code="invalid_token")
    return user


def actor_for(session: Session, user: User) -> Actor:
    """Return the acting identity of ``user``, independent of the session."""
    org = get_org(session, user.org_id)
    return Actor(
        user_id=user.id, email=user.email, org_id=org.id, org_kind=org.kind, role=user.role
    )


def get_user(session: Session, *, email: str) -> User:
    """Return the user with ``email`` (any case); NotFound when there is none."""
    user = _user_by_email(session, normalise_email(email))
    if user is None:
        raise NotFound(f"unknown user {email!r}", code="unknown_user", fields={"email": "unknown"})
    return user


def normalise_email(email: str) -> str:
    """Return ``email`` trimmed and lower-cased; InvalidInput unless it looks like an address."""
    if not isinstance(email, str):
        raise InvalidInput("email must be text", fields={"email": "not text"})
    email = email.strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise InvalidInput(f"not an email address: {email!r}", fields={"email": "bad email"})
    return email


def _user_by_email(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(User.email == email)).one_or_none()


def _may_manage(by_user: User, owner: User) -> bool:
    if not by_user.active:
        return False
    if by_user.id == owner.id or by_user.role == "standard_body":
        return True
    return by_user.role == "admin" and by_user.org_id == owner.org_id


def _check_password(password: str, *, field: str = "password") -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"a password needs at least {MIN_PASSWORD_LENGTH} characters",
            code="weak_password",
            fields={field: "too short"},
        )


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    # Hashed on first use, not at import: an unknown email is checked against it so that it costs
    # as much as a wrong password.
    return _HASHER.hash(secrets.token_urlsafe(16))


def _token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


LOGIN_FAILURE_LIMIT = 5
LOGIN_FAILURE_WINDOW = timedelta(minutes=15)


def login_blocked(
    session: Session, *, email: str, address: str, now: datetime | None = None
) -> bool:
    """True when this email or this address failed to log in too often in the last 15 minutes."""
    since = format_instant((now or datetime.now(UTC)) - LOGIN_FAILURE_WINDOW)

    def failures(criterion: ColumnElement[bool]) -> int:
        stmt = (
            select(func.count())
            .select_from(LoginFailure)
            .where(criterion, LoginFailure.at >= since)
        )
        return int(session.execute(stmt).scalar_one())

    by_email = failures(LoginFailure.email == email.strip().lower())
    # One address may be a whole cooperative's office: it gets more attempts than one account.
    by_address = failures(LoginFailure.address == address)
    return by_email >= LOGIN_FAILURE_LIMIT or by_address >= 4 * LOGIN_FAILURE_LIMIT


def record_login_failure(session: Session, *, email: str, address: str) -> None:
    """Remember a failed login (the caller commits, even though the login itself failed)."""
    session.add(
        LoginFailure(email=email.strip().lower()[:254], address=address[:64], at=now_instant())
    )
    session.flush()
