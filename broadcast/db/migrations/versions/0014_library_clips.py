"""media library: fillers and jingles with a title, a language, an owning area and who uploaded them

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 07:30:00
"""

from alembic import op
import sqlalchemy as sa
import broadcast.db.types


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('library_clips',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('audio_asset_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('language', sa.String(length=10), nullable=True),
    sa.Column('owner_area_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', broadcast.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['audio_asset_id'], ['audio_assets.id'],
                            name=op.f('fk_library_clips_audio_asset_id_audio_assets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_area_id'], ['areas.id'], name=op.f('fk_library_clips_owner_area_id_areas'),
                            ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_library_clips_uploaded_by_id_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_library_clips'))
    )
    with op.batch_alter_table('library_clips', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_library_clips_audio_asset_id'), ['audio_asset_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_library_clips_owner_area_id'), ['owner_area_id'], unique=False)
    # The fillers slots already use come into the library under the slot's name, in the slot's area.
    op.execute(
        "INSERT INTO library_clips (audio_asset_id, kind, title, language, owner_area_id, uploaded_by_id, created_at)"
        " SELECT s.filler_asset_id, 'filler', MIN(s.name), NULL, COALESCE(s.area_id, st.commune_id), NULL,"
        " MIN(a.created_at)"
        " FROM slots s JOIN audio_assets a ON a.id = s.filler_asset_id LEFT JOIN stations st ON st.id = s.station_id"
        " WHERE s.filler_asset_id IS NOT NULL"
        " GROUP BY s.filler_asset_id, COALESCE(s.area_id, st.commune_id)")


def downgrade() -> None:
    with op.batch_alter_table('library_clips', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_library_clips_owner_area_id'))
        batch_op.drop_index(batch_op.f('ix_library_clips_audio_asset_id'))
    op.drop_table('library_clips')
