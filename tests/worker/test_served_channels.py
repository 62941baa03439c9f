"""The beat's view of which channel queues have a worker: asked at most once per interval, a
channel without worker reported once (and again once it has one back)."""

from __future__ import annotations

import logging

import pytest

from regua.worker.consumers import ServedChannels


class Broker:
    """What the workers answer: the queues they consume (None: nobody answered)."""

    def __init__(self, queues: set[str] | None) -> None:
        self.queues = queues
        self.asked = 0

    def __call__(self) -> set[str] | None:
        self.asked += 1
        return self.queues


def test_channels_without_worker_are_left_out_and_reported_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broker = Broker({"regua.email", "regua.sms", "regua.dispatch"})
    now = [0.0]
    served = ServedChannels(broker, ttl=30, monotonic=lambda: now[0])
    with caplog.at_level(logging.INFO, logger="regua.worker.consumers"):
        assert served.channels() == ["email", "sms"]
        now[0] = 10
        assert served.channels() == ["email", "sms"]
        assert broker.asked == 1  # cached
        now[0] = 40
        assert served.channels() == ["email", "sms"]
        broker.queues = {"regua.email", "regua.sms", "regua.letter"}
        now[0] = 80
        assert served.channels() == ["email", "sms", "letter"]
    messages = [r.getMessage() for r in caplog.records]
    assert sum("channel letter has no worker" in m for m in messages) == 1
    assert sum("channel whatsapp has no worker" in m for m in messages) == 1
    assert "channel letter has a worker again" in messages


def test_when_no_worker_answers_every_channel_is_published() -> None:
    served = ServedChannels(Broker(None), ttl=0)
    assert served.channels() is None
