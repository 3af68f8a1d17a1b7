"""witnesses: registered witness keys and checkpoint cosignatures

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 18:24:13.116450
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "witness",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("public_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("registered_at", sa.String(length=24), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_witness")),
    )
    op.create_table(
        "cosignature",
        sa.Column("checkpoint_size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("witness_name", sa.String(length=200), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("received_at", sa.String(length=24), nullable=False),
        sa.ForeignKeyConstraint(
            ["checkpoint_size"],
            ["checkpoint.size"],
            name=op.f("fk_cosignature_checkpoint_size_checkpoint"),
        ),
        sa.ForeignKeyConstraint(
            ["witness_name"], ["witness.name"], name=op.f("fk_cosignature_witness_name_witness")
        ),
        sa.PrimaryKeyConstraint("checkpoint_size", "witness_name", name=op.f("pk_cosignature")),
    )


def downgrade() -> None:
    op.drop_table("cosignature")
    op.drop_table("witness")
