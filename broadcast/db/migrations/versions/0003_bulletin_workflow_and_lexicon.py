"""bulletin workflow and lexicon

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 10:35:43.553536
"""

from alembic import op
import sqlalchemy as sa
import broadcast.db.types


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('lexicon_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('term', sa.String(length=60), nullable=False),
    sa.Column('reading', sa.String(length=300), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', broadcast.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', broadcast.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_lexicon_entries_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lexicon_entries')),
    sa.UniqueConstraint('term', name=op.f('uq_lexicon_entries_term'))
    )
    with op.batch_alter_table('audio_assets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('render_key', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_audio_assets_render_key'), ['render_key'])

    with op.batch_alter_table('news_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_source', sa.Enum('speech', 'recording', name='contentsource', native_enum=False, create_constraint=True), server_default='speech', nullable=False))
        batch_op.add_column(sa.Column('render_state', sa.Enum('none', 'pending', 'ready', 'failed', name='renderstate', native_enum=False, create_constraint=True), server_default='none', nullable=False))
        batch_op.add_column(sa.Column('render_warning', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('render_error', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('rendered_engine', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('rendered_at', broadcast.db.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('submitted_at', broadcast.db.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('approved_at', broadcast.db.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('approved_by_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_news_items_render_state'), ['render_state'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_news_items_approved_by_id_users'), 'users', ['approved_by_id'], ['id'], ondelete='SET NULL')



def downgrade() -> None:
    with op.batch_alter_table('audio_assets', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audio_assets_render_key'), type_='unique')
        batch_op.drop_column('render_key')

    with op.batch_alter_table('news_items', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_news_items_approved_by_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_news_items_render_state'))
        batch_op.drop_column('approved_by_id')
        batch_op.drop_column('approved_at')
        batch_op.drop_column('submitted_at')
        batch_op.drop_column('rendered_at')
        batch_op.drop_column('rendered_engine')
        batch_op.drop_column('render_error')
        batch_op.drop_column('render_warning')
        batch_op.drop_column('render_state')
        batch_op.drop_column('content_source')

    op.drop_table('lexicon_entries')
