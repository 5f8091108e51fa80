"""Acknowledgement bookkeeping: a refused detection is held and published again; its frame is never nacked."""

from __future__ import annotations

from detector.acks import PendingSends


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_refused_detection_is_retried_until_the_broker_takes_it_and_its_frame_acknowledged_once() -> None:
    clock = FakeClock()
    broker_up = False
    published: list[str] = []
    acknowledged: list[str] = []

    def send(outgoing, done) -> None:
        if broker_up:
            published.append(outgoing)
        done(broker_up)

    sends = PendingSends(send, acknowledged.append, retry_initial_s=1.0, retry_max_s=4.0, clock=clock)
    for frame in ("f1", "f2"):
        sends.publish(frame, f"detection of {frame}")
    assert sends.apply() == 0
    assert sends.holding and acknowledged == [] and sends.failures == 2
    delays = []
    for _ in range(4):  # the broker stays away: retries back off 1, 2, 4, 4 s; nothing is acknowledged or lost
        delays.append(sends.retry_due())
        assert sends.retry() == 0  # not due yet
        clock.now += sends.retry_due()
        assert sends.retry() == 2
        sends.apply()
    assert delays == [1.0, 2.0, 4.0, 4.0]
    assert acknowledged == [] and sends.holding
    broker_up = True
    clock.now += sends.retry_due()
    assert sends.retry() == 2
    assert sends.apply() == 2
    assert not sends.holding
    assert published == ["detection of f1", "detection of f2"]
    assert acknowledged == ["f1", "f2"]  # each frame acknowledged once, after its detection was confirmed


def test_confirmed_sends_are_acknowledged_in_the_loop_not_the_callback() -> None:
    callbacks = []
    acknowledged: list[str] = []
    sends = PendingSends(lambda outgoing, done: callbacks.append(done), acknowledged.append)
    sends.publish("f", "d")
    assert sends.pending == 1
    callbacks[0](True)  # the client's thread
    assert acknowledged == [] and sends.pending == 0
    assert sends.apply() == 1 and acknowledged == ["f"]
    assert sends.wait(0.1)
