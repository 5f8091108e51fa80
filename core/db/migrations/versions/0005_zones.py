"""zones and counting lines: versioned definitions, occupancy and crossing statistics, the aggregator's state

Revision ID: 0005_zones
Revises: 0004_alert_rules
Create Date: 2026-12-02 19:10:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005_zones"
down_revision = "0004_alert_rules"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def _stream_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["stream_id"], ["streams.id"], name=op.f(f"fk_{table}_stream_id_streams"),
                                   ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "zones",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("stream_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("points", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", TZ, server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", TZ, server_default=sa.text("now()"), nullable=False),
        sa.Column("deleted_at", TZ, nullable=True),
        sa.CheckConstraint("kind IN ('zone', 'line')", name=op.f("ck_zones_kind")),
        _stream_fk("zones"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_zones")),
    )
    op.create_index("ix_zones_stream_id", "zones", ["stream_id"])
    op.create_index("uq_zones_live_name", "zones", ["stream_id", "kind", "name"], unique=True,
                    postgresql_where=sa.text("deleted_at IS NULL"))
    op.create_table(
        "zone_versions",
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("points", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", TZ, server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["zone_id"], ["zones.id"], name=op.f("fk_zone_versions_zone_id_zones"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("zone_id", "version", name=op.f("pk_zone_versions")),
    )
    op.create_table(
        "zone_occupancy",
        sa.Column("stream_id", sa.Integer(), nullable=False),
        sa.Column("window_start", TZ, nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("zone_version", sa.Integer(), nullable=False),
        sa.Column("object_class", sa.String(length=100), nullable=False),
        sa.Column("window_end", TZ, nullable=False),
        sa.Column("frames", sa.Integer(), nullable=False),
        sa.Column("detections", sa.Integer(), nullable=False),
        sa.Column("mean_per_frame", sa.Float(), nullable=False),
        sa.Column("max_per_frame", sa.Integer(), nullable=False),
        sa.Column("objects", sa.Integer(), nullable=False),
        sa.Column("dwell_seconds", sa.Float(), nullable=False),
        sa.Column("updated_at", TZ, server_default=sa.text("now()"), nullable=False),
        _stream_fk("zone_occupancy"),
        sa.ForeignKeyConstraint(["zone_id"], ["zones.id"], name=op.f("fk_zone_occupancy_zone_id_zones"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("stream_id", "window_start", "model", "zone_id", "zone_version", "object_class",
                                name=op.f("pk_zone_occupancy")),
    )
    op.create_table(
        "line_crossings",
        sa.Column("stream_id", sa.Integer(), nullable=False),
        sa.Column("window_start", TZ, nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("line_version", sa.Integer(), nullable=False),
        sa.Column("object_class", sa.String(length=100), nullable=False),
        sa.Column("window_end", TZ, nullable=False),
        sa.Column("crossings_in", sa.Integer(), nullable=False),
        sa.Column("crossings_out", sa.Integer(), nullable=False),
        sa.Column("updated_at", TZ, server_default=sa.text("now()"), nullable=False),
        _stream_fk("line_crossings"),
        sa.ForeignKeyConstraint(["line_id"], ["zones.id"], name=op.f("fk_line_crossings_line_id_zones"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("stream_id", "window_start", "model", "line_id", "line_version", "object_class",
                                name=op.f("pk_line_crossings")),
    )
    op.create_table(
        "aggregator_zone_state",
        sa.Column("stream_id", sa.Integer(), nullable=False),
        sa.Column("state", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("updated_at", TZ, server_default=sa.text("now()"), nullable=False),
        _stream_fk("aggregator_zone_state"),
        sa.PrimaryKeyConstraint("stream_id", name=op.f("pk_aggregator_zone_state")),
    )


def downgrade() -> None:
    op.drop_table("aggregator_zone_state")
    op.drop_table("line_crossings")
    op.drop_table("zone_occupancy")
    op.drop_table("zone_versions")
    op.drop_index("uq_zones_live_name", table_name="zones")
    op.drop_index("ix_zones_stream_id", table_name="zones")
    op.drop_table("zones")
