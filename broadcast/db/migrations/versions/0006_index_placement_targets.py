"""index placement targets

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 11:50:23.818699
"""

from alembic import op
import sqlalchemy as sa
import broadcast.db.types


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('placement_targets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_placement_targets_area_id'), ['area_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_placement_targets_station_id'), ['station_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('placement_targets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_placement_targets_station_id'))
        batch_op.drop_index(batch_op.f('ix_placement_targets_area_id'))

