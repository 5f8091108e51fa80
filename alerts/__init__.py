"""Alerts: anomalies against each stream's own baseline, and the rules and webhooks that act on them."""
