"""data exchange: upstream sources, the bulletins they sent, statistics pushes

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 18:21:16
"""

from alembic import op
import sqlalchemy as sa
import broadcast.db.types


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('statistics_pushes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('target', sa.String(length=500), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('state', sa.Enum('queued', 'sent', 'verified', 'failed', 'superseded', name='deliverystate', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('response_status', sa.Integer(), nullable=True),
    sa.Column('next_retry_at', broadcast.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', broadcast.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', broadcast.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', broadcast.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statistics_pushes')),
    sa.UniqueConstraint('day', 'target', name=op.f('uq_statistics_pushes_day_target'))
    )
    with op.batch_alter_table('statistics_pushes', schema=None) as batch_op:
        batch_op.create_index('ix_statistics_pushes_due', ['state', 'next_retry_at'], unique=False)

    op.create_table('upstream_sources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.Enum('json', 'rss', 'cap', name='sourcekind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=True),
    sa.Column('pull_token', sa.String(length=500), nullable=True),
    sa.Column('secret', sa.String(length=128), nullable=False),
    sa.Column('owner_area_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('pull_interval_s', sa.Integer(), nullable=False),
    sa.Column('next_pull_at', broadcast.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('etag', sa.String(length=300), nullable=True),
    sa.Column('last_modified', sa.String(length=100), nullable=True),
    sa.Column('last_pulled_at', broadcast.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_outcome', sa.String(length=20), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', broadcast.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', broadcast.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_upstream_sources_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_area_id'], ['areas.id'], name=op.f('fk_upstream_sources_owner_area_id_areas'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_upstream_sources')),
    sa.UniqueConstraint('name', name=op.f('uq_upstream_sources_name'))
    )
    op.create_table('received_bulletins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('source_ref', sa.String(length=300), nullable=False),
    sa.Column('via', sa.String(length=10), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('emergency_id', sa.Integer(), nullable=True),
    sa.Column('warning', sa.Text(), nullable=True),
    sa.Column('received_at', broadcast.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['emergency_id'], ['emergency_broadcasts.id'], name=op.f('fk_received_bulletins_emergency_id_emergency_broadcasts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['item_id'], ['news_items.id'], name=op.f('fk_received_bulletins_item_id_news_items'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['source_id'], ['upstream_sources.id'], name=op.f('fk_received_bulletins_source_id_upstream_sources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_received_bulletins')),
    sa.UniqueConstraint('source_id', 'source_ref', name=op.f('uq_received_bulletins_source_id_source_ref'))
    )
    with op.batch_alter_table('received_bulletins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_received_bulletins_item_id'), ['item_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('received_bulletins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_received_bulletins_item_id'))

    op.drop_table('received_bulletins')
    op.drop_table('upstream_sources')
    with op.batch_alter_table('statistics_pushes', schema=None) as batch_op:
        batch_op.drop_index('ix_statistics_pushes_due')

    op.drop_table('statistics_pushes')
