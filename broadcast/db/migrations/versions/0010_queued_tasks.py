"""work handed to the task queue

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 18:05:00
"""

from alembic import op
import sqlalchemy as sa
import broadcast.db.types


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('queued_tasks',
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('queued_at', broadcast.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_queued_tasks'))
    )


def downgrade() -> None:
    op.drop_table('queued_tasks')
