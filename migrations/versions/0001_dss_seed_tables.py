"""DSS seed tables: dss_workflow_task and dss_workflow_execute_info, as in the design document

Revision ID: 0001_dss_seed_tables
Revises: 
Create Date: 2026-11-25

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = "0001_dss_seed_tables"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('dss_workflow_execute_info',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('task_id', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.Integer().with_variant(mysql.INTEGER(display_width=1), 'mariadb').with_variant(mysql.INTEGER(display_width=1), 'mysql'), nullable=True),
    sa.Column('flow_id', sa.BigInteger(), nullable=False),
    sa.Column('version', sa.String(length=200), nullable=True),
    sa.Column('failed_jobs', sa.Text(), nullable=True),
    sa.Column('Pending_jobs', sa.Text(), nullable=True),
    sa.Column('skipped_jobs', sa.Text(), nullable=True),
    sa.Column('succeed_jobs', sa.Text(), nullable=True),
    sa.Column('createtime', sa.DateTime(), nullable=False),
    sa.Column('running_jobs', sa.Text(), nullable=True),
    sa.Column('updatetime', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dss_workflow_execute_info')),
    mysql_charset='utf8',
    mysql_engine='InnoDB'
    )
    op.create_table('dss_workflow_task',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('instance', sa.String(length=50), nullable=True),
    sa.Column('exec_id', sa.String(length=50), nullable=True),
    sa.Column('um_user', sa.String(length=50), nullable=True),
    sa.Column('submit_user', sa.String(length=50), nullable=True),
    sa.Column('execution_code', sa.Text(), nullable=True),
    sa.Column('progress', sa.Float(), nullable=True),
    sa.Column('log_path', sa.String(length=200), nullable=True),
    sa.Column('result_location', sa.String(length=200), nullable=True),
    sa.Column('status', sa.String(length=50), nullable=True),
    sa.Column('created_time', sa.DateTime(), nullable=True),
    sa.Column('updated_time', sa.DateTime(), nullable=True),
    sa.Column('run_type', sa.String(length=50), nullable=True),
    sa.Column('err_code', sa.Integer(), nullable=True),
    sa.Column('err_desc', sa.Text(), nullable=True),
    sa.Column('execute_application_name', sa.String(length=200), nullable=True),
    sa.Column('request_application_name', sa.String(length=200), nullable=True),
    sa.Column('script_path', sa.String(length=200), nullable=True),
    sa.Column('params', sa.Text(), nullable=True),
    sa.Column('engine_instance', sa.String(length=50), nullable=True),
    sa.Column('task_resource', sa.String(length=1024), nullable=True),
    sa.Column('engine_start_time', sa.Time(), nullable=True),
    sa.Column('label_json', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dss_workflow_task')),
    mysql_charset='utf8mb4',
    mysql_engine='InnoDB'
    )
    with op.batch_alter_table('dss_workflow_task', schema=None) as batch_op:
        batch_op.create_index('created_time', ['created_time'], unique=False)
        batch_op.create_index('um_user', ['um_user'], unique=False)


def downgrade():
    with op.batch_alter_table('dss_workflow_task', schema=None) as batch_op:
        batch_op.drop_index('um_user')
        batch_op.drop_index('created_time')

    op.drop_table('dss_workflow_task')
    op.drop_table('dss_workflow_execute_info')
