"""anomaly events: spikes and drops against a stream's own baseline, stream down and frozen episodes

Revision ID: 0003_anomaly_events
Revises: 0002_aggregator_state
Create Date: 2026-12-02 19:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_anomaly_events"
down_revision = "0002_aggregator_state"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "anomaly_events",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("stream_id", sa.Integer(), nullable=False),
        sa.Column("object_class", sa.String(length=100), server_default="", nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("observed", sa.Float(), nullable=True),
        sa.Column("expected", sa.Float(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("kind IN ('spike', 'drop', 'down', 'frozen')", name=op.f("ck_anomaly_events_kind")),
        sa.ForeignKeyConstraint(
            ["stream_id"], ["streams.id"], name=op.f("fk_anomaly_events_stream_id_streams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_anomaly_events")),
        sa.UniqueConstraint("stream_id", "object_class", "kind", "started_at", name="uq_anomaly_events_episode"),
    )
    op.create_index("ix_anomaly_events_started_at", "anomaly_events", ["started_at"])


def downgrade() -> None:
    op.drop_index("ix_anomaly_events_started_at", table_name="anomaly_events")
    op.drop_table("anomaly_events")
