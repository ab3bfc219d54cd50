"""flowexec tables: flow versions, executions, node runs

Revision ID: 0002_flowexec_tables
Revises: 0001_dss_seed_tables
Create Date: 2026-11-25

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = "0002_flowexec_tables"
down_revision = "0001_dss_seed_tables"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('flowexec_flow_version',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('flow_id', sa.BigInteger(), nullable=False),
    sa.Column('version', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('definition', sa.Text().with_variant(mysql.LONGTEXT(), 'mariadb').with_variant(mysql.LONGTEXT(), 'mysql'), nullable=False),
    sa.Column('scripts', sa.Text().with_variant(mysql.LONGTEXT(), 'mariadb').with_variant(mysql.LONGTEXT(), 'mysql'), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('source_path', sa.String(length=1024), nullable=True),
    sa.Column('created_by', sa.String(length=50), nullable=True),
    sa.Column('created_time', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flowexec_flow_version')),
    sa.UniqueConstraint('flow_id', 'version', name=op.f('uq_flowexec_flow_version_flow_id')),
    mysql_charset='utf8mb4',
    mysql_engine='InnoDB'
    )
    with op.batch_alter_table('flowexec_flow_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flowexec_flow_version_content_hash'), ['content_hash'], unique=False)

    op.create_table('flowexec_execution',
    sa.Column('task_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('flow_id', sa.BigInteger(), nullable=False),
    sa.Column('version', sa.String(length=200), nullable=False),
    sa.Column('strategy', sa.String(length=32), nullable=False),
    sa.Column('node_ids', sa.Text(), nullable=True),
    sa.Column('failure_policy', sa.String(length=32), nullable=False),
    sa.Column('total_nodes', sa.Integer(), nullable=False),
    sa.Column('settled_nodes', sa.Integer(), nullable=False),
    sa.Column('failed_nodes', sa.Integer(), nullable=False),
    sa.Column('cancel_requested', sa.Boolean(), nullable=False),
    sa.Column('started_time', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.Column('finished_time', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=True),
    sa.ForeignKeyConstraint(['task_id'], ['dss_workflow_task.id'], name=op.f('fk_flowexec_execution_task_id_dss_workflow_task'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('task_id', name=op.f('pk_flowexec_execution')),
    mysql_charset='utf8mb4',
    mysql_engine='InnoDB'
    )
    with op.batch_alter_table('flowexec_execution', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flowexec_execution_flow_id'), ['flow_id'], unique=False)

    op.create_table('flowexec_node_run',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('task_id', sa.BigInteger(), nullable=False),
    sa.Column('node_key', sa.String(length=128), nullable=False),
    sa.Column('title', sa.String(length=128), nullable=False),
    sa.Column('job_type', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('pending_parents', sa.Integer(), nullable=False),
    sa.Column('children', sa.Text().with_variant(mysql.LONGTEXT(), 'mariadb').with_variant(mysql.LONGTEXT(), 'mysql'), nullable=False),
    sa.Column('spec', sa.Text().with_variant(mysql.LONGTEXT(), 'mariadb').with_variant(mysql.LONGTEXT(), 'mysql'), nullable=True),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('retries_left', sa.Integer(), nullable=False),
    sa.Column('polls', sa.Integer(), nullable=False),
    sa.Column('linkis_exec_id', sa.String(length=255), nullable=True),
    sa.Column('linkis_task_id', sa.BigInteger(), nullable=True),
    sa.Column('log_path', sa.String(length=1024), nullable=True),
    sa.Column('result_location', sa.String(length=1024), nullable=True),
    sa.Column('progress', sa.Float(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('queued_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=True),
    sa.Column('started_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=True),
    sa.Column('finished_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=True),
    sa.Column('next_poll_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=True),
    sa.Column('updated_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['dss_workflow_task.id'], name=op.f('fk_flowexec_node_run_task_id_dss_workflow_task'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flowexec_node_run')),
    sa.UniqueConstraint('task_id', 'node_key', name=op.f('uq_flowexec_node_run_task_id')),
    mysql_charset='utf8mb4',
    mysql_engine='InnoDB'
    )
    with op.batch_alter_table('flowexec_node_run', schema=None) as batch_op:
        batch_op.create_index('ix_flowexec_node_run_state_poll', ['state', 'next_poll_at'], unique=False)
        batch_op.create_index('ix_flowexec_node_run_state_queued', ['state', 'queued_at'], unique=False)


def downgrade():
    with op.batch_alter_table('flowexec_node_run', schema=None) as batch_op:
        batch_op.drop_index('ix_flowexec_node_run_state_queued')
        batch_op.drop_index('ix_flowexec_node_run_state_poll')

    op.drop_table('flowexec_node_run')
    with op.batch_alter_table('flowexec_execution', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flowexec_execution_flow_id'))

    op.drop_table('flowexec_execution')
    with op.batch_alter_table('flowexec_flow_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flowexec_flow_version_content_hash'))

    op.drop_table('flowexec_flow_version')
