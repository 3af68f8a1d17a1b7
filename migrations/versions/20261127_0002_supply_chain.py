"""supply chain: certifications, authorizations, lots, flags, users and tokens

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 17:09:27.488123
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "voided",
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("void_seq", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["seq"], ["event.seq"], name=op.f("fk_voided_seq_event")),
        sa.ForeignKeyConstraint(["void_seq"], ["event.seq"], name=op.f("fk_voided_void_seq_event")),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_voided")),
        sa.UniqueConstraint("void_seq", name=op.f("uq_voided_void_seq")),
    )
    op.create_table(
        "authorization",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("role IN ('supplier', 'licensee')", name=op.f("ck_authorization_role")),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organization.id"], name=op.f("fk_authorization_org_id_organization")
        ),
        sa.ForeignKeyConstraint(["seq"], ["event.seq"], name=op.f("fk_authorization_seq_event")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authorization")),
    )
    with op.batch_alter_table("authorization", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_authorization_org_id"), ["org_id"], unique=False)

    op.create_table(
        "capacity_exception",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("extra_fine_mg", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organization.id"], name=op.f("fk_capacity_exception_org_id_organization")
        ),
        sa.ForeignKeyConstraint(
            ["seq"], ["event.seq"], name=op.f("fk_capacity_exception_seq_event")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_capacity_exception")),
    )
    with op.batch_alter_table("capacity_exception", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_capacity_exception_org_id"), ["org_id"], unique=False)

    op.create_table(
        "certification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("certifier", sa.String(length=200), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("recorded_seq", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "category IN ('fairmined', 'fairmined_ecological')",
            name=op.f("ck_certification_category"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organization.id"], name=op.f("fk_certification_org_id_organization")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_seq"], ["event.seq"], name=op.f("fk_certification_recorded_seq_event")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certification")),
        sa.UniqueConstraint("number", name=op.f("uq_certification_number")),
    )
    with op.batch_alter_table("certification", schema=None) as batch_op:
        batch_op.create_index("ix_certification_org", ["org_id", "category"], unique=False)

    op.create_table(
        "lot",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("form", sa.String(length=32), nullable=False),
        sa.Column("mass_mg", sa.BigInteger(), nullable=False),
        sa.Column("fineness", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("holder_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("in_transit_to", sa.String(length=64), nullable=True),
        sa.Column("mine_id", sa.String(length=64), nullable=True),
        sa.Column("produced_on", sa.Date(), nullable=True),
        sa.Column("picker", sa.String(length=64), nullable=True),
        sa.Column("registered_fine_mg", sa.BigInteger(), nullable=True),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("origins", sa.Text(), nullable=False),
        sa.Column("sold_by_mine", sa.Boolean(), nullable=False),
        sa.Column("head", sa.LargeBinary(length=32), nullable=False),
        sa.Column("created_seq", sa.BigInteger(), nullable=False),
        sa.Column("updated_seq", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'in_transit', 'consumed', 'voided')", name=op.f("ck_lot_status")
        ),
        sa.CheckConstraint(
            "fineness >= 0 AND fineness <= 10000", name=op.f("ck_lot_fineness_range")
        ),
        sa.CheckConstraint("mass_mg > 0", name=op.f("ck_lot_mass_positive")),
        sa.ForeignKeyConstraint(
            ["created_seq"], ["event.seq"], name=op.f("fk_lot_created_seq_event")
        ),
        sa.ForeignKeyConstraint(
            ["holder_id"], ["organization.id"], name=op.f("fk_lot_holder_id_organization")
        ),
        sa.ForeignKeyConstraint(
            ["in_transit_to"], ["organization.id"], name=op.f("fk_lot_in_transit_to_organization")
        ),
        sa.ForeignKeyConstraint(
            ["mine_id"], ["organization.id"], name=op.f("fk_lot_mine_id_organization")
        ),
        sa.ForeignKeyConstraint(
            ["updated_seq"], ["event.seq"], name=op.f("fk_lot_updated_seq_event")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lot")),
    )
    with op.batch_alter_table("lot", schema=None) as batch_op:
        batch_op.create_index("ix_lot_holder_status", ["holder_id", "status"], unique=False)
        batch_op.create_index("ix_lot_mine_produced", ["mine_id", "produced_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_lot_picker"), ["picker"], unique=False)

    op.create_table(
        "user_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.String(length=24), nullable=False),
        sa.CheckConstraint(
            "role IN ('operator', 'admin', 'auditor', 'standard_body')",
            name=op.f("ck_user_account_role"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organization.id"], name=op.f("fk_user_account_org_id_organization")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_account")),
        sa.UniqueConstraint("email", name=op.f("uq_user_account_email")),
    )
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_account_org_id"), ["org_id"], unique=False)

    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.String(length=24), nullable=False),
        sa.Column("revoked_at", sa.String(length=24), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_api_token_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
    )
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_token_user_id"), ["user_id"], unique=False)

    op.create_table(
        "certification_status",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certification_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'suspended', 'withdrawn')",
            name=op.f("ck_certification_status_status"),
        ),
        sa.ForeignKeyConstraint(
            ["certification_id"],
            ["certification.id"],
            name=op.f("fk_certification_status_certification_id_certification"),
        ),
        sa.ForeignKeyConstraint(
            ["seq"], ["event.seq"], name=op.f("fk_certification_status_seq_event")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certification_status")),
    )
    with op.batch_alter_table("certification_status", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_certification_status_certification_id"),
            ["certification_id"],
            unique=False,
        )

    op.create_table(
        "flag",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("lot_id", sa.String(length=32), nullable=True),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("reviewed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["lot_id"], ["lot.id"], name=op.f("fk_flag_lot_id_lot")),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organization.id"], name=op.f("fk_flag_org_id_organization")
        ),
        sa.ForeignKeyConstraint(["seq"], ["event.seq"], name=op.f("fk_flag_seq_event")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flag")),
    )
    with op.batch_alter_table("flag", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_flag_lot_id"), ["lot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_flag_seq"), ["seq"], unique=False)

    op.create_table(
        "lot_event",
        sa.Column("lot_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("before", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "role IN ('subject', 'input', 'output')", name=op.f("ck_lot_event_role")
        ),
        sa.ForeignKeyConstraint(["lot_id"], ["lot.id"], name=op.f("fk_lot_event_lot_id_lot")),
        sa.ForeignKeyConstraint(["seq"], ["event.seq"], name=op.f("fk_lot_event_seq_event")),
        sa.PrimaryKeyConstraint("lot_id", "seq", name=op.f("pk_lot_event")),
    )
    with op.batch_alter_table("lot_event", schema=None) as batch_op:
        batch_op.create_index("ix_lot_event_seq", ["seq"], unique=False)

    op.create_table(
        "sale_terms",
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("lot_id", sa.String(length=32), nullable=False),
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.Column("buyer_id", sa.String(length=64), nullable=False),
        sa.Column("price_microusd_per_g", sa.BigInteger(), nullable=False),
        sa.Column("reference_microusd_per_g", sa.BigInteger(), nullable=False),
        sa.Column("salt", sa.LargeBinary(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["buyer_id"], ["organization.id"], name=op.f("fk_sale_terms_buyer_id_organization")
        ),
        sa.ForeignKeyConstraint(["lot_id"], ["lot.id"], name=op.f("fk_sale_terms_lot_id_lot")),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["organization.id"], name=op.f("fk_sale_terms_seller_id_organization")
        ),
        sa.ForeignKeyConstraint(["seq"], ["event.seq"], name=op.f("fk_sale_terms_seq_event")),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_sale_terms")),
    )
    with op.batch_alter_table("sale_terms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sale_terms_lot_id"), ["lot_id"], unique=False)

    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.add_column(sa.Column("committee", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.drop_column("committee")

    with op.batch_alter_table("sale_terms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sale_terms_lot_id"))

    op.drop_table("sale_terms")
    with op.batch_alter_table("lot_event", schema=None) as batch_op:
        batch_op.drop_index("ix_lot_event_seq")

    op.drop_table("lot_event")
    with op.batch_alter_table("flag", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_flag_seq"))
        batch_op.drop_index(batch_op.f("ix_flag_lot_id"))

    op.drop_table("flag")
    with op.batch_alter_table("certification_status", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certification_status_certification_id"))

    op.drop_table("certification_status")
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_token_user_id"))

    op.drop_table("api_token")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_account_org_id"))

    op.drop_table("user_account")
    with op.batch_alter_table("lot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lot_picker"))
        batch_op.drop_index("ix_lot_mine_produced")
        batch_op.drop_index("ix_lot_holder_status")

    op.drop_table("lot")
    with op.batch_alter_table("certification", schema=None) as batch_op:
        batch_op.drop_index("ix_certification_org")

    op.drop_table("certification")
    with op.batch_alter_table("capacity_exception", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_capacity_exception_org_id"))

    op.drop_table("capacity_exception")
    with op.batch_alter_table("authorization", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_authorization_org_id"))

    op.drop_table("authorization")
    op.drop_table("voided")
