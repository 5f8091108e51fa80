"""aggregator_closed: written windows' full state, so late detections update their rows (issue 16)

Revision ID: 0006_faults
Revises: 0004_alert_rules
Create Date: 2026-12-02 20:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006_faults"
down_revision = "0004_alert_rules"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "aggregator_closed",
        sa.Column("stream_id", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["stream_id"], ["streams.id"], name=op.f("fk_aggregator_closed_stream_id_streams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("stream_id", "window_start", name=op.f("pk_aggregator_closed")),
    )


def downgrade() -> None:
    op.drop_table("aggregator_closed")
