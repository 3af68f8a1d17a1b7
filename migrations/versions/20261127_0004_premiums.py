"""premiums: rates, reference prices, obligations, payments, investments

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 17:28:38.959107
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "premium_rate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("cents_per_kg", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["seq"], ["event.seq"], name=op.f("fk_premium_rate_seq_event")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_premium_rate")),
    )
    op.create_table(
        "reference_price",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("cents_per_troy_oz", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["seq"], ["event.seq"], name=op.f("fk_reference_price_seq_event")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reference_price")),
    )
    with op.batch_alter_table("reference_price", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reference_price_day"), ["day"], unique=False)

    op.create_table(
        "investment",
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("committee_id", sa.String(length=64), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("spent_on", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("receipt_sha256", sa.String(length=64), nullable=True),
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["committee_id"],
            ["organization.id"],
            name=op.f("fk_investment_committee_id_organization"),
        ),
        sa.ForeignKeyConstraint(["seq"], ["event.seq"], name=op.f("fk_investment_seq_event")),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_investment")),
    )
    with op.batch_alter_table("investment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_investment_committee_id"), ["committee_id"], unique=False
        )

    op.create_table(
        "payment",
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("buyer_id", sa.String(length=64), nullable=False),
        sa.Column("committee_id", sa.String(length=64), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("method", sa.String(length=50), nullable=True),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["buyer_id"], ["organization.id"], name=op.f("fk_payment_buyer_id_organization")
        ),
        sa.ForeignKeyConstraint(
            ["committee_id"], ["organization.id"], name=op.f("fk_payment_committee_id_organization")
        ),
        sa.ForeignKeyConstraint(["seq"], ["event.seq"], name=op.f("fk_payment_seq_event")),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_payment")),
    )
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_buyer_id"), ["buyer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payment_committee_id"), ["committee_id"], unique=False)

    op.create_table(
        "obligation",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("lot_id", sa.String(length=32), nullable=False),
        sa.Column("buyer_id", sa.String(length=64), nullable=False),
        sa.Column("committee_id", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("fine_mg", sa.BigInteger(), nullable=False),
        sa.Column("cents_per_kg", sa.BigInteger(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("paid_cents", sa.BigInteger(), nullable=False),
        sa.Column("sold_on", sa.Date(), nullable=False),
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["buyer_id"], ["organization.id"], name=op.f("fk_obligation_buyer_id_organization")
        ),
        sa.ForeignKeyConstraint(
            ["committee_id"],
            ["organization.id"],
            name=op.f("fk_obligation_committee_id_organization"),
        ),
        sa.ForeignKeyConstraint(["id"], ["event.seq"], name=op.f("fk_obligation_id_event")),
        sa.ForeignKeyConstraint(["lot_id"], ["lot.id"], name=op.f("fk_obligation_lot_id_lot")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_obligation")),
    )
    with op.batch_alter_table("obligation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_obligation_lot_id"), ["lot_id"], unique=False)
        batch_op.create_index("ix_obligation_parties", ["buyer_id", "committee_id"], unique=False)

    op.create_table(
        "payment_allocation",
        sa.Column("payment_seq", sa.BigInteger(), nullable=False),
        sa.Column("obligation_id", sa.BigInteger(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["obligation_id"],
            ["obligation.id"],
            name=op.f("fk_payment_allocation_obligation_id_obligation"),
        ),
        sa.ForeignKeyConstraint(
            ["payment_seq"], ["payment.seq"], name=op.f("fk_payment_allocation_payment_seq_payment")
        ),
        sa.PrimaryKeyConstraint("payment_seq", "obligation_id", name=op.f("pk_payment_allocation")),
    )


def downgrade() -> None:
    op.drop_table("payment_allocation")
    with op.batch_alter_table("obligation", schema=None) as batch_op:
        batch_op.drop_index("ix_obligation_parties")
        batch_op.drop_index(batch_op.f("ix_obligation_lot_id"))

    op.drop_table("obligation")
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_committee_id"))
        batch_op.drop_index(batch_op.f("ix_payment_buyer_id"))

    op.drop_table("payment")
    with op.batch_alter_table("investment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_investment_committee_id"))

    op.drop_table("investment")
    with op.batch_alter_table("reference_price", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reference_price_day"))

    op.drop_table("reference_price")
    op.drop_table("premium_rate")
