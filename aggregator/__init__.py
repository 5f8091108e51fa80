"""The aggregator: detections in, windowed object statistics out, with an exactly-once effect on Postgres."""
