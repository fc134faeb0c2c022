"""live announcements: sessions, their areas and stations, and the play_stream command kind

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 07:40:00
"""

from alembic import op
import sqlalchemy as sa
import broadcast.db.types


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

OLD_KINDS = "'play_now', 'stop', 'set_volume', 'emergency', 'cancel_emergency'"
NEW_KINDS = OLD_KINDS + ", 'play_stream'"


def upgrade() -> None:
    op.create_table('live_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('mount', sa.String(length=100), nullable=False),
    sa.Column('state', sa.Enum('starting', 'on_air', 'ended', name='livestate', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('started_by_id', sa.Integer(), nullable=True),
    sa.Column('opened_at', broadcast.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('on_air_at', broadcast.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('until', broadcast.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_audio_at', broadcast.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_at', broadcast.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_by_id', sa.Integer(), nullable=True),
    sa.Column('end_reason', sa.Enum('stopped', 'dropped', 'time_up', 'failed', name='liveend', native_enum=False, create_constraint=True), nullable=True),
    sa.ForeignKeyConstraint(['ended_by_id'], ['users.id'], name=op.f('fk_live_sessions_ended_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['started_by_id'], ['users.id'], name=op.f('fk_live_sessions_started_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_live_sessions')),
    sa.UniqueConstraint('mount', name=op.f('uq_live_sessions_mount'))
    )
    with op.batch_alter_table('live_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_live_sessions_state'), ['state'], unique=False)

    op.create_table('live_areas',
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['areas.id'], name=op.f('fk_live_areas_area_id_areas'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['session_id'], ['live_sessions.id'], name=op.f('fk_live_areas_session_id_live_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('session_id', 'area_id', name=op.f('pk_live_areas'))
    )
    op.create_table('live_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('play_command_id', sa.Integer(), nullable=True),
    sa.Column('stop_command_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['play_command_id'], ['station_commands.id'], name=op.f('fk_live_targets_play_command_id_station_commands'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['live_sessions.id'], name=op.f('fk_live_targets_session_id_live_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_live_targets_station_id_stations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['stop_command_id'], ['station_commands.id'], name=op.f('fk_live_targets_stop_command_id_station_commands'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_live_targets')),
    sa.UniqueConstraint('session_id', 'station_id', name=op.f('uq_live_targets_session_id_station_id'))
    )
    with op.batch_alter_table('live_targets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_live_targets_station_id'), ['station_id'], unique=False)

    # The command kinds are a VARCHAR(16) with a CHECK constraint: "play_stream" fits, the check is widened.
    with op.batch_alter_table('station_commands', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_station_commands_commandkind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_station_commands_commandkind'), sa.text(f"kind IN ({NEW_KINDS})"))


def downgrade() -> None:
    op.execute("DELETE FROM station_commands WHERE kind = 'play_stream'")
    with op.batch_alter_table('station_commands', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_station_commands_commandkind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_station_commands_commandkind'), sa.text(f"kind IN ({OLD_KINDS})"))

    with op.batch_alter_table('live_targets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_live_targets_station_id'))
    op.drop_table('live_targets')
    op.drop_table('live_areas')
    with op.batch_alter_table('live_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_live_sessions_state'))
    op.drop_table('live_sessions')
