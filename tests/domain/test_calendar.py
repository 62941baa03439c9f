"""Bank business days, holidays per state and contact windows, with named dates."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regua.domain.calendar import (
    DEFAULT_CONTACT_WINDOW,
    STATE_DEFAULT_WINDOWS,
    UF_TIMEZONES,
    UFS,
    ContactWindow,
    bank_holidays,
    carnival_days,
    customer_timezone,
    describe_window,
    effective_due_date,
    effective_window,
    format_hours,
    holiday_name,
    holidays_for,
    intersect_windows,
    is_bank_business_day,
    is_holiday,
    is_open_at,
    is_open_day,
    next_bank_business_day,
    next_open_day,
    parse_hours,
    window_on,
)
from regua.errors import InputError

SUNDAY = date(2025, 6, 1)
SATURDAY = date(2025, 5, 10)
MONDAY_AFTER = date(2025, 5, 12)
CHRISTMAS = date(2025, 12, 25)
NEW_YEARS_EVE = date(2025, 12, 31)
SP_REVOLUTION = date(2025, 7, 9)  # Wednesday; SP state holiday
RJ_SAO_JORGE = date(2025, 4, 23)  # Wednesday; RJ state holiday
BLACK_AWARENESS_2024 = date(2024, 11, 20)  # national since Lei 14.759/2023
BLACK_AWARENESS_2023 = date(2023, 11, 20)  # not national yet
CARNIVAL_SATURDAY = date(2025, 3, 1)
CARNIVAL_SUNDAY = date(2025, 3, 2)
CARNIVAL_MONDAY = date(2025, 3, 3)
CARNIVAL_TUESDAY = date(2025, 3, 4)
ASH_WEDNESDAY = date(2025, 3, 5)
GOOD_FRIDAY = date(2025, 4, 18)
TIRADENTES_MONDAY = date(2025, 4, 21)
TUESDAY_AFTER_LONG_WEEKEND = date(2025, 4, 22)
CORPUS_CHRISTI = date(2025, 6, 19)
PLAIN_WEDNESDAY = date(2025, 5, 14)


def test_carnival_is_computed_from_easter() -> None:
    assert carnival_days(2025) == (CARNIVAL_MONDAY, CARNIVAL_TUESDAY)
    assert carnival_days(2024) == (date(2024, 2, 12), date(2024, 2, 13))
    assert carnival_days(2026) == (date(2026, 2, 16), date(2026, 2, 17))


@pytest.mark.parametrize(
    ("day", "business"),
    [
        (SUNDAY, False),
        (SATURDAY, False),
        (CHRISTMAS, False),
        (CARNIVAL_MONDAY, False),
        (CARNIVAL_TUESDAY, False),
        (ASH_WEDNESDAY, True),  # banks open at noon; clearing happens
        (CORPUS_CHRISTI, False),
        (NEW_YEARS_EVE, False),
        (date(2025, 12, 24), True),  # reduced hours, still clearing
        (BLACK_AWARENESS_2024, False),
        (BLACK_AWARENESS_2023, True),
        (SP_REVOLUTION, True),  # a state holiday does not stop national clearing
        (PLAIN_WEDNESDAY, True),
    ],
)
def test_bank_business_days(day: date, business: bool) -> None:
    assert is_bank_business_day(day) is business


@pytest.mark.parametrize(
    ("due", "effective"),
    [
        (SATURDAY, MONDAY_AFTER),
        (SUNDAY, date(2025, 6, 2)),
        (GOOD_FRIDAY, TUESDAY_AFTER_LONG_WEEKEND),
        (TIRADENTES_MONDAY, TUESDAY_AFTER_LONG_WEEKEND),
        (CARNIVAL_SATURDAY, ASH_WEDNESDAY),
        (CARNIVAL_TUESDAY, ASH_WEDNESDAY),
        (CORPUS_CHRISTI, date(2025, 6, 20)),
        (NEW_YEARS_EVE, date(2026, 1, 2)),
        (PLAIN_WEDNESDAY, PLAIN_WEDNESDAY),
    ],
)
def test_due_date_on_a_day_without_banking_moves_to_next_business_day(
    due: date, effective: date
) -> None:
    assert effective_due_date(due) == effective
    assert next_bank_business_day(due) == effective


def test_bank_holidays_have_portuguese_names() -> None:
    table = bank_holidays([2025])
    assert table[CARNIVAL_MONDAY] == "Carnaval"
    assert table[CHRISTMAS] == "Natal"
    assert table[CORPUS_CHRISTI] == "Corpus Christi"
    assert set(bank_holidays([2024, 2025])) >= set(table)


@pytest.mark.parametrize(
    ("day", "uf", "name"),
    [
        (CHRISTMAS, None, "Natal"),
        (CHRISTMAS, "RJ", "Natal"),
        (SP_REVOLUTION, "SP", "Revolução Constitucionalista"),
        (SP_REVOLUTION, "sp", "Revolução Constitucionalista"),
        (SP_REVOLUTION, "RJ", None),
        (SP_REVOLUTION, None, None),
        (RJ_SAO_JORGE, "RJ", "São Jorge"),
        (RJ_SAO_JORGE, "SP", None),
        (BLACK_AWARENESS_2024, None, "Dia Nacional de Zumbi e da Consciência Negra"),
        (BLACK_AWARENESS_2023, None, None),
        (CARNIVAL_MONDAY, "SP", None),  # Carnival is no holiday in SP
        (CARNIVAL_TUESDAY, "RJ", "Carnaval"),  # but Tuesday is one in RJ (Lei 5.243/2008)
        (SUNDAY, None, None),
    ],
)
def test_holidays_national_and_by_state(day: date, uf: str | None, name: str | None) -> None:
    assert holiday_name(day, uf) == name
    assert is_holiday(day, uf) is (name is not None)


def test_holidays_for_a_state_include_the_national_ones() -> None:
    table = holidays_for("SP", [2025])
    assert table[SP_REVOLUTION] == "Revolução Constitucionalista"
    assert table[CHRISTMAS] == "Natal"


def test_unknown_state_is_refused_in_portuguese() -> None:
    with pytest.raises(InputError, match="UF desconhecida: 'XX'"):
        is_holiday(CHRISTMAS, "XX")


@pytest.mark.parametrize(
    ("uf", "zone"),
    [
        ("SP", "America/Sao_Paulo"),
        ("AC", "America/Rio_Branco"),
        ("am", "America/Manaus"),
        ("MT", "America/Cuiaba"),
        ("MS", "America/Campo_Grande"),
        ("PA", "America/Belem"),
        (None, "America/Sao_Paulo"),
        ("", "America/Sao_Paulo"),
    ],
)
def test_customer_timezone(uf: str | None, zone: str) -> None:
    assert customer_timezone(uf, "America/Sao_Paulo") == zone


def test_every_state_has_a_valid_time_zone() -> None:
    assert set(UF_TIMEZONES) == set(UFS)
    for zone in UF_TIMEZONES.values():
        ZoneInfo(zone)


def test_default_window_follows_sao_paulo_law() -> None:
    assert describe_window(DEFAULT_CONTACT_WINDOW) == [
        "segunda a sexta: 08:00 às 20:00",
        "sábado: 08:00 às 14:00",
        "domingo: fechado",
        "feriados: fechado",
        "carnaval: aberto",
    ]


@pytest.mark.parametrize(
    ("when", "uf", "open_"),
    [
        (datetime(2025, 5, 14, 8, 0), "SP", True),
        (datetime(2025, 5, 14, 7, 59), "SP", False),
        (datetime(2025, 5, 14, 19, 59), "SP", True),
        (datetime(2025, 5, 14, 20, 0), "SP", False),
        (datetime(2025, 5, 10, 13, 59), "SP", True),  # Saturday
        (datetime(2025, 5, 10, 14, 0), "SP", False),
        (datetime(2025, 6, 1, 10, 0), "SP", False),  # Sunday
        (datetime(2025, 12, 25, 10, 0), "SP", False),
        (datetime(2025, 7, 9, 10, 0), "SP", False),  # SP state holiday
        (datetime(2025, 7, 9, 10, 0), "RJ", True),
        (datetime(2025, 4, 23, 10, 0), "RJ", False),
        (datetime(2025, 3, 3, 10, 0), "SP", True),  # Carnival is open unless closed
        (datetime(2025, 5, 14, 10, 0, tzinfo=ZoneInfo("America/Manaus")), "AM", True),
    ],
)
def test_default_window_open_at(when: datetime, uf: str, open_: bool) -> None:
    assert is_open_at(DEFAULT_CONTACT_WINDOW, when, uf) is open_


def test_policy_can_close_carnival() -> None:
    closed = ContactWindow(
        weekdays=(time(8), time(20)), saturday=None, sunday=None, carnival_closed=True
    )
    assert not is_open_day(closed, CARNIVAL_MONDAY, "SP")
    assert not is_open_day(closed, CARNIVAL_TUESDAY, "SP")
    assert next_open_day(closed, CARNIVAL_SATURDAY, "SP") == ASH_WEDNESDAY
    assert next_open_day(DEFAULT_CONTACT_WINDOW, CARNIVAL_SUNDAY, "SP") == CARNIVAL_MONDAY


def test_extra_closed_days() -> None:
    window = ContactWindow(
        weekdays=(time(8), time(20)),
        saturday=None,
        sunday=None,
        extra_closed_days=frozenset({date(2025, 12, 24)}),
    )
    assert window_on(window, date(2025, 12, 24)) is None
    assert next_open_day(window, date(2025, 12, 24), "SP") == date(2025, 12, 26)


@pytest.mark.parametrize(
    ("start", "uf", "expected"),
    [
        (PLAIN_WEDNESDAY, "SP", PLAIN_WEDNESDAY),
        (SUNDAY, "SP", date(2025, 6, 2)),
        (SATURDAY, "SP", SATURDAY),
        (SATURDAY, "RJ", MONDAY_AFTER),  # RJ law: no weekends
        (GOOD_FRIDAY, "SP", date(2025, 4, 19)),  # Saturday is open in SP
        (GOOD_FRIDAY, "RJ", TUESDAY_AFTER_LONG_WEEKEND),
        (CHRISTMAS, "SP", date(2025, 12, 26)),
        (SP_REVOLUTION, "SP", date(2025, 7, 10)),
        (RJ_SAO_JORGE, "RJ", date(2025, 4, 24)),
    ],
)
def test_next_open_day_in_the_customer_state(start: date, uf: str, expected: date) -> None:
    window = effective_window(DEFAULT_CONTACT_WINDOW, uf)
    assert next_open_day(window, start, uf) == expected


def test_window_on_gives_the_hours_or_none() -> None:
    assert window_on(DEFAULT_CONTACT_WINDOW, SATURDAY) == (time(8), time(14))
    assert window_on(DEFAULT_CONTACT_WINDOW, SUNDAY) is None
    assert window_on(DEFAULT_CONTACT_WINDOW, CHRISTMAS) is None
    assert window_on(DEFAULT_CONTACT_WINDOW, SP_REVOLUTION) == (time(8), time(20))
    assert window_on(DEFAULT_CONTACT_WINDOW, SP_REVOLUTION, "SP") is None


def test_rio_narrows_the_policy_window() -> None:
    rio = effective_window(DEFAULT_CONTACT_WINDOW, "RJ")
    assert rio.weekdays == (time(9), time(19))
    assert rio.saturday is None
    assert rio.sunday is None
    assert not is_open_at(rio, datetime(2025, 5, 14, 19, 30), "RJ")
    assert is_open_at(DEFAULT_CONTACT_WINDOW, datetime(2025, 5, 14, 19, 30), "SP")


def test_a_stricter_policy_wins_over_a_laxer_state() -> None:
    policy = ContactWindow(weekdays=(time(10), time(18)), saturday=None, sunday=None)
    assert effective_window(policy, "RJ").weekdays == (time(10), time(18))
    assert effective_window(policy, "MG") == policy
    assert effective_window(policy, None) == policy


def test_window_rejects_inverted_hours() -> None:
    with pytest.raises(ValueError, match=r"sábado: o início \(14:00\) deve ser antes do fim"):
        ContactWindow(weekdays=None, saturday=(time(14), time(8)), sunday=None)


@pytest.mark.parametrize(
    ("text", "hours"),
    [
        ("08:00-20:00", (time(8), time(20))),
        (" 8:30 - 12:00 ", (time(8, 30), time(12))),
        ("closed", None),
        ("Fechado", None),
        ("00:00-24:00", (time(0), time.max)),
    ],
)
def test_parse_hours(text: str, hours: tuple[time, time] | None) -> None:
    assert parse_hours(text) == hours


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("8h-20h", "use 'HH:MM-HH:MM' ou 'closed'"),
        ("20:00-08:00", "o início deve ser antes do fim"),
        ("08:00-25:00", "hora fora de 00:00-24:00"),
    ],
)
def test_parse_hours_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_hours(text)


def test_format_hours_round_trips() -> None:
    for text in ("08:00-20:00", "closed", "00:00-24:00"):
        assert format_hours(parse_hours(text)) == text


def test_state_windows_close_holidays_and_sundays() -> None:
    for window in STATE_DEFAULT_WINDOWS.values():
        assert window.holidays_closed
        assert window.sunday is None


days = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))
ufs = st.sampled_from((None, *UFS))
open_hours = st.tuples(st.integers(0, 23), st.integers(0, 23)).filter(lambda hs: hs[0] < hs[1])
some_hours = open_hours.map(lambda hs: (time(hs[0]), time(hs[1])))
hour_ranges = st.one_of(st.none(), some_hours)
windows = st.builds(
    ContactWindow,
    weekdays=some_hours,
    saturday=hour_ranges,
    sunday=hour_ranges,
    holidays_closed=st.booleans(),
    carnival_closed=st.booleans(),
)


@given(window=windows, start=days, uf=ufs)
def test_next_open_day_is_the_first_open_day(
    window: ContactWindow, start: date, uf: str | None
) -> None:
    found = next_open_day(window, start, uf)
    assert found >= start
    assert is_open_day(window, found, uf)
    day = start
    while day < found:
        assert not is_open_day(window, day, uf)
        day += timedelta(days=1)


@given(a=windows, b=windows, day=days, hour=st.integers(0, 23), uf=ufs)
def test_intersection_is_never_more_permissive(
    a: ContactWindow, b: ContactWindow, day: date, hour: int, uf: str | None
) -> None:
    when = datetime.combine(day, time(hour, 30))
    both = intersect_windows(a, b)
    if is_open_at(both, when, uf):
        assert is_open_at(a, when, uf)
        assert is_open_at(b, when, uf)


@given(day=days)
def test_effective_due_date_is_a_business_day_within_a_week(day: date) -> None:
    moved = effective_due_date(day)
    assert is_bank_business_day(moved)
    assert day <= moved <= day + timedelta(days=6)
