"""accounts: session epochs, forced password change, named expiring tokens, station token overlap; no lockout

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 18:10:00
"""

from alembic import op
import sqlalchemy as sa
import broadcast.db.types


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_epoch', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
        # Logins are throttled, never locked (broadcast.web.login_throttle): the lockout columns go.
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_logins')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prefix', sa.String(length=16), server_default='', nullable=False))
        batch_op.add_column(sa.Column('expires_at', broadcast.db.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('revoked_at', broadcast.db.types.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('stations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('previous_token_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('previous_token_expires_at', broadcast.db.types.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_stations_previous_token_sha256'),
                                          ['previous_token_sha256'])


def downgrade() -> None:
    with op.batch_alter_table('stations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_stations_previous_token_sha256'), type_='unique')
        batch_op.drop_column('previous_token_expires_at')
        batch_op.drop_column('previous_token_sha256')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('revoked_at')
        batch_op.drop_column('expires_at')
        batch_op.drop_column('prefix')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('must_change_password')
        batch_op.drop_column('session_epoch')
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('locked_until', broadcast.db.types.UTCDateTime(timezone=True), nullable=True))
