"""scheduling orders and station manifests

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 11:09:34.590591
"""

from alembic import op
import sqlalchemy as sa
import broadcast.db.types


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('station_manifests',
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('etag', sa.String(length=80), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('compiled_at', broadcast.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_station_manifests_station_id_stations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('station_id', name=op.f('pk_station_manifests'))
    )
    op.create_table('priority_orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('commune_id', sa.Integer(), nullable=False),
    sa.Column('placement_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['commune_id'], ['areas.id'], name=op.f('fk_priority_orders_commune_id_areas'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['placement_id'], ['placements.id'], name=op.f('fk_priority_orders_placement_id_placements'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_priority_orders')),
    sa.UniqueConstraint('commune_id', 'placement_id', name=op.f('uq_priority_orders_commune_id_placement_id'))
    )
    with op.batch_alter_table('priority_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_priority_orders_commune_id'), ['commune_id'], unique=False)

    with op.batch_alter_table('placements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('placed_by_area_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_placements_placed_by_area_id_areas'), 'areas', ['placed_by_area_id'], ['id'], ondelete='SET NULL')



def downgrade() -> None:
    with op.batch_alter_table('placements', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_placements_placed_by_area_id_areas'), type_='foreignkey')
        batch_op.drop_column('placed_by_area_id')

    with op.batch_alter_table('priority_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_priority_orders_commune_id'))

    op.drop_table('priority_orders')
    op.drop_table('station_manifests')
