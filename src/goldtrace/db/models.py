"""SQLAlchemy 2 models. Events are the truth; every other table is derived from them or is log structure.

Sizes: mass in integer milligrams, fineness in parts per ten thousand, money in cents, hashes as 32 raw
bytes, instants as RFC 3339 text (fixed width, so text order is time order on both databases).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
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
    # A RUC names one taxpayer: two organizations never share one (group them instead).
    ruc: Mapped[str | None] = mapped_column(String(11), unique=True)
    reinfo: Mapped[str | None] = mapped_column(String(40))
    # As onboarded; the capacity in force on a date is in capacity_change (registry.capacity_periods).
    miners: Mapped[int | None]
    capacity_mg_month: Mapped[int | None] = mapped_column(BigInteger)
    committee: Mapped[str | None] = mapped_column(String(200))
    pickers: Mapped[bool] = mapped_column(default=False)
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


class Certification(Base):
    """A Fairmined certificate of a mine, as recorded by the standard body (``cert.record``)."""

    __tablename__ = "certification"
    __table_args__ = (
        CheckConstraint("category IN ('fairmined', 'fairmined_ecological')", name="category"),
        Index("ix_certification_org", "org_id", "category"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[str] = mapped_column(String(64), ForeignKey("organization.id"))
    category: Mapped[str] = mapped_column(String(32))
    number: Mapped[str] = mapped_column(String(64), unique=True)
    certifier: Mapped[str | None] = mapped_column(String(200))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    recorded_seq: Mapped[int] = mapped_column(BigInteger, ForeignKey("event.seq"))


class CertificationStatus(Base):
    """A status of a certification from a date on (``cert.status``): active, suspended or withdrawn."""

    __tablename__ = "certification_status"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'suspended', 'withdrawn')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    certification_id: Mapped[int] = mapped_column(ForeignKey("certification.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    effective_on: Mapped[date] = mapped_column(Date)
    seq: Mapped[int] = mapped_column(BigInteger, ForeignKey("event.seq"))


class Authorization(Base):
    """A supplier or licensee authorization of a downstream organization (``auth.record``)."""

    __tablename__ = "authorization"
    __table_args__ = (CheckConstraint("role IN ('supplier', 'licensee')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[str] = mapped_column(String(64), ForeignKey("organization.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    seq: Mapped[int] = mapped_column(BigInteger, ForeignKey("event.seq"))


class CapacityException(Base):
    """Extra fine gold a mine may register in a period, after review by the standard body."""

    __tablename__ = "capacity_exception"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[str] = mapped_column(String(64), ForeignKey("organization.id"), index=True)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    extra_fine_mg: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    seq: Mapped[int] = mapped_column(BigInteger, ForeignKey("event.seq"))


class CapacityChange(Base):
    """A standard-body change of a mine's miners and capacity, in force from a date, with evidence."""

    __tablename__ = "capacity_change"

    seq: Mapped[int] = mapped_column(BigInteger, ForeignKey("event.seq"), primary_key=True)
    org_id: Mapped[str] = mapped_column(String(64), ForeignKey("organization.id"), index=True)
    effective_from: Mapped[date] = mapped_column(Date)
    miners: Mapped[int]
    capacity_mg_month: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    # SHA-256 (hex) of the evidence: a REINFO declaration, an audit report.
    evidence_sha256: Mapped[str | None] = mapped_column(String(64))


class RegistrationException(Base):
    """The standard body's permission to register production of a period after the usual delay."""

    __tablename__ = "registration_exception"

    seq: Mapped[int] = mapped_column(BigInteger, ForeignKey("event.seq"), primary_key=True)
    org_id: Mapped[str] = mapped_column(String(64), ForeignKey("organization.id"), index=True)
    produced_from: Mapped[date] = mapped_column(Date)
    produced_until: Mapped[date] = mapped_column(Date)
    register_until: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)


class PickerMembership(Base):
    """A person the standard body registered as selling ore through an association of pickers."""

    __tablename__ = "picker_membership"
    __table_args__ = (UniqueConstraint("person_id", "association_id"),)

    seq: Mapped[int] = mapped_column(BigInteger, ForeignKey("event.seq"), primary_key=True)
    # Normalized national id, TYPE:NUMBER (DNI:41000002): one spelling per person.
    person_id: Mapped[str] = mapped_column(String(40), index=True)
    name: Mapped[str] = mapped_column(String(200))
    association_id: Mapped[str] = mapped_column(String(64), ForeignKey("organization.id"))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)


class OrgGroupMember(Base):
    """The standard body's record that organizations belong to one group (the same owner)."""

    __tablename__ = "org_group_member"
    __table_args__ = (UniqueConstraint("group_name", "org_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_name: Mapped[str] = mapped_column(String(200), index=True)
    org_id: Mapped[str] = mapped_column(String(64), ForeignKey("organization.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    seq: Mapped[int] = mapped_column(BigInteger, ForeignKey("event.seq"))


class Lot(Base):
    """The current state of a lot, derived from its events (the events stay the truth)."""

    __tablename__ = "lot"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'in_transit', 'consumed', 'voided')", name="status"),
        CheckConstraint("mass_mg > 0", name="mass_positive"),
        CheckConstraint("fineness >= 0 AND fineness <= 10000", name="fineness_range"),
        Index("ix_lot_holder_status", "holder_id", "status"),
        Index("ix_lot_mine_produced", "mine_id", "produced_on"),
        Index("ix_lot_mine_registered", "mine_id", "registered_on"),
        Index("ix_lot_mine_reference", "mine_id", "reference_key"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    form: Mapped[str] = mapped_column(String(32))
    mass_mg: Mapped[int] = mapped_column(BigInteger)
    fineness: Mapped[int]
    category: Mapped[str] = mapped_column(String(32))
    holder_id: Mapped[str] = mapped_column(String(64), ForeignKey("organization.id"))
    status: Mapped[str] = mapped_column(String(16))
    in_transit_to: Mapped[str | None] = mapped_column(String(64), ForeignKey("organization.id"))
    # Set for lots a mine registered: the mine, the production date and the individual picker if any.
    mine_id: Mapped[str | None] = mapped_column(String(64), ForeignKey("organization.id"))
    produced_on: Mapped[date | None] = mapped_column(Date)
    picker: Mapped[str | None] = mapped_column(String(64), index=True)
    registered_on: Mapped[date | None] = mapped_column(Date)
    # The mass and fineness the mine registered (look-alike registrations are compared on these).
    registered_mass_mg: Mapped[int | None] = mapped_column(BigInteger)
    registered_fineness: Mapped[int | None]
    # Fine gold as first established (registration, then gains by receipts and assays before anything
    # is made of the lot): what counts against the mine's (and picker's) 30-day capacity.
    registered_fine_mg: Mapped[int | None] = mapped_column(BigInteger)
    reference: Mapped[str | None] = mapped_column(String(100))
    # The reference as compared for duplicates (case and spacing folded).
    reference_key: Mapped[str | None] = mapped_column(String(100))
    # Fine gold gained by receipts and assays; JSON {"a|b": growth receipts between a and b}.
    gained_mg: Mapped[int] = mapped_column(BigInteger, default=0)
    gain_pairs: Mapped[str] = mapped_column(Text, default="{}")
    # JSON object {mine id: fine milligrams}, in canonical form.
    origins: Mapped[str] = mapped_column(Text)
    sold_by_mine: Mapped[bool] = mapped_column(default=False)
    head: Mapped[bytes] = mapped_column(HASH)
    created_seq: Mapped[int] = mapped_column(BigInteger, ForeignKey("event.seq"))
    updated_seq: Mapped[int] = mapped_column(BigInteger, ForeignKey("event.seq"))


class LotEvent(Base):
    """Which events touched which lot, and how (subject, input, output): the provenance graph."""

    __tablename__ = "lot_event"
    __table_args__ = (
        CheckConstraint("role IN ('subject', 'input', 'output')", name="role"),
        Index("ix_lot_event_seq", "seq"),
    )

    lot_id: Mapped[str] = mapped_column(String(32), ForeignKey("lot.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, ForeignKey("event.seq"), primary_key=True)
    role: Mapped[str] = mapped_column(String(8))
    # The lot as it was before this event (JSON), or NULL when the event created it: voiding restores it.
    before: Mapped[str | None] = mapped_column(Text)


class SaleTerms(Base):
    """The private price terms of a mine's first sale; the public event body holds only a commitment."""

    __tablename__ = "sale_terms"

    seq: Mapped[int] = mapped_column(BigInteger, ForeignKey("event.seq"), primary_key=True)
    lot_id: Mapped[str] = mapped_column(String(32), ForeignKey("lot.id"), index=True)
    seller_id: Mapped[str] = mapped_column(String(64), ForeignKey("organization.id"))
    buyer_id: Mapped[str] = mapped_column(String(64), ForeignKey("organization.id"))
    price_microusd_per_g: Mapped[int] = mapped_column(BigInteger)
    reference_microusd_per_g: Mapped[int] = mapped_column(BigInteger)
    salt: Mapped[bytes] = mapped_column(LargeBinary(16))


class Flag(Base):
    """Something an auditor should look at: a weight discrepancy, a loss above tolerance, a void..."""

    __tablename__ = "flag"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, ForeignKey("event.seq"), index=True)
    lot_id: Mapped[str | None] = mapped_column(String(32), ForeignKey("lot.id"), index=True)
    org_id: Mapped[str] = mapped_column(String(64), ForeignKey("organization.id"))
    kind: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(8), default="review")
    detail: Mapped[str] = mapped_column(Text)
    # JSON object of the figures the detail is made of (integers and short texts).
    figures: Mapped[str] = mapped_column(Text, default="{}")
    reviewed: Mapped[bool] = mapped_column(default=False)
    # The flag.review event: who reviewed it, the outcome and the note.
    review_seq: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("event.seq"))
    reviewer: Mapped[str | None] = mapped_column(String(200))
    review_outcome: Mapped[str | None] = mapped_column(String(16))
    review_note: Mapped[str | None] = mapped_column(Text)


class Voided(Base):
    """An event voided by a later ``event.void``."""

    __tablename__ = "voided"

    seq: Mapped[int] = mapped_column(BigInteger, ForeignKey("event.seq"), primary_key=True)
    void_seq: Mapped[int] = mapped_column(BigInteger, ForeignKey("event.seq"), unique=True)
    reason: Mapped[str] = mapped_column(Text)


class User(Base):
    """A person who logs in: member of one organization with a role."""

    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint("role IN ('operator', 'admin', 'auditor', 'standard_body')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    org_id: Mapped[str] = mapped_column(String(64), ForeignKey("organization.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[str] = mapped_column(INSTANT)


class ApiToken(Base):
    """A bearer token: only its SHA-256 is stored; the token itself is shown once."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    token_hash: Mapped[bytes] = mapped_column(HASH, unique=True)
    label: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[str] = mapped_column(INSTANT)
    revoked_at: Mapped[str | None] = mapped_column(INSTANT)


class LoginFailure(Base):
    """A failed login, kept for a while to throttle password guessing (per email and per address)."""

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_email_at", "email", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[str] = mapped_column(INSTANT)


class PremiumRate(Base):
    """A premium rate (cents per kg of fine gold) for a category from a date on (``premium.rate``)."""

    __tablename__ = "premium_rate"

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(32))
    effective_from: Mapped[date] = mapped_column(Date)
    cents_per_kg: Mapped[int] = mapped_column(BigInteger)
    seq: Mapped[int] = mapped_column(BigInteger, ForeignKey("event.seq"))


class ReferencePrice(Base):
    """The international gold price on a date, USD cents per troy ounce (``reference.price``)."""

    __tablename__ = "reference_price"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    cents_per_troy_oz: Mapped[int] = mapped_column(BigInteger)
    seq: Mapped[int] = mapped_column(BigInteger, ForeignKey("event.seq"))


class Obligation(Base):
    """What a mine's first sale obliges the buyer to pay the mine's premium committee.

    Its id is the seq of the first-sale event, whose body states the same figures.
    """

    __tablename__ = "obligation"
    __table_args__ = (Index("ix_obligation_parties", "buyer_id", "committee_id"),)

    id: Mapped[int] = mapped_column(BigInteger, ForeignKey("event.seq"), primary_key=True)
    lot_id: Mapped[str] = mapped_column(String(32), ForeignKey("lot.id"), index=True)
    buyer_id: Mapped[str] = mapped_column(String(64), ForeignKey("organization.id"))
    committee_id: Mapped[str] = mapped_column(String(64), ForeignKey("organization.id"))
    category: Mapped[str] = mapped_column(String(32))
    fine_mg: Mapped[int] = mapped_column(BigInteger)
    cents_per_kg: Mapped[int] = mapped_column(BigInteger)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    paid_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    sold_on: Mapped[date] = mapped_column(Date)
    voided: Mapped[bool] = mapped_column(default=False)


class Payment(Base):
    """A premium payment by a buyer to a committee (``premium.payment``)."""

    __tablename__ = "payment"

    seq: Mapped[int] = mapped_column(BigInteger, ForeignKey("event.seq"), primary_key=True)
    buyer_id: Mapped[str] = mapped_column(String(64), ForeignKey("organization.id"), index=True)
    committee_id: Mapped[str] = mapped_column(String(64), ForeignKey("organization.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    paid_on: Mapped[date] = mapped_column(Date)
    method: Mapped[str | None] = mapped_column(String(50))
    reference: Mapped[str | None] = mapped_column(String(100))
    voided: Mapped[bool] = mapped_column(default=False)


class PaymentAllocation(Base):
    """How much of a payment settles which obligation."""

    __tablename__ = "payment_allocation"

    payment_seq: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("payment.seq"), primary_key=True
    )
    obligation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("obligation.id"), primary_key=True
    )
    amount_cents: Mapped[int] = mapped_column(BigInteger)


class Investment(Base):
    """What a committee spent premium on (``premium.investment``)."""

    __tablename__ = "investment"

    seq: Mapped[int] = mapped_column(BigInteger, ForeignKey("event.seq"), primary_key=True)
    committee_id: Mapped[str] = mapped_column(String(64), ForeignKey("organization.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    spent_on: Mapped[date] = mapped_column(Date)
    category: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text)
    receipt_sha256: Mapped[str | None] = mapped_column(String(64))
    voided: Mapped[bool] = mapped_column(default=False)


class Certificate(Base):
    """A certificate (``certificate.issue``): the signed credential as issued, and its revocation.

    The credential is kept as the exact JSON text that was signed, so it is served byte for byte.
    """

    __tablename__ = "certificate"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    lot_id: Mapped[str] = mapped_column(String(32), ForeignKey("lot.id"), index=True)
    issuer_id: Mapped[str] = mapped_column(String(64), ForeignKey("organization.id"), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    credential: Mapped[str] = mapped_column(Text)
    issued_seq: Mapped[int] = mapped_column(BigInteger, ForeignKey("event.seq"), unique=True)
    issued_at: Mapped[str] = mapped_column(INSTANT)
    revoked_seq: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("event.seq"))
    revoked_by: Mapped[str | None] = mapped_column(String(64), ForeignKey("organization.id"))
    revoked_reason: Mapped[str | None] = mapped_column(Text)
    revoked_at: Mapped[str | None] = mapped_column(INSTANT)


class Witness(Base):
    """A witness whose checkpoint cosignatures the log accepts (registered by the standard body)."""

    __tablename__ = "witness"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    public_key: Mapped[bytes] = mapped_column(HASH)
    registered_at: Mapped[str] = mapped_column(INSTANT)


class Cosignature(Base):
    """One witness's C2SP tlog-cosignature line over a signed checkpoint, served with the note."""

    __tablename__ = "cosignature"

    checkpoint_size: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("checkpoint.size"), primary_key=True, autoincrement=False
    )
    witness_name: Mapped[str] = mapped_column(
        String(200), ForeignKey("witness.name"), primary_key=True
    )
    line: Mapped[str] = mapped_column(Text)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[str] = mapped_column(INSTANT)
