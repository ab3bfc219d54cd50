"""flowexec_idempotency_key: a retried execute with the same Idempotency-Key returns the first execution

Revision ID: 0008_idempotency_key
Revises: 0007_execute_info_mediumtext
Create Date: 2026-11-26

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = "0008_idempotency_key"
down_revision = "0007_execute_info_mediumtext"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "flowexec_idempotency_key",
        sa.Column("um_user", sa.String(length=50), nullable=False),
        sa.Column("idem_key", sa.String(length=128), nullable=False),
        sa.Column("task_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_time",
            sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mariadb").with_variant(mysql.DATETIME(fsp=6), "mysql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["task_id"], ["dss_workflow_task.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("um_user", "idem_key"),
        mysql_charset="utf8mb4",
        mysql_engine="InnoDB",
    )


def downgrade():
    op.drop_table("flowexec_idempotency_key")
