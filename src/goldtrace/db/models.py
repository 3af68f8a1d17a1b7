"""SQLAlchemy 2 models. Events are the truth; every other table is derived from them or is log structure.

Sizes: mass in integer milligrams, fineness in parts per ten thousand, money in cents, hashes as 32 raw
bytes, instants as RFC 3339 text (fixed width, so text order is time order on both databases).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

INSTANT = String(24)
HASH = LargeBinary(32)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Event(Base):
    """One ledger event: the exact canonical body bytes, their hash, the signature and the log leaf."""

    __tablename__ = "event"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(HASH, unique=True)
    type: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(64), index=True)
    occurred_at: Mapped[str] = mapped_column(INSTANT)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    kid: Mapped[str] = mapped_column(String(16))
    sig: Mapped[bytes] = mapped_column(LargeBinary(64))
    leaf: Mapped[bytes] = mapped_column(LargeBinary)
    logged_at: Mapped[str] = mapped_column(INSTANT)


class LogNode(Base):
    """The hash of a finished perfect subtree: leaves [idx * 2**level, (idx + 1) * 2**level)."""

    __tablename__ = "log_node"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(HASH)


class LogHead(Base):
    """The one row every append locks: tree size, root and the frontier of perfect subtrees."""

    __tablename__ = "log_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)
    root: Mapped[bytes] = mapped_column(HASH)
    # Concatenated 32-byte hashes, largest subtree first: popcount(size) of them.
    frontier: Mapped[bytes] = mapped_column(LargeBinary)


class LogKey(Base):
    """The log's own checkpoint-signing key (never an organization key)."""

    __tablename__ = "log_key"

    origin: Mapped[str] = mapped_column(String(200), primary_key=True)
    public_key: Mapped[bytes] = mapped_column(HASH)
    private_key_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[str] = mapped_column(INSTANT)


class Checkpoint(Base):
    """A signed checkpoint. The primary key on size makes two roots for one size impossible."""

    __tablename__ = "checkpoint"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(HASH)
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(INSTANT)


class Organization(Base):
    """An organization as registered on the ledger (derived from its ``org.register`` event)."""

    __tablename__ = "organization"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('mine', 'trader', 'refiner', 'jeweler', 'auditor', 'standard_body')",
            name="kind",
        ),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    country: Mapped[str] = mapped_column(String(2))
    region: Mapped[str | None] = mapped_column(String(100))
    ruc: Mapped[str | None] = mapped_column(String(11))
    reinfo: Mapped[str | None] = mapped_column(String(40))
    miners: Mapped[int | None]
    capacity_mg_month: Mapped[int | None] = mapped_column(BigInteger)
    registered_seq: Mapped[int] = mapped_column(BigInteger, ForeignKey("event.seq"))


class OrgKey(Base):
    """An organization's signing key, valid for events with valid_from_seq <= seq < valid_until_seq."""

    __tablename__ = "org_key"
    __table_args__ = (Index("ix_org_key_current", "org_id", "valid_until_seq"),)

    kid: Mapped[str] = mapped_column(String(16), primary_key=True)
    org_id: Mapped[str] = mapped_column(String(64), ForeignKey("organization.id"))
    public_key: Mapped[bytes] = mapped_column(HASH)
    # NULL when the organization keeps its own private key and submits signed events itself.
    private_key_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    valid_from_seq: Mapped[int] = mapped_column(BigInteger)
    valid_until_seq: Mapped[int | None] = mapped_column(BigInteger)
