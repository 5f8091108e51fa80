"""The rules' pure logic: episodes from windows, events and outages; one firing per episode; cooldown;
signatures that verify and refuse tampering or replay; rule validation naming the field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alerts import delivery
from alerts.rules import AnomalyRow, PastFiring, WindowCount, anomaly_episodes, count_episodes, decide, down_episode
from core import alert_rules
from core.registry import InvalidInput
from core.source_policy import SourcePolicy

T0 = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
LOCAL = SourcePolicy(allow_local=True, schemes=frozenset({"http", "https"}))
PUBLIC_ONLY = SourcePolicy(allow_local=False, schemes=frozenset({"http", "https"}))


def windows(means: list[float | None], start: datetime = T0) -> list[WindowCount]:
    out = []
    for i, mean in enumerate(means):
        if mean is not None:
            begin = start + timedelta(minutes=i)
            out.append(WindowCount(begin, begin + timedelta(minutes=1), 60, round(mean * 60)))
    return out


def test_a_run_above_fires_once_it_lasts_the_minutes():
    episodes = count_episodes(1, "person", windows([1, 6, 7, 8, 2, 9, 9]), above=True, threshold=5, minutes=3)
    assert [(e.started_at, e.last_at, e.qualifies) for e in episodes] == [
        (T0 + timedelta(minutes=1), T0 + timedelta(minutes=4), True),
        (T0 + timedelta(minutes=5), T0 + timedelta(minutes=7), False),  # two minutes only (so far)
    ]
    assert episodes[0].observed == 8.0 and "person" in episodes[0].summary


def test_a_gap_breaks_a_run_and_an_outage_is_not_below():
    above = count_episodes(1, "person", windows([6, 6, None, 6, 6]), above=True, threshold=5, minutes=3)
    assert [e.qualifies for e in above] == [False, False]
    below = count_episodes(1, "person", windows([None, None, None]), above=False, threshold=1, minutes=1)
    assert below == []
    zeros = count_episodes(1, "person", windows([0, 0, 0]), above=False, threshold=1, minutes=3)
    assert len(zeros) == 1 and zeros[0].qualifies  # zero counts are data


def test_decide_fires_once_per_episode_and_extends_a_long_one():
    first = count_episodes(1, "person", windows([6, 6, 6]), above=True, threshold=5, minutes=3)[0]
    assert decide(first, [], cooldown_s=0, now=T0).fire
    fired = PastFiring(first.key, first.started_at, first.last_at, T0 + timedelta(minutes=3))
    again = decide(first, [fired], cooldown_s=0, now=T0 + timedelta(minutes=4))
    assert not again.fire and again.extend == first.key
    # Seen later with its start beyond the lookback: the stretch overlaps the firing, so it is the same episode.
    later = count_episodes(1, "person", windows([6, 6, 6, 6], start=T0 + timedelta(minutes=2)), above=True,
                           threshold=5, minutes=3)[0]
    assert later.key != first.key and decide(later, [fired], cooldown_s=0, now=T0).extend == first.key


def test_a_new_rule_does_not_fire_on_episodes_long_over():
    (episode,) = count_episodes(1, "person", windows([6, 6, 6]), above=True, threshold=5, minutes=3)
    assert not decide(episode, [], cooldown_s=0, now=T0, not_before=T0 + timedelta(minutes=4)).fire
    assert decide(episode, [], cooldown_s=0, now=T0, not_before=T0 + timedelta(minutes=3)).fire  # still going then


def test_a_new_episode_fires_after_the_cooldown_only():
    first, second = count_episodes(1, "person", windows([6, 6, 6, 0, 6, 6, 6]), above=True, threshold=5, minutes=3)
    fired = PastFiring(first.key, first.started_at, first.last_at, T0 + timedelta(minutes=3))
    held = decide(second, [fired], cooldown_s=600, now=T0 + timedelta(minutes=7))
    assert not held.fire and held.held_by_cooldown
    assert decide(second, [fired], cooldown_s=600, now=T0 + timedelta(minutes=14)).fire
    assert decide(second, [fired], cooldown_s=0, now=T0 + timedelta(minutes=7)).fire


def test_anomaly_events_above_k_are_episodes_of_their_own():
    rows = [AnomalyRow(1, 7, "person", "spike", T0, None, 9, 2, 4.5),
            AnomalyRow(2, 7, "person", "drop", T0, T0 + timedelta(minutes=5), 0, 2, -3.5),
            AnomalyRow(3, 7, "car", "spike", T0, None, 9, 2, 9.0),
            AnomalyRow(4, 7, "", "down", T0, None, None, None, None)]
    found = anomaly_episodes(rows, threshold=4, object_class="person", now=T0)
    assert [(e.key, e.qualifies) for e in found] == [("anomaly:1", True), ("anomaly:2", False)]
    assert len(anomaly_episodes(rows, threshold=3, object_class="", now=T0)) == 3  # any class; 'down' is not one
    fired = PastFiring("anomaly:1", T0, T0, T0)
    assert decide(found[0], [fired], cooldown_s=0, now=T0, grace=None).extend == "anomaly:1"
    other = anomaly_episodes(rows, threshold=3, object_class="person", now=T0)[1]
    assert decide(other, [fired], cooldown_s=0, now=T0, grace=None).fire  # overlapping, yet another event


def test_stream_down_for_n_minutes_and_reconnecting_then_failed_is_one_outage():
    assert down_episode(1, "live", T0, minutes=5, now=T0 + timedelta(hours=1)) is None
    assert down_episode(1, "paused", T0, minutes=5, now=T0 + timedelta(hours=1)) is None
    early = down_episode(1, "reconnecting", T0, minutes=5, now=T0 + timedelta(minutes=4))
    assert early is not None and not early.qualifies
    due = down_episode(1, "reconnecting", T0, minutes=5, now=T0 + timedelta(minutes=5))
    assert due is not None and due.qualifies
    fired = PastFiring(due.key, T0, T0 + timedelta(minutes=10), T0 + timedelta(minutes=5))
    failed_at = T0 + timedelta(minutes=10, seconds=30)
    failed = down_episode(1, "failed", failed_at, minutes=5, now=T0 + timedelta(minutes=20))
    assert decide(failed, [fired], cooldown_s=0, now=T0, grace=timedelta(minutes=5)).extend == due.key


def test_signature_verifies_and_refuses_tampering_and_replay():
    body = b'{"id":"x"}'
    heads = delivery.headers("whsec_secret", "d-1", body, timestamp=1_700_000_000)
    assert delivery.verify("whsec_secret", heads, body, now=1_700_000_010)
    assert not delivery.verify("whsec_secret", heads, body + b" ", now=1_700_000_010)
    assert not delivery.verify("another", heads, body, now=1_700_000_010)
    assert not delivery.verify("whsec_secret", heads, body, now=1_700_000_000 + 301)  # replayed later
    assert heads["X-Streamscope-Delivery"] == heads["Idempotency-Key"] == "d-1"


def test_retry_schedule_doubles_up_to_the_maximum():
    delays = [delivery.retry_delay(n, 2.0, 10.0) for n in range(1, 6)]
    for delay, base in zip(delays, [2, 4, 8, 10, 10], strict=True):
        assert base * 0.8 <= delay <= base
    assert [delivery.retryable(s) for s in (None, 500, 503, 429, 408, 400, 404, 410)] == [True] * 5 + [False] * 3


def test_slack_payload_has_text():
    import json

    body = json.loads(delivery.payload("slack", delivery_id="d", rule={"name": "r"}, stream={"name": "s"},
                                       episode={}, summary="person: 9 per frame", fired_at=T0))
    assert body["text"].startswith("streamscope alert 'r' on s") and body["blocks"][0]["type"] == "section"


RULE = {"name": "busy", "condition": "count_above", "object_class": "Traffic  Light", "threshold": 2, "minutes": 5,
        "webhook_url": "http://127.0.0.1:9/hook"}


def validate(policy=LOCAL, **changes):
    return alert_rules.validate_rule({**RULE, **changes}, is_known_class=lambda c: c in {"person", "traffic light"},
                                     policy=policy)


def test_a_valid_rule_is_normalised():
    spec = validate(stream_ids=[3, 1, 3])
    assert (spec.object_class, spec.stream_ids, spec.cooldown_s, spec.payload_format) == \
        ("traffic light", [1, 3], 600, "json")


@pytest.mark.parametrize(("changes", "field"), [
    ({"object_class": "unicorn"}, "object_class"),
    ({"minutes": -5}, "minutes"),
    ({"minutes": 0}, "minutes"),
    ({"name": "x" * 10_000}, "name"),
    ({"name": ""}, "name"),
    ({"condition": "drop table"}, "condition"),
    ({"threshold": float("nan")}, "threshold"),
    ({"threshold": -1}, "threshold"),
    ({"stream_ids": []}, "stream_ids"),
    ({"stream_ids": [0]}, "stream_ids"),
    ({"cooldown_s": -1}, "cooldown_s"),
    ({"payload_format": "xml"}, "payload_format"),
    ({"webhook_url": "file:///etc/passwd"}, "webhook_url"),
    ({"webhook_url": "rtsp://example.com/x"}, "webhook_url"),
    ({"condition": "stream_down", "object_class": "person"}, "object_class"),
    ({"condition": "count_below", "object_class": ""}, "object_class"),
])  # fmt: skip
def test_hostile_rules_are_refused_with_the_field(changes, field):
    with pytest.raises(InvalidInput) as refused:
        validate(**changes)
    assert refused.value.field == field


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hook", "http://10.0.0.5/hook", "http://169.254.169.254/",
                                 "http://localhost/hook", "http://[::1]/hook", "http://0x7f.1/hook"])
def test_webhooks_to_local_addresses_are_refused_unless_allowed(url):
    with pytest.raises(InvalidInput) as refused:
        validate(PUBLIC_ONLY, webhook_url=url)
    assert refused.value.field == "webhook_url"
