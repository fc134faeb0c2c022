"""live relay items: a news item's content may be a stream (URL and window)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 08:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

OLD_SOURCES = "'speech', 'recording'"
NEW_SOURCES = "'speech', 'recording', 'stream'"


def upgrade() -> None:
    # The content sources are a VARCHAR with a CHECK constraint: widen the constraint for the relay.
    with op.batch_alter_table('news_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stream_url', sa.String(length=1000), nullable=True))
        batch_op.add_column(sa.Column('stream_duration_s', sa.Integer(), nullable=True))
        batch_op.drop_constraint(op.f('ck_news_items_contentsource'), type_='check')
        batch_op.create_check_constraint(op.f('ck_news_items_contentsource'),
                                         sa.text(f"content_source IN ({NEW_SOURCES})"))


def downgrade() -> None:
    # A relay has no audio to fall back to: its items go back to drafts read by a voice, with an empty text
    # rather than a stream no older version can air.
    op.execute("UPDATE news_items SET content_source = 'speech', status = 'draft' WHERE content_source = 'stream'")
    with op.batch_alter_table('news_items', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_news_items_contentsource'), type_='check')
        batch_op.create_check_constraint(op.f('ck_news_items_contentsource'),
                                         sa.text(f"content_source IN ({OLD_SOURCES})"))
        batch_op.drop_column('stream_duration_s')
        batch_op.drop_column('stream_url')
