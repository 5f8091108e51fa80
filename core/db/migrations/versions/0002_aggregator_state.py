"""aggregator state: counted sequences and first-seen track ids per reader session, snapshots of open windows

Revision ID: 0002_aggregator_state
Revises: 0001
Create Date: 2026-11-24 09:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002_aggregator_state"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "aggregator_sessions",
        sa.Column("stream_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("seqs", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["stream_id"], ["streams.id"], name=op.f("fk_aggregator_sessions_stream_id_streams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("stream_id", "session_id", "model", name=op.f("pk_aggregator_sessions")),
    )
    op.create_table(
        "aggregator_tracks",
        sa.Column("stream_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("object_class", sa.String(length=100), nullable=False),
        sa.Column("track_id", sa.BigInteger(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["stream_id"], ["streams.id"], name=op.f("fk_aggregator_tracks_stream_id_streams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint(
            "stream_id", "session_id", "model", "object_class", "track_id", name=op.f("pk_aggregator_tracks")
        ),
    )
    op.create_table(
        "aggregator_open",
        sa.Column("stream_id", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["stream_id"], ["streams.id"], name=op.f("fk_aggregator_open_stream_id_streams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("stream_id", "window_start", name=op.f("pk_aggregator_open")),
    )

def downgrade() -> None:
    op.drop_table("aggregator_open")
    op.drop_table("aggregator_tracks")
    op.drop_table("aggregator_sessions")
