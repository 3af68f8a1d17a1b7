"""laundering resistance: capacity history, late-registration exceptions, the picker registry,
organization groups, unique RUCs, established fine gold and gains on lots, structured flags and reviews

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08 03:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _event_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["seq"], ["event.seq"], name=op.f(f"fk_{table}_seq_event"))


def _org_fk(table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["organization.id"], name=op.f(f"fk_{table}_{column}_organization")
    )


def upgrade() -> None:
    op.create_table(
        "capacity_change",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("miners", sa.Integer(), nullable=False),
        sa.Column("capacity_mg_month", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("evidence_sha256", sa.String(length=64), nullable=True),
        _event_fk("capacity_change"),
        _org_fk("capacity_change", "org_id"),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_capacity_change")),
    )
    op.create_index(op.f("ix_capacity_change_org_id"), "capacity_change", ["org_id"], unique=False)
    op.create_table(
        "registration_exception",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("produced_from", sa.Date(), nullable=False),
        sa.Column("produced_until", sa.Date(), nullable=False),
        sa.Column("register_until", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        _event_fk("registration_exception"),
        _org_fk("registration_exception", "org_id"),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_registration_exception")),
    )
    op.create_index(
        op.f("ix_registration_exception_org_id"),
        "registration_exception",
        ["org_id"],
        unique=False,
    )
    op.create_table(
        "picker_membership",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("person_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("association_id", sa.String(length=64), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        _event_fk("picker_membership"),
        _org_fk("picker_membership", "association_id"),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_picker_membership")),
        sa.UniqueConstraint(
            "person_id",
            "association_id",
            name=op.f("uq_picker_membership_person_id_association_id"),
        ),
    )
    op.create_index(
        op.f("ix_picker_membership_person_id"), "picker_membership", ["person_id"], unique=False
    )
    op.create_table(
        "org_group_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_name", sa.String(length=200), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        _event_fk("org_group_member"),
        _org_fk("org_group_member", "org_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_group_member")),
        sa.UniqueConstraint(
            "group_name", "org_id", name=op.f("uq_org_group_member_group_name_org_id")
        ),
    )
    op.create_index(
        op.f("ix_org_group_member_group_name"), "org_group_member", ["group_name"], unique=False
    )
    op.create_index(
        op.f("ix_org_group_member_org_id"), "org_group_member", ["org_id"], unique=False
    )
    with op.batch_alter_table("organization") as batch:
        batch.add_column(
            sa.Column("pickers", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.create_unique_constraint(op.f("uq_organization_ruc"), ["ruc"])
    with op.batch_alter_table("lot") as batch:
        batch.add_column(sa.Column("registered_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("registered_mass_mg", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("registered_fineness", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("reference_key", sa.String(length=100), nullable=True))
        batch.add_column(
            sa.Column("gained_mg", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("gain_pairs", sa.Text(), nullable=False, server_default="{}"))
        batch.create_index("ix_lot_mine_registered", ["mine_id", "registered_on"], unique=False)
        batch.create_index("ix_lot_mine_reference", ["mine_id", "reference_key"], unique=False)
    with op.batch_alter_table("flag") as batch:
        batch.add_column(
            sa.Column("severity", sa.String(length=8), nullable=False, server_default="review")
        )
        batch.add_column(sa.Column("figures", sa.Text(), nullable=False, server_default="{}"))
        batch.add_column(sa.Column("review_seq", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("reviewer", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("review_outcome", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("review_note", sa.Text(), nullable=True))
        batch.create_foreign_key(op.f("fk_flag_review_seq_event"), "event", ["review_seq"], ["seq"])


def downgrade() -> None:
    with op.batch_alter_table("flag") as batch:
        batch.drop_constraint(op.f("fk_flag_review_seq_event"), type_="foreignkey")
        for column in ("review_note", "review_outcome", "reviewer", "review_seq", "figures"):
            batch.drop_column(column)
        batch.drop_column("severity")
    with op.batch_alter_table("lot") as batch:
        batch.drop_index("ix_lot_mine_reference")
        batch.drop_index("ix_lot_mine_registered")
        for column in (
            "gain_pairs",
            "gained_mg",
            "reference_key",
            "registered_fineness",
            "registered_mass_mg",
            "registered_on",
        ):
            batch.drop_column(column)
    with op.batch_alter_table("organization") as batch:
        batch.drop_constraint(op.f("uq_organization_ruc"), type_="unique")
        batch.drop_column("pickers")
    op.drop_table("org_group_member")
    op.drop_table("picker_membership")
    op.drop_table("registration_exception")
    op.drop_table("capacity_change")
