"""Per-engine caps: flowexec_engine_slot, the row a claim of a capped engine locks

Revision ID: 0005_engine_slots
Revises: 0004_concurrency_caps
Create Date: 2026-11-25

"""
from alembic import op
import sqlalchemy as sa

revision = "0005_engine_slots"
down_revision = "0004_concurrency_caps"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "flowexec_engine_slot",
        sa.Column("engine", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("engine", name=op.f("pk_flowexec_engine_slot")),
        mysql_charset="utf8mb4",
        mysql_engine="InnoDB",
    )


def downgrade():
    op.drop_table("flowexec_engine_slot")
