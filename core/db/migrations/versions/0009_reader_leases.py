"""reader leases: one publishing reader run per stream, handed over to the next scheduled run

Revision ID: 0009_reader_leases
Revises: 0008_live
Create Date: 2026-12-03 06:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_reader_leases"
down_revision = "0008_live"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reader_leases",
        sa.Column("stream_id", sa.Integer(), sa.ForeignKey("streams.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("holder", sa.String(64)),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
        sa.Column("session_id", sa.String(36)),
        sa.Column("next_seq", sa.BigInteger()),
        sa.Column("last_media_s", sa.Float()),
        sa.Column("last_captured_at", sa.DateTime(timezone=True)),
        sa.Column("released_at", sa.DateTime(timezone=True)),
        sa.Column("successor", sa.String(64)),
        sa.Column("successor_seen_at", sa.DateTime(timezone=True)),
        sa.Column("successor_ready", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("reader_leases")
