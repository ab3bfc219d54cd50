"""dss_workflow_execute_info: node lists as MEDIUMTEXT on MySQL (TEXT caps a flow near 1,700 nodes)

Revision ID: 0007_execute_info_mediumtext
Revises: 0006_execute_info_index
Create Date: 2026-11-25

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = "0007_execute_info_mediumtext"
down_revision = "0006_execute_info_index"
branch_labels = None
depends_on = None

COLUMNS = ("failed_jobs", "Pending_jobs", "skipped_jobs", "succeed_jobs", "running_jobs")


def upgrade():
    if op.get_bind().dialect.name not in ("mysql", "mariadb"):
        return  # SQLite's TEXT has no such cap
    for column in COLUMNS:
        op.alter_column("dss_workflow_execute_info", column, existing_type=sa.Text(),
                        type_=mysql.MEDIUMTEXT(), existing_nullable=True)


def downgrade():
    if op.get_bind().dialect.name not in ("mysql", "mariadb"):
        return
    for column in COLUMNS:
        op.alter_column("dss_workflow_execute_info", column, existing_type=mysql.MEDIUMTEXT(),
                        type_=sa.Text(), existing_nullable=True)
