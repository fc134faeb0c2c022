"""area outlines: boundaries imported from a GeoJSON file, drawn on the station map

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 12:00:00
"""

from alembic import op
import sqlalchemy as sa
import broadcast.db.types


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('area_outlines',
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('geometry', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('imported_by', sa.String(length=80), nullable=False),
    sa.Column('imported_at', broadcast.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['areas.id'], name=op.f('fk_area_outlines_area_id_areas'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('area_id', name=op.f('pk_area_outlines'))
    )


def downgrade() -> None:
    op.drop_table('area_outlines')
