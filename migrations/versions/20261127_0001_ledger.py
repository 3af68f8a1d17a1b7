"""ledger: events, merkle log, checkpoints, organizations and keys

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-27 16:51:18.749770
"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "checkpoint",
        sa.Column("size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(length=24), nullable=False),
        sa.PrimaryKeyConstraint("size", name=op.f("pk_checkpoint")),
    )
    op.create_table(
        "event",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", sa.String(length=24), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("kid", sa.String(length=16), nullable=False),
        sa.Column("sig", sa.LargeBinary(length=64), nullable=False),
        sa.Column("leaf", sa.LargeBinary(), nullable=False),
        sa.Column("logged_at", sa.String(length=24), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_event")),
        sa.UniqueConstraint("hash", name=op.f("uq_event_hash")),
    )
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_event_actor"), ["actor"], unique=False)

    op.create_table(
        "log_head",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("frontier", sa.LargeBinary(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_log_head_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_head")),
    )
    op.create_table(
        "log_key",
        sa.Column("origin", sa.String(length=200), nullable=False),
        sa.Column("public_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("private_key_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.String(length=24), nullable=False),
        sa.PrimaryKeyConstraint("origin", name=op.f("pk_log_key")),
    )
    op.create_table(
        "log_node",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name=op.f("pk_log_node")),
    )
    op.create_table(
        "organization",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("ruc", sa.String(length=11), nullable=True),
        sa.Column("reinfo", sa.String(length=40), nullable=True),
        sa.Column("miners", sa.Integer(), nullable=True),
        sa.Column("capacity_mg_month", sa.BigInteger(), nullable=True),
        sa.Column("registered_seq", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('mine', 'trader', 'refiner', 'jeweler', 'auditor', 'standard_body')",
            name=op.f("ck_organization_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["registered_seq"], ["event.seq"], name=op.f("fk_organization_registered_seq_event")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organization")),
    )
    op.create_table(
        "org_key",
        sa.Column("kid", sa.String(length=16), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("private_key_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("valid_from_seq", sa.BigInteger(), nullable=False),
        sa.Column("valid_until_seq", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organization.id"], name=op.f("fk_org_key_org_id_organization")
        ),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_org_key")),
    )
    with op.batch_alter_table("org_key", schema=None) as batch_op:
        batch_op.create_index("ix_org_key_current", ["org_id", "valid_until_seq"], unique=False)

    # The head row always exists so that every append can lock it.
    # The empty tree's root is SHA-256 of nothing.
    log_head = sa.table(
        "log_head",
        sa.column("id", sa.SmallInteger()),
        sa.column("size", sa.BigInteger()),
        sa.column("root", sa.LargeBinary()),
        sa.column("frontier", sa.LargeBinary()),
    )
    op.bulk_insert(
        log_head, [{"id": 1, "size": 0, "root": hashlib.sha256(b"").digest(), "frontier": b""}]
    )


def downgrade() -> None:
    with op.batch_alter_table("org_key", schema=None) as batch_op:
        batch_op.drop_index("ix_org_key_current")

    op.drop_table("org_key")
    op.drop_table("organization")
    op.drop_table("log_node")
    op.drop_table("log_key")
    op.drop_table("log_head")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_actor"))

    op.drop_table("event")
    op.drop_table("checkpoint")
