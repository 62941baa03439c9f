"""The pure rules a dispatch follows: which states' windows are open at an instant, when a
failed message is tried again, and how fast a channel may send."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from regua.domain.calendar import DEFAULT_CONTACT_WINDOW, UFS, local_date, open_states
from regua.domain.pacing import TokenBucket
from regua.domain.retries import attempts_exhausted, backoff_delay


def test_at_half_past_seven_in_the_evening_rio_is_closed_and_sao_paulo_open() -> None:
    # Monday 2026-11-23, 19:30 in São Paulo (UTC-3): RJ's law closes at 19:00, SP's at 20:00.
    states = open_states(
        DEFAULT_CONTACT_WINDOW, "America/Sao_Paulo", datetime(2026, 11, 23, 22, 30, tzinfo=UTC)
    )
    assert "SP" in states.ufs
    assert "RJ" not in states.ufs
    assert states.unknown_uf_open


def test_at_three_in_the_morning_nobody_is_open() -> None:
    states = open_states(
        DEFAULT_CONTACT_WINDOW, "America/Sao_Paulo", datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    )
    assert states.ufs == ()
    assert not states.unknown_uf_open
    assert not states.any


def test_at_ten_on_a_weekday_every_state_is_open() -> None:
    states = open_states(
        DEFAULT_CONTACT_WINDOW, "America/Sao_Paulo", datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    )
    assert states.ufs == UFS


def test_the_business_date_is_the_creditors_not_utcs() -> None:
    late_evening = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # 22:00 on the 23rd in São Paulo
    assert local_date(late_evening, "America/Sao_Paulo").isoformat() == "2026-11-23"


def test_the_last_allowed_attempt_fails_instead_of_retrying() -> None:
    assert [attempts_exhausted(n, 3) for n in (1, 2, 3, 4)] == [False, False, True, True]


def test_backoff_never_comes_before_the_providers_retry_after() -> None:
    assert backoff_delay(1, retry_after=3600) == timedelta(hours=1)


def test_a_bucket_refills_at_its_rate() -> None:
    bucket = TokenBucket(rate=2, burst=1)
    assert bucket.take(0.0) == 0.0
    assert bucket.take(0.0) == 0.5
    assert bucket.take(0.5) == 0.0
