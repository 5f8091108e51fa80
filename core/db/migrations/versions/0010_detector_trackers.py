"""detector trackers: each stream's tracker state, so track ids survive a detector restart

Revision ID: 0010_detector_trackers
Revises: 0009_reader_leases
Create Date: 2026-12-03 09:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0010_detector_trackers"
down_revision = "0009_reader_leases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "detector_trackers",
        sa.Column("stream_id", sa.Integer(), sa.ForeignKey("streams.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("session_id", sa.String(36), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("state", JSONB(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("detector_trackers")
