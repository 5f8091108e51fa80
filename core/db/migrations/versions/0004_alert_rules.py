"""alert rules, their firings (one per rule, stream and episode), the delivery outbox and every attempt

Revision ID: 0004_alert_rules
Revises: 0003_anomaly_events
Create Date: 2026-12-02 19:15:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004_alert_rules"
down_revision = "0003_anomaly_events"
branch_labels = None
depends_on = None

NOW = sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "alert_rules",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("stream_ids", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("object_class", sa.String(length=100), server_default="", nullable=False),
        sa.Column("condition", sa.String(length=16), nullable=False),
        sa.Column("threshold", sa.Float(), server_default="0", nullable=False),
        sa.Column("minutes", sa.Integer(), server_default="0", nullable=False),
        sa.Column("webhook_url", sa.Text(), nullable=False),
        sa.Column("payload_format", sa.String(length=8), server_default="json", nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("cooldown_s", sa.Integer(), server_default="600", nullable=False),
        sa.Column("paused", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.CheckConstraint(
            "condition IN ('count_above', 'count_below', 'anomaly_score', 'stream_down')",
            name=op.f("ck_alert_rules_condition"),
        ),
        sa.CheckConstraint("payload_format IN ('json', 'slack')", name=op.f("ck_alert_rules_payload_format")),
        sa.CheckConstraint("minutes >= 0 AND cooldown_s >= 0", name=op.f("ck_alert_rules_durations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_rules")),
    )
    op.create_table(
        "alert_firings",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("stream_id", sa.Integer(), nullable=False),
        sa.Column("object_class", sa.String(length=100), server_default="", nullable=False),
        sa.Column("episode_key", sa.String(length=200), nullable=False),
        sa.Column("delivery_id", sa.String(length=36), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("observed", sa.Float(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["rule_id"], ["alert_rules.id"], name=op.f("fk_alert_firings_rule_id_alert_rules"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["stream_id"], ["streams.id"], name=op.f("fk_alert_firings_stream_id_streams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_firings")),
        sa.UniqueConstraint("delivery_id", name=op.f("uq_alert_firings_delivery_id")),
        sa.UniqueConstraint("rule_id", "stream_id", "episode_key", name="uq_alert_firings_episode"),
    )
    op.create_index("ix_alert_firings_rule_fired", "alert_firings", ["rule_id", "fired_at"])
    op.create_table(
        "alert_outbox",
        sa.Column("firing_id", sa.BigInteger(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint("state IN ('pending', 'delivered', 'failed')", name=op.f("ck_alert_outbox_state")),
        sa.ForeignKeyConstraint(
            ["firing_id"], ["alert_firings.id"], name=op.f("fk_alert_outbox_firing_id_alert_firings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("firing_id", name=op.f("pk_alert_outbox")),
    )
    op.create_index("ix_alert_outbox_due", "alert_outbox", ["state", "next_attempt_at"])
    op.create_table(
        "alert_deliveries",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("firing_id", sa.BigInteger(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('sending', 'delivered', 'failed', 'interrupted')", name=op.f("ck_alert_deliveries_status")
        ),
        sa.ForeignKeyConstraint(
            ["firing_id"], ["alert_firings.id"], name=op.f("fk_alert_deliveries_firing_id_alert_firings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_deliveries")),
    )
    op.create_index("ix_alert_deliveries_firing", "alert_deliveries", ["firing_id", "attempt"])


def downgrade() -> None:
    op.drop_index("ix_alert_deliveries_firing", table_name="alert_deliveries")
    op.drop_table("alert_deliveries")
    op.drop_index("ix_alert_outbox_due", table_name="alert_outbox")
    op.drop_table("alert_outbox")
    op.drop_index("ix_alert_firings_rule_fired", table_name="alert_firings")
    op.drop_table("alert_firings")
    op.drop_table("alert_rules")
