"""compile requests

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 11:21:00.735581
"""

from alembic import op
import sqlalchemy as sa
import broadcast.db.types


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('compile_requests',
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('requested_at', broadcast.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_compile_requests_station_id_stations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('station_id', name=op.f('pk_compile_requests'))
    )


def downgrade() -> None:
    op.drop_table('compile_requests')
