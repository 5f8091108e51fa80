"""Alert rules evaluated against windows, anomaly events and stream health; signed webhook delivery."""
