"""Business days and contact windows.

Two calendars live here:

* the bank calendar, which moves due dates (CC art. 132 §1: an obligation due on a day without
  banking moves to the next business day, and paying then is on time);
* the contact calendar, which says on which days and hours a customer may be contacted, in the
  customer's state (UF) and local time (SP Lei 15.426/2014 and similar state laws, BRAZIL.md 7.2).

Holiday tables come from the ``holidays`` package, built here from a year (and a UF) and cached;
nothing here reads the clock: every function takes the date it reasons about.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo

import holidays
from dateutil.easter import easter

from regua.error_codes import ErrorCode
from regua.errors import InputError

Hours = tuple[time, time]
"""An allowed contact interval on one day: start inclusive, end exclusive, local time."""

UFS: tuple[str, ...] = (
    "AC", "AL", "AM", "AP", "BA", "CE", "DF", "ES", "GO", "MA", "MG", "MS", "MT", "PA",
    "PB", "PE", "PI", "PR", "RJ", "RN", "RO", "RR", "RS", "SC", "SE", "SP", "TO",
)  # fmt: skip

# IANA zones per state. Brazil has had no daylight saving time since 2019, but the zone names
# still matter for instants before that. Where a state spans two zones the capital's is used
# (western AM is on Rio Branco time, Fernando de Noronha (PE) on UTC-2: both ignored).
UF_TIMEZONES: Mapping[str, str] = MappingProxyType(
    {
        "AC": "America/Rio_Branco",
        "AL": "America/Maceio",
        "AM": "America/Manaus",
        "AP": "America/Belem",
        "BA": "America/Bahia",
        "CE": "America/Fortaleza",
        "DF": "America/Sao_Paulo",
        "ES": "America/Sao_Paulo",
        "GO": "America/Sao_Paulo",
        "MA": "America/Fortaleza",
        "MG": "America/Sao_Paulo",
        "MS": "America/Campo_Grande",
        "MT": "America/Cuiaba",
        "PA": "America/Belem",
        "PB": "America/Fortaleza",
        "PE": "America/Recife",
        "PI": "America/Fortaleza",
        "PR": "America/Sao_Paulo",
        "RJ": "America/Sao_Paulo",
        "RN": "America/Fortaleza",
        "RO": "America/Porto_Velho",
        "RR": "America/Boa_Vista",
        "RS": "America/Sao_Paulo",
        "SC": "America/Sao_Paulo",
        "SE": "America/Maceio",
        "SP": "America/Sao_Paulo",
        "TO": "America/Araguaina",
    }
)

DEFAULT_TIMEZONE = "America/Sao_Paulo"


def normalize_uf(uf: str | None) -> str | None:
    """Upper-case and check a state code; ``None`` or blank means "state unknown"."""
    if uf is None or not uf.strip():
        return None
    code = uf.strip().upper()
    if code not in UFS:
        raise InputError(f"UF desconhecida: {uf!r}", field="uf", code=ErrorCode.UNKNOWN_UF)
    return code


def customer_timezone(uf: str | None, default: str = DEFAULT_TIMEZONE) -> str:
    """The IANA time zone to evaluate a customer's contact window in (``default`` if no UF)."""
    code = normalize_uf(uf)
    return UF_TIMEZONES[code] if code else default


# --- holidays -------------------------------------------------------------------------------


def _years_key(years: int | Iterable[int]) -> tuple[int, ...]:
    return (years,) if isinstance(years, int) else tuple(sorted(set(years)))


def carnival_days(year: int) -> tuple[date, date]:
    """Carnival Monday and Tuesday: 48 and 47 days before Easter Sunday."""
    sunday = easter(year)
    return sunday - timedelta(days=48), sunday - timedelta(days=47)


@lru_cache(maxsize=256)
def _bank_holidays(years: tuple[int, ...]) -> Mapping[date, str]:
    # holidays.financial_holidays("BR") resolves to the plain country calendar (no Carnival),
    # and the B3 calendar (holidays.BVMF) also closes on 24/12, which is a bank business day.
    # So the banking calendar is the national one plus the days FEBRABAN announces without
    # bank clearing (compensação) every year: Carnival Monday and Tuesday, Corpus Christi and
    # 31/12. Bills due on those days may be paid on the next business day without charges.
    table = dict(holidays.country_holidays("BR", years=years, language="pt_BR"))
    for year in years:
        monday, tuesday = carnival_days(year)
        table.setdefault(monday, "Carnaval")
        table.setdefault(tuesday, "Carnaval")
        table.setdefault(easter(year) + timedelta(days=60), "Corpus Christi")
        table.setdefault(date(year, 12, 31), "Último dia do ano (sem expediente bancário)")
    return MappingProxyType(dict(sorted(table.items())))


def bank_holidays(years: int | Iterable[int]) -> Mapping[date, str]:
    """Days without bank clearing in Brazil for the given years, with pt-BR names (read-only)."""
    return _bank_holidays(_years_key(years))


def is_bank_business_day(d: date) -> bool:
    """True on a weekday with bank clearing (not a national or bank holiday)."""
    return d.weekday() < 5 and d not in _bank_holidays((d.year,))


@lru_cache(maxsize=4096)  # a return file asks about the same few due dates 100,000 times
def next_bank_business_day(d: date) -> date:
    """``d`` itself if it is a bank business day, else the next one."""
    while not is_bank_business_day(d):
        d += timedelta(days=1)
    return d


def effective_due_date(due: date) -> date:
    """The last day a payment is on time.

    CC art. 132 §1: a due date on a weekend or bank holiday moves to the next business day.
    """
    return next_bank_business_day(due)


@lru_cache(maxsize=1024)
def _holidays_for(uf: str | None, year: int) -> Mapping[date, str]:
    table = holidays.country_holidays("BR", subdiv=uf, years=year, language="pt_BR")
    return MappingProxyType(dict(table))


def holidays_for(uf: str | None, years: int | Iterable[int]) -> Mapping[date, str]:
    """National holidays plus the state's (if ``uf`` is given), with pt-BR names."""
    code = normalize_uf(uf)
    table: dict[date, str] = {}
    for year in _years_key(years):
        table.update(_holidays_for(code, year))
    return MappingProxyType(dict(sorted(table.items())))


def holiday_name(d: date, uf: str | None) -> str | None:
    """The pt-BR name of the national or state holiday on ``d``, or ``None``."""
    return _holidays_for(normalize_uf(uf), d.year).get(d)


def is_holiday(d: date, uf: str | None) -> bool:
    """True on a national holiday, or a holiday of the state ``uf`` (e.g. 09/07 in SP)."""
    return holiday_name(d, uf) is not None


# --- contact windows ------------------------------------------------------------------------


@dataclass(frozen=True)
class ContactWindow:
    """When a customer may be contacted, in the customer's local time.

    Hours are per kind of day (Monday to Friday, Saturday, Sunday); ``None`` means closed all
    day. ``holidays_closed`` closes national and state holidays; ``carnival_closed`` closes
    Carnival Monday and Tuesday, which are no national holiday but a policy may keep free;
    ``extra_closed_days`` closes any other dates.
    """

    weekdays: Hours | None
    saturday: Hours | None
    sunday: Hours | None
    holidays_closed: bool = True
    carnival_closed: bool = False
    extra_closed_days: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        for label, hours in (
            ("dias úteis", self.weekdays),
            ("sábado", self.saturday),
            ("domingo", self.sunday),
        ):
            if hours is not None and not hours[0] < hours[1]:
                raise ValueError(
                    f"horário de {label}: o início ({hours[0]:%H:%M}) deve ser antes do "
                    f"fim ({hours[1]:%H:%M})"
                )


def _hm(text: str) -> Hours:
    start, end = text.split("-")
    return time.fromisoformat(start), time.fromisoformat(end)


# SP Lei 15.426/2014 (BRAZIL.md 7.2): Mon-Fri 08-20, Sat 08-14, never on holidays; Sundays are
# outside the window. It is also the market's practice nationwide, so it is the default.
DEFAULT_CONTACT_WINDOW = ContactWindow(
    weekdays=_hm("08:00-20:00"), saturday=_hm("08:00-14:00"), sunday=None, holidays_closed=True
)

# States whose laws are stricter than the default. Sources are secondary for RJ, ES and AM
# (BRAZIL.md 7.2 says "verify"); where a law names weekday hours only, weekends are kept
# closed: not calling on a Saturday costs little, calling when the law forbids it is a crime
# under CDC art. 71.
STATE_DEFAULT_WINDOWS: Mapping[str, ContactWindow] = MappingProxyType(
    {
        # SP Lei 15.426/2014.
        "SP": DEFAULT_CONTACT_WINDOW,
        # AL Lei 7.782/2016 (also covers SMS): same hours as SP.
        "AL": DEFAULT_CONTACT_WINDOW,
        # RJ Lei 7.868/2018: Mon-Fri 09-19, no weekends or holidays.
        "RJ": ContactWindow(weekdays=_hm("09:00-19:00"), saturday=None, sunday=None),
        # ES Lei 10.626/2017: 08-19 on weekdays.
        "ES": ContactWindow(weekdays=_hm("08:00-19:00"), saturday=None, sunday=None),
        # AM Lei 306/2016: until 19:00 on weekdays.
        "AM": ContactWindow(weekdays=_hm("08:00-19:00"), saturday=None, sunday=None),
    }
)


def parse_hours(text: str) -> Hours | None:
    """``"08:00-20:00"`` -> ``(08:00, 20:00)``; ``"closed"``/``"fechado"`` -> ``None``.

    Raises ValueError with a pt-BR message on anything else.
    """
    raw = text.strip().lower()
    if raw in ("closed", "fechado"):
        return None
    match = re.fullmatch(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})", raw)
    if not match:
        raise ValueError(f"horário inválido {text!r}: use 'HH:MM-HH:MM' ou 'closed'")
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2 != 0):
        raise ValueError(f"horário inválido {text!r}: hora fora de 00:00-24:00")
    start = time(h1, m1)
    # 24:00 is the end of the day; time() cannot hold it, and the end is exclusive.
    end = time.max if h2 == 24 else time(h2, m2)
    if not start < end:
        raise ValueError(f"horário inválido {text!r}: o início deve ser antes do fim")
    return start, end


def format_hours(hours: Hours | None) -> str:
    """``(08:00, 20:00)`` -> ``"08:00-20:00"``; ``None`` -> ``"closed"`` (the YAML form)."""
    if hours is None:
        return "closed"
    end = "24:00" if hours[1] == time.max else f"{hours[1]:%H:%M}"
    return f"{hours[0]:%H:%M}-{end}"


def hours_for_weekday(window: ContactWindow, weekday: int) -> Hours | None:
    """The window's hours for a weekday (0 = Monday), holidays not considered."""
    if weekday < 5:
        return window.weekdays
    return window.saturday if weekday == 5 else window.sunday


def is_open_day(window: ContactWindow, d: date, uf: str | None) -> bool:
    """True if the window allows contact at some hour of ``d`` in the state ``uf``."""
    if hours_for_weekday(window, d.weekday()) is None or d in window.extra_closed_days:
        return False
    if window.carnival_closed and d in carnival_days(d.year):
        return False
    return not (window.holidays_closed and is_holiday(d, uf))


def window_on(window: ContactWindow, d: date, uf: str | None = None) -> Hours | None:
    """The hours open on ``d`` (its weekday's hours), or ``None`` if the day is closed.

    Without ``uf`` only national holidays close the day.
    """
    return hours_for_weekday(window, d.weekday()) if is_open_day(window, d, uf) else None


def is_open_at(window: ContactWindow, local_dt: datetime, uf: str | None) -> bool:
    """True if contact is allowed at ``local_dt``, a wall-clock time in the customer's zone.

    The end of each interval is exclusive: "08:00-20:00" admits 19:59 but not 20:00.
    """
    hours = window_on(window, local_dt.date(), uf)
    return hours is not None and hours[0] <= local_dt.time() < hours[1]


def next_open_day(window: ContactWindow, d: date, uf: str | None) -> date:
    """``d`` itself if contact is allowed on it, else the next day that allows it."""
    for _ in range(800):  # more than two years: every window open on some weekday reopens
        if is_open_day(window, d, uf):
            return d
        d += timedelta(days=1)
    raise ValueError("a janela de contato não abre em nenhum dia")


def _intersect(a: Hours | None, b: Hours | None) -> Hours | None:
    if a is None or b is None:
        return None
    start, end = max(a[0], b[0]), min(a[1], b[1])
    return (start, end) if start < end else None


def intersect_windows(a: ContactWindow, b: ContactWindow) -> ContactWindow:
    """The window allowed by both ``a`` and ``b`` (the stricter of each rule)."""
    return ContactWindow(
        weekdays=_intersect(a.weekdays, b.weekdays),
        saturday=_intersect(a.saturday, b.saturday),
        sunday=_intersect(a.sunday, b.sunday),
        holidays_closed=a.holidays_closed or b.holidays_closed,
        carnival_closed=a.carnival_closed or b.carnival_closed,
        extra_closed_days=a.extra_closed_days | b.extra_closed_days,
    )


def effective_window(policy_window: ContactWindow, uf: str | None) -> ContactWindow:
    """The window for a customer in ``uf``: the policy's, narrowed by the state's law."""
    code = normalize_uf(uf)
    state = STATE_DEFAULT_WINDOWS.get(code) if code else None
    return policy_window if state is None else intersect_windows(policy_window, state)


def local_date(now: datetime, timezone: str) -> date:
    """The calendar date of the instant `now` in the IANA time zone `timezone`."""
    return now.astimezone(ZoneInfo(timezone)).date()


@dataclass(frozen=True)
class OpenStates:
    """Who a régua's window lets be contacted at one instant: customers of the states (UFs)
    listed, each judged in its own time zone under its own law, and customers without a state
    when `unknown_uf_open` (judged in the régua's time zone)."""

    ufs: tuple[str, ...]
    unknown_uf_open: bool

    @property
    def any(self) -> bool:
        return bool(self.ufs) or self.unknown_uf_open


def open_states(policy_window: ContactWindow, timezone: str, now: datetime) -> OpenStates:
    """The states whose effective window (the régua's, narrowed by the state's law) is open at
    the instant `now`, and whether customers without a state may be contacted then."""
    ufs = tuple(
        uf
        for uf in UFS
        if is_open_at(
            effective_window(policy_window, uf), now.astimezone(ZoneInfo(UF_TIMEZONES[uf])), uf
        )
    )
    unknown = is_open_at(policy_window, now.astimezone(ZoneInfo(timezone)), None)
    return OpenStates(ufs, unknown)


def describe_window(window: ContactWindow) -> list[str]:
    """pt-BR lines describing a window, for people reading a policy."""

    def show(hours: Hours | None) -> str:
        return "fechado" if hours is None else format_hours(hours).replace("-", " às ")

    lines = [
        f"segunda a sexta: {show(window.weekdays)}",
        f"sábado: {show(window.saturday)}",
        f"domingo: {show(window.sunday)}",
        "feriados: " + ("fechado" if window.holidays_closed else "aberto"),
        "carnaval: " + ("fechado" if window.carnival_closed else "aberto"),
    ]
    if window.extra_closed_days:
        days = ", ".join(f"{d:%d/%m/%Y}" for d in sorted(window.extra_closed_days))
        lines.append(f"outros dias fechados: {days}")
    return lines


__all__ = [
    "DEFAULT_CONTACT_WINDOW",
    "DEFAULT_TIMEZONE",
    "STATE_DEFAULT_WINDOWS",
    "UFS",
    "UF_TIMEZONES",
    "ContactWindow",
    "Hours",
    "OpenStates",
    "bank_holidays",
    "carnival_days",
    "customer_timezone",
    "describe_window",
    "effective_due_date",
    "effective_window",
    "format_hours",
    "holiday_name",
    "holidays_for",
    "hours_for_weekday",
    "intersect_windows",
    "is_bank_business_day",
    "is_holiday",
    "is_open_at",
    "is_open_day",
    "local_date",
    "next_bank_business_day",
    "next_open_day",
    "next_opening",
    "normalize_uf",
    "open_states",
    "parse_hours",
    "window_on",
]


def next_opening(window: ContactWindow, timezone: str, now: datetime) -> datetime | None:
    """The instant the window next admits contact, in `timezone` (customers without a state):
    `now` itself when open; None when it stays closed for the next two weeks."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    for ahead in range(15):
        day = local.date() + timedelta(days=ahead)
        hours = window_on(window, day, None)
        if hours is None:
            continue
        start = datetime.combine(day, hours[0], zone)
        if ahead == 0 and local.time() >= hours[0]:
            if local.time() < hours[1]:
                return local
            continue
        return start
    return None
