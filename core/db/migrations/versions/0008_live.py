"""live updates: a short-lived event log written by triggers, with NOTIFY to wake the API's listeners

Revision ID: 0008_live
Revises: 0006_faults
Create Date: 2026-12-02 19:50:00

The writers (reader, aggregator, anomaly job) need no change: row triggers on ``streams`` (status changes),
``frame_windows`` (a window written), ``anomaly_events`` (an episode opened or closed) and ``alert_firings`` (a
rule fired) append a row to
``live_events`` and ``pg_notify('streamscope_live', '')`` in the writer's transaction, so the event becomes
visible (and the notification is delivered) exactly when the data it announces is committed. The log makes
``Last-Event-ID`` resume and the API's poll fallback possible; the API prunes it (STREAMSCOPE_LIVE_RETENTION_MINUTES).
Another table can announce itself with one ``CREATE TRIGGER ... EXECUTE FUNCTION streamscope_live_event('<kind>')``
(its rows need a ``stream_id``).
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_live"
down_revision = "0006_faults"  # main has the alerts (0004) and faults (0006) migrations (merged)
branch_labels = None
depends_on = None

FUNCTION = """
CREATE FUNCTION streamscope_live_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    event_kind text := TG_ARGV[0];
    body jsonb;
    sid integer;
BEGIN
    IF event_kind = 'status' THEN
        sid := NEW.id;
        body := jsonb_build_object('stream_id', NEW.id, 'status', NEW.status, 'status_reason', NEW.status_reason,
                                   'status_changed_at', NEW.status_changed_at);
    ELSIF event_kind = 'window' THEN
        sid := NEW.stream_id;
        body := jsonb_build_object('stream_id', NEW.stream_id, 'window_start', NEW.window_start,
                                   'window_end', NEW.window_end, 'model', NEW.model, 'frames', NEW.frames);
    ELSE
        sid := NEW.stream_id;
        body := to_jsonb(NEW) - 'updated_at';
    END IF;
    INSERT INTO live_events (stream_id, kind, payload) VALUES (sid, event_kind, body);
    -- One notification per channel and payload per transaction: a window upsert of 50 streams wakes once.
    PERFORM pg_notify('streamscope_live', '');
    RETURN NULL;
END
$$
"""

TRIGGERS = [
    "CREATE TRIGGER live_stream_status AFTER UPDATE OF status ON streams FOR EACH ROW "
    "WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION streamscope_live_event('status')",
    "CREATE TRIGGER live_frame_window AFTER INSERT OR UPDATE ON frame_windows FOR EACH ROW "
    "EXECUTE FUNCTION streamscope_live_event('window')",
    "CREATE TRIGGER live_anomaly_opened AFTER INSERT ON anomaly_events FOR EACH ROW "
    "EXECUTE FUNCTION streamscope_live_event('anomaly')",
    "CREATE TRIGGER live_anomaly_closed AFTER UPDATE OF ended_at ON anomaly_events FOR EACH ROW "
    "WHEN (OLD.ended_at IS DISTINCT FROM NEW.ended_at) EXECUTE FUNCTION streamscope_live_event('anomaly')",
    "CREATE TRIGGER live_alert_fired AFTER INSERT ON alert_firings FOR EACH ROW "
    "EXECUTE FUNCTION streamscope_live_event('alert')",
]
TRIGGER_TABLES = {"live_stream_status": "streams", "live_frame_window": "frame_windows",
                  "live_anomaly_opened": "anomaly_events", "live_anomaly_closed": "anomaly_events",
                  "live_alert_fired": "alert_firings"}


def upgrade() -> None:
    op.create_table(
        "live_events",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("stream_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("payload", sa.dialects.postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_events")),
    )
    op.create_index("ix_live_events_created_at", "live_events", ["created_at"])
    op.execute(FUNCTION)
    for statement in TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    for trigger, table in TRIGGER_TABLES.items():
        op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
    op.execute("DROP FUNCTION IF EXISTS streamscope_live_event()")
    op.drop_index("ix_live_events_created_at", table_name="live_events")
    op.drop_table("live_events")
