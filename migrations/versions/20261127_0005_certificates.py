"""certificates: issued credentials and their revocation

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 18:06:42.190369
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "certificate",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("lot_id", sa.String(length=32), nullable=False),
        sa.Column("issuer_id", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("credential", sa.Text(), nullable=False),
        sa.Column("issued_seq", sa.BigInteger(), nullable=False),
        sa.Column("issued_at", sa.String(length=24), nullable=False),
        sa.Column("revoked_seq", sa.BigInteger(), nullable=True),
        sa.Column("revoked_by", sa.String(length=64), nullable=True),
        sa.Column("revoked_reason", sa.Text(), nullable=True),
        sa.Column("revoked_at", sa.String(length=24), nullable=True),
        sa.ForeignKeyConstraint(
            ["issued_seq"], ["event.seq"], name=op.f("fk_certificate_issued_seq_event")
        ),
        sa.ForeignKeyConstraint(
            ["issuer_id"], ["organization.id"], name=op.f("fk_certificate_issuer_id_organization")
        ),
        sa.ForeignKeyConstraint(["lot_id"], ["lot.id"], name=op.f("fk_certificate_lot_id_lot")),
        sa.ForeignKeyConstraint(
            ["revoked_by"], ["organization.id"], name=op.f("fk_certificate_revoked_by_organization")
        ),
        sa.ForeignKeyConstraint(
            ["revoked_seq"], ["event.seq"], name=op.f("fk_certificate_revoked_seq_event")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate")),
        sa.UniqueConstraint("issued_seq", name=op.f("uq_certificate_issued_seq")),
    )
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_certificate_issuer_id"), ["issuer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_certificate_lot_id"), ["lot_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificate_lot_id"))
        batch_op.drop_index(batch_op.f("ix_certificate_issuer_id"))

    op.drop_table("certificate")
