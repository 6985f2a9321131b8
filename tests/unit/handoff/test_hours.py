"""Support hours and the expected reply time promised at a human handoff.

Real `holidays` data and fixed aware datetimes throughout: the wall clock never decides a
test. 2026-09-14 is a Monday; 2026-09-16 (Wednesday) is Mexican Independence Day.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import pytest

from handoff.hours import (
    DEFAULT_PATH,
    ENV_VAR,
    BusinessHours,
    SlaPolicy,
    SupportHoursError,
    closes_today_at,
    expected_reply_at,
    is_open_now,
    load_policy,
    out_of_hours_notice,
    phrase,
)

MX = ZoneInfo("America/Mexico_City")
MADRID = ZoneInfo("Europe/Madrid")
BUENOS_AIRES = ZoneInfo("America/Argentina/Buenos_Aires")
UTC = timezone.utc


def mx(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0):
    return datetime(year, month, day, hour, minute, second, tzinfo=MX)


@pytest.fixture(scope="module")
def policy() -> tuple[BusinessHours, SlaPolicy]:
    return load_policy(DEFAULT_PATH)


@pytest.fixture(scope="module")
def lumen(policy) -> BusinessHours:
    return policy[0]


@pytest.fixture(scope="module")
def sla(policy) -> SlaPolicy:
    return policy[1]


def promise(now: datetime, hours: BusinessHours, sla: SlaPolicy, **kwargs) -> datetime:
    options = {"priority": "normal", "queue_ahead": 0, "agents_online": 2} | kwargs
    return expected_reply_at(now, hours, sla, **options)


def every_day(*intervals: tuple[time, time], zone: str = "Europe/Madrid") -> BusinessHours:
    return BusinessHours(timezone=zone, weekly={day: list(intervals) for day in range(7)})


# --- Open or closed ------------------------------------------------------------------------


def test_open_on_a_weekday_within_hours(lumen) -> None:
    assert lumen.is_open(mx(2026, 9, 14, 10))
    assert lumen.is_open(mx(2026, 9, 14, 9))
    assert is_open_now(mx(2026, 9, 14, 17, 59), lumen)


def test_closed_before_opening_and_at_the_closing_minute(lumen) -> None:
    assert not lumen.is_open(mx(2026, 9, 14, 8, 59))
    assert not lumen.is_open(mx(2026, 9, 14, 18))
    assert not is_open_now(mx(2026, 9, 14, 23), lumen)


def test_next_open_is_now_when_open_and_the_next_morning_when_not(lumen) -> None:
    now = mx(2026, 9, 14, 10, 7)
    assert lumen.next_open(now) == now
    assert lumen.next_open(mx(2026, 9, 14, 19)) == mx(2026, 9, 15, 9)


def test_sunday_is_closed_and_saturday_has_short_hours(lumen) -> None:
    assert not lumen.is_open(mx(2026, 9, 20, 12))
    assert lumen.is_open(mx(2026, 9, 19, 13, 59))
    assert not lumen.is_open(mx(2026, 9, 19, 14))
    assert lumen.opening_intervals(date(2026, 9, 19)) == [
        (mx(2026, 9, 19, 10), mx(2026, 9, 19, 14))
    ]


def test_a_moment_in_another_zone_is_compared_as_an_instant(lumen) -> None:
    # 15:30 UTC is 09:30 in Mexico City (UTC-6, no DST since 2022).
    assert lumen.is_open(datetime(2026, 9, 14, 15, 30, tzinfo=UTC))
    assert not lumen.is_open(datetime(2026, 9, 14, 14, 30, tzinfo=UTC))


def test_naive_datetimes_are_refused(lumen) -> None:
    with pytest.raises(ValueError, match="time-zone aware"):
        lumen.is_open(datetime(2026, 9, 14, 10))


# --- The promise ---------------------------------------------------------------------------


def test_within_hours_the_sla_is_counted_from_now(lumen, sla) -> None:
    assert promise(mx(2026, 9, 14, 10), lumen, sla) == mx(2026, 9, 14, 11)


def test_the_promise_rounds_up_to_the_quarter_hour(lumen, sla) -> None:
    assert promise(mx(2026, 9, 14, 10, 7), lumen, sla) == mx(2026, 9, 14, 11, 15)
    assert promise(mx(2026, 9, 14, 10, 0, 30), lumen, sla) == mx(2026, 9, 14, 11, 15)
    assert promise(mx(2026, 9, 14, 10, 16), lumen, sla) == mx(2026, 9, 14, 11, 30)


def test_an_exact_quarter_hour_stays(lumen, sla) -> None:
    assert promise(mx(2026, 9, 14, 10, 45), lumen, sla) == mx(2026, 9, 14, 11, 45)


@pytest.mark.parametrize(
    ("priority", "expected"),
    [
        ("urgent", mx(2026, 9, 14, 10, 30)),
        ("high", mx(2026, 9, 14, 10, 45)),
        ("normal", mx(2026, 9, 14, 11, 15)),
        ("low", mx(2026, 9, 14, 14, 15)),
    ],
)
def test_each_priority_has_its_own_target(lumen, sla, priority, expected) -> None:
    assert promise(mx(2026, 9, 14, 10, 3), lumen, sla, priority=priority) == expected


def test_an_unknown_priority_is_an_error(lumen, sla) -> None:
    with pytest.raises(ValueError, match="unknown priority 'vip'"):
        promise(mx(2026, 9, 14, 10), lumen, sla, priority="vip")


def test_after_closing_the_promise_is_the_next_morning(lumen, sla) -> None:
    assert promise(mx(2026, 9, 14, 19), lumen, sla) == mx(2026, 9, 15, 10)


def test_the_sla_carries_over_the_night(lumen, sla) -> None:
    # 30 minutes on Monday, the other 30 on Tuesday morning.
    assert promise(mx(2026, 9, 14, 17, 30), lumen, sla) == mx(2026, 9, 15, 9, 30)


def test_friday_evening_goes_to_saturday_short_hours(lumen, sla) -> None:
    assert promise(mx(2026, 9, 18, 19), lumen, sla) == mx(2026, 9, 19, 11)
    # Low priority fills Saturday's four hours exactly: due at closing, not on Monday.
    assert promise(mx(2026, 9, 18, 19), lumen, sla, priority="low") == mx(2026, 9, 19, 14)


def test_saturday_afternoon_and_sunday_go_to_monday(lumen, sla) -> None:
    assert promise(mx(2026, 9, 19, 15), lumen, sla) == mx(2026, 9, 21, 10)
    assert promise(mx(2026, 9, 20, 12), lumen, sla) == mx(2026, 9, 21, 10)
    # Low priority from Friday 17:00: 60 minutes on Friday, 180 on Saturday.
    assert promise(mx(2026, 9, 18, 17), lumen, sla, priority="low") == mx(2026, 9, 19, 13)


def test_independence_day_is_skipped(lumen, sla) -> None:
    assert date(2026, 9, 16) in holidays.country_holidays("MX", years=2026)
    assert not lumen.is_open(mx(2026, 9, 16, 10))
    assert lumen.opening_intervals(date(2026, 9, 16)) == []
    assert promise(mx(2026, 9, 15, 17, 30), lumen, sla) == mx(2026, 9, 17, 9, 30)


def test_christmas_is_skipped(lumen, sla) -> None:
    # Thursday 24 December is a working day; Friday 25 is not; Saturday has short hours.
    assert promise(mx(2026, 12, 24, 17, 30), lumen, sla) == mx(2026, 12, 26, 10, 30)


def test_benito_juarez_day_is_the_moved_monday_not_the_21st(lumen, sla) -> None:
    mexican = holidays.country_holidays("MX", years=2026)
    assert "Benito Juárez" in mexican[date(2026, 3, 16)]
    assert date(2026, 3, 21) not in mexican
    assert lumen.is_open(mx(2026, 3, 21, 11))  # the real birthday, a Saturday, is open
    # Saturday 13:30: 30 minutes, then Sunday and the holiday Monday are skipped.
    assert promise(mx(2026, 3, 14, 13, 30), lumen, sla) == mx(2026, 3, 17, 9, 30)


def test_an_extra_closed_date_from_config_is_skipped(lumen, sla) -> None:
    hours = dataclasses.replace(lumen, closed_dates=frozenset({date(2026, 9, 15)}))
    assert not hours.is_open(mx(2026, 9, 15, 10))
    # Tuesday closed by config, Wednesday by law: Monday 17:30 is answered on Thursday.
    assert promise(mx(2026, 9, 14, 17, 30), hours, sla) == mx(2026, 9, 17, 9, 30)


def test_a_lunch_break_is_not_business_time(sla) -> None:
    hours = BusinessHours(
        timezone="America/Mexico_City",
        weekly={0: [(time(15), time(18)), (time(9), time(14))]},
    )
    assert hours.opening_intervals(date(2026, 9, 14))[0] == (
        mx(2026, 9, 14, 9),
        mx(2026, 9, 14, 14),
    )
    assert not hours.is_open(mx(2026, 9, 14, 14, 30))
    assert hours.next_open(mx(2026, 9, 14, 14, 30)) == mx(2026, 9, 14, 15)
    assert hours.add_business_minutes(mx(2026, 9, 14, 13, 30), 60) == mx(2026, 9, 14, 15, 30)
    assert promise(mx(2026, 9, 14, 13, 30), hours, sla) == mx(2026, 9, 14, 15, 30)


def test_the_queue_pushes_the_promise_past_the_sla(lumen, sla) -> None:
    # 20 cases * 12 minutes / 2 agents = 120 minutes, longer than the 60-minute target.
    assert promise(mx(2026, 9, 14, 10), lumen, sla, queue_ahead=20) == mx(2026, 9, 14, 12)
    # 5 cases = 30 minutes: the SLA target is the longer wait, and it is what is promised.
    assert promise(mx(2026, 9, 14, 10), lumen, sla, queue_ahead=5) == mx(2026, 9, 14, 11)


def test_the_queue_carries_the_promise_across_the_night(lumen, sla) -> None:
    # 30 cases * 12 / 2 = 180 minutes: 60 on Monday, 120 on Tuesday.
    assert promise(mx(2026, 9, 14, 17), lumen, sla, queue_ahead=30) == mx(2026, 9, 15, 11)


def test_no_agent_online_counts_as_one_and_keeps_the_sla(lumen, sla) -> None:
    now = mx(2026, 9, 14, 10)
    assert promise(now, lumen, sla, agents_online=0) == mx(2026, 9, 14, 11)
    assert promise(now, lumen, sla, queue_ahead=10, agents_online=0) == mx(2026, 9, 14, 12)


def test_a_negative_queue_counts_as_empty(lumen, sla) -> None:
    assert promise(mx(2026, 9, 14, 10), lumen, sla, queue_ahead=-3) == mx(2026, 9, 14, 11)


def test_buenos_aires_with_argentine_holidays_and_now_in_utc(sla) -> None:
    hours = BusinessHours(
        timezone="America/Argentina/Buenos_Aires",
        weekly={day: [(time(9), time(18))] for day in range(5)},
        holiday_country="AR",
    )
    assert date(2026, 5, 25) in holidays.country_holidays("AR", years=2026)
    # Friday 21:30 UTC is 18:30 in Buenos Aires (UTC-3): closed; Monday 25 May is a holiday.
    now = datetime(2026, 5, 22, 21, 30, tzinfo=UTC)
    reply = promise(now, hours, sla)
    assert reply == datetime(2026, 5, 26, 13, 0, tzinfo=UTC)
    assert reply.tzinfo == BUENOS_AIRES
    assert (reply.hour, reply.minute) == (10, 0)
    assert phrase(reply, now, hours, "es") == "el martes antes de las 10:00"
    assert (
        out_of_hours_notice(now, hours, "en")
        == "We're closed right now; we're back on Tuesday at 09:00."
    )


# --- Daylight saving time --------------------------------------------------------------------


def test_a_weekend_dst_change_keeps_monday_morning_right(sla) -> None:
    # Clocks go forward on Sunday 29 March 2026 in Spain.
    hours = BusinessHours(
        timezone="Europe/Madrid", weekly={day: [(time(9), time(18))] for day in range(5)}
    )
    friday = datetime(2026, 3, 27, 17, 30, tzinfo=MADRID)
    assert friday.utcoffset() == timedelta(hours=1)
    reply = promise(friday, hours, sla)
    assert reply == datetime(2026, 3, 30, 9, 30, tzinfo=MADRID)
    assert reply.utcoffset() == timedelta(hours=2)
    assert (reply.hour, reply.minute) == (9, 30)


def test_business_minutes_are_elapsed_minutes_when_clocks_go_forward() -> None:
    hours = every_day((time(0), time(0)))  # open around the clock
    sunday = datetime(2026, 3, 29, 1, 30, tzinfo=MADRID)
    # 01:30 CET + 60 minutes is 03:30 CEST: 02:00-03:00 does not exist that night.
    assert hours.add_business_minutes(sunday, 60) == datetime(2026, 3, 29, 3, 30, tzinfo=MADRID)
    saturday_noon = datetime(2026, 3, 28, 12, tzinfo=MADRID)
    day_later = hours.add_business_minutes(saturday_noon, 24 * 60)
    assert day_later - saturday_noon.astimezone(UTC) == timedelta(hours=24)
    assert (day_later.hour, day_later.minute) == (13, 0)


def test_business_minutes_are_elapsed_minutes_when_clocks_go_back() -> None:
    hours = every_day((time(0), time(0)))
    start = datetime(2026, 10, 25, 1, 30, tzinfo=MADRID)  # CEST, UTC+2
    first = hours.add_business_minutes(start, 60)
    second = hours.add_business_minutes(start, 120)
    assert (first.hour, first.minute, first.utcoffset()) == (2, 30, timedelta(hours=2))
    assert (second.hour, second.minute, second.utcoffset()) == (2, 30, timedelta(hours=1))


def test_an_interval_over_the_dst_gap_is_shorter_in_business_minutes() -> None:
    hours = BusinessHours(timezone="Europe/Madrid", weekly={6: [(time(1), time(5))]})
    sunday = datetime(2026, 3, 29, 1, tzinfo=MADRID)
    # 01:00-05:00 that Sunday lasts three real hours, so 180 minutes end exactly at 05:00 ...
    assert hours.add_business_minutes(sunday, 180) == datetime(2026, 3, 29, 5, tzinfo=MADRID)
    # ... and one more minute is the next Sunday.
    assert hours.add_business_minutes(sunday, 181) == datetime(2026, 4, 5, 1, 1, tzinfo=MADRID)


def test_rounding_next_to_a_dst_change_gives_a_real_time() -> None:
    hours = every_day((time(0), time(0)))
    sla = SlaPolicy({"urgent": 15, "high": 30, "normal": 60, "low": 240}, 12)
    # 00:50 CET + 60 = 01:50 CET -> rounded to 02:00 CET, which is 03:00 CEST.
    now = datetime(2026, 3, 29, 0, 50, tzinfo=MADRID)
    reply = promise(now, hours, sla)
    assert reply == datetime(2026, 3, 29, 3, 0, tzinfo=MADRID)
    assert reply.utcoffset() == timedelta(hours=2)


# --- Closing time --------------------------------------------------------------------------


def test_closes_today_at(lumen) -> None:
    assert closes_today_at(mx(2026, 9, 14, 10), lumen) == mx(2026, 9, 14, 18)
    assert closes_today_at(mx(2026, 9, 19, 11), lumen) == mx(2026, 9, 19, 14)
    assert closes_today_at(mx(2026, 9, 14, 19), lumen) is None
    assert closes_today_at(mx(2026, 9, 16, 10), lumen) is None  # holiday


def test_closes_today_at_is_the_end_of_the_current_stretch() -> None:
    hours = BusinessHours(
        timezone="America/Mexico_City",
        weekly={
            0: [(time(9), time(14)), (time(15), time(18))],
            1: [(time(9), time(13)), (time(13), time(18))],
        },
    )
    assert closes_today_at(mx(2026, 9, 14, 10), hours) == mx(2026, 9, 14, 14)
    assert closes_today_at(mx(2026, 9, 14, 16), hours) == mx(2026, 9, 14, 18)
    assert closes_today_at(mx(2026, 9, 15, 10), hours) == mx(2026, 9, 15, 18)  # back to back


# --- Phrases -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "when", "es", "en"),
    [
        (mx(2026, 9, 14, 10), mx(2026, 9, 14, 17), "hoy antes de las 17:00", "today by 17:00"),
        (
            mx(2026, 9, 14, 19),
            mx(2026, 9, 15, 10),
            "mañana antes de las 10:00",
            "tomorrow by 10:00",
        ),
        (
            mx(2026, 9, 12, 15),
            mx(2026, 9, 14, 10),
            "el lunes antes de las 10:00",
            "on Monday by 10:00",
        ),
        (
            mx(2026, 9, 14, 10),
            mx(2026, 9, 16, 9, 15),
            "el miércoles antes de las 09:15",
            "on Wednesday by 09:15",
        ),
        (
            mx(2026, 9, 17, 18),
            mx(2026, 9, 19, 11),
            "el sábado antes de las 11:00",
            "on Saturday by 11:00",
        ),
        (
            mx(2025, 12, 30, 19),
            mx(2026, 1, 6, 10),
            "el 6 de enero antes de las 10:00",
            "on 6 January by 10:00",
        ),
    ],
)
def test_phrase(lumen, now, when, es, en) -> None:
    assert phrase(when, now, lumen, "es") == es
    assert phrase(when, now, lumen, "en") == en


def test_phrase_names_the_date_from_a_week_away(lumen) -> None:
    # Seven days ahead is the same weekday as today: "el lunes" would mean today.
    now = mx(2026, 9, 14, 10)
    assert phrase(mx(2026, 9, 20, 10), now, lumen, "es") == "el domingo antes de las 10:00"
    assert phrase(mx(2026, 9, 21, 10), now, lumen, "es") == "el 21 de septiembre antes de las 10:00"


def test_phrase_is_on_the_store_clock_not_utc(lumen) -> None:
    # 01:00 UTC on the 15th is still Monday 19:00 in Mexico City: Tuesday is "tomorrow".
    now = datetime(2026, 9, 15, 1, 0, tzinfo=UTC)
    when = datetime(2026, 9, 15, 16, 0, tzinfo=UTC)  # 10:00 in Mexico City
    assert phrase(when, now, lumen, "es") == "mañana antes de las 10:00"
    assert phrase(datetime(2026, 9, 14, 23, 30, tzinfo=UTC), mx(2026, 9, 14, 10), lumen, "en") == (
        "today by 17:30"
    )


def test_phrase_language_tags_and_fallback(lumen) -> None:
    now, when = mx(2026, 9, 14, 10), mx(2026, 9, 14, 17)
    assert phrase(when, now, lumen, "en-US") == "today by 17:00"
    assert phrase(when, now, lumen, "es_MX") == "hoy antes de las 17:00"
    assert phrase(when, now, lumen, "fr") == "hoy antes de las 17:00"


def test_spanish_says_la_for_one_oclock(lumen) -> None:
    now = mx(2026, 9, 14, 0, 10)
    assert phrase(mx(2026, 9, 14, 1), now, lumen, "es") == "hoy antes de la 01:00"
    assert phrase(mx(2026, 9, 14, 2), now, lumen, "es") == "hoy antes de las 02:00"


def test_no_out_of_hours_notice_when_open(lumen) -> None:
    assert out_of_hours_notice(mx(2026, 9, 14, 10), lumen, "es") is None
    assert out_of_hours_notice(mx(2026, 9, 19, 13), lumen, "en") is None


@pytest.mark.parametrize(
    ("now", "es", "en"),
    [
        (mx(2026, 9, 14, 7), "volvemos hoy a las 09:00.", "we're back today at 09:00."),
        (mx(2026, 9, 18, 19), "volvemos mañana a las 10:00.", "we're back tomorrow at 10:00."),
        (mx(2026, 9, 19, 15), "volvemos el lunes a las 09:00.", "we're back on Monday at 09:00."),
        (
            mx(2026, 9, 15, 18),
            "volvemos el jueves a las 09:00.",
            "we're back on Thursday at 09:00.",
        ),
    ],
)
def test_out_of_hours_notice_says_when_the_team_is_back(lumen, now, es, en) -> None:
    assert out_of_hours_notice(now, lumen, "es") == f"Ahora estamos fuera de horario; {es}"
    assert out_of_hours_notice(now, lumen, "en") == f"We're closed right now; {en}"


# --- Validation and the policy file ------------------------------------------------------------


def test_add_business_minutes_refuses_negative_minutes(lumen) -> None:
    with pytest.raises(ValueError, match="zero or more"):
        lumen.add_business_minutes(mx(2026, 9, 14, 10), -1)
    assert lumen.add_business_minutes(mx(2026, 9, 14, 19), 0) == mx(2026, 9, 15, 9)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
        ({"weekly": {0: [(time(18), time(9))]}}, "must end after it starts"),
        ({"weekly": {0: [(time(9), time(14)), (time(13), time(18))]}}, "overlap"),
        ({"weekly": {7: [(time(9), time(18))]}}, "weekday must be 0"),
        ({"weekly": {0: []}}, "no opening interval"),
        ({"holiday_country": "XX"}, "unknown holidays calendar"),
        ({"holiday_country": "MX", "holiday_subdivision": "ZZ"}, "unknown holidays calendar"),
    ],
)
def test_business_hours_are_validated(kwargs, message) -> None:
    values = {"timezone": "America/Mexico_City", "weekly": {0: [(time(9), time(18))]}} | kwargs
    with pytest.raises(SupportHoursError, match=message):
        BusinessHours(**values)


def test_the_schedule_that_never_opens_is_an_error() -> None:
    start = date(2026, 1, 1)
    hours = BusinessHours(
        timezone="America/Mexico_City",
        weekly={0: [(time(9), time(18))]},
        closed_dates=frozenset(start + timedelta(days=n) for n in range(420)),
    )
    with pytest.raises(SupportHoursError, match="never open"):
        hours.next_open(mx(2026, 1, 1))


def test_the_shipped_policy_is_lumens(lumen, sla) -> None:
    assert lumen.timezone == "America/Mexico_City"
    assert lumen.holiday_country == "MX"
    assert lumen.holiday_subdivision is None
    assert lumen.weekly[0] == [(time(9), time(18))]
    assert lumen.weekly[4] == [(time(9), time(18))]
    assert lumen.weekly[5] == [(time(10), time(14))]
    assert lumen.weekly[6] == []
    assert sla.first_reply_minutes == {"urgent": 15, "high": 30, "normal": 60, "low": 240}
    assert sla.handling_minutes == 12


VALID = """
timezone: America/Mexico_City
hours:
  monday: ["09:00-18:00"]
  tuesday: ["00:00-24:00"]
  saturday: "10:00 - 14:00"
holidays:
  country: "MX"
closed_dates: [2026-12-24, "2026-12-31"]
sla:
  first_reply_minutes: {urgent: 15, high: 30, normal: 60, low: 240}
  handling_minutes: 7.5
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "support.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_policy_reads_a_custom_file(tmp_path) -> None:
    hours, sla = load_policy(write(tmp_path, VALID))
    assert hours.weekly == {
        0: [(time(9), time(18))],
        1: [(time(0), time(0))],
        5: [(time(10), time(14))],
    }
    assert hours.is_open(mx(2026, 9, 15, 23, 59))  # "24:00" closes at midnight
    assert hours.closed_dates == frozenset({date(2026, 12, 24), date(2026, 12, 31)})
    assert sla.handling_minutes == 7.5


def test_load_policy_follows_the_environment_variable(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(ENV_VAR, str(write(tmp_path, VALID)))
    hours, _ = load_policy()
    assert hours.weekly[1] == [(time(0), time(0))]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('"09:00-18:00"]', '"09:00-25:00"]', "hours.monday: bad time '25:00'"),
        ('"09:00-18:00"]', '"9am-6pm"]', "hours.monday: bad time '9am'"),
        ('"09:00-18:00"]', '"18:00-09:00"]', "monday: interval 18:00-09:00 must end after"),
        ('"09:00-18:00"]', '"24:00-24:00"]', "bad time '24:00'"),
        ('"09:00-18:00"]', "9:00]", "interval 540 must be a quoted text"),
        ('"09:00-18:00"]', '"09:00 to 18:00"]', "bad interval '09:00 to 18:00'"),
        ("monday:", "munday:", "unknown weekday 'munday'; use monday, tuesday"),
        ("America/Mexico_City", "America/Ciudad_de_Mexico", "unknown time zone"),
        ('country: "MX"', "country: NO", "holidays.country: quote the code, got False"),
        ('country: "MX"', 'country: "XX"', "unknown holidays calendar"),
        ("2026-12-24,", "2026-02-30,", "not valid YAML: day is out of range"),
        ('"2026-12-31"', '"31/12/2026"', "closed_dates: '31/12/2026' is not a date"),
        ("low: 240", "lowest: 240", "sla: first reply target missing for: low"),
        ("normal: 60", "normal: 0", "first reply target for 'normal' must be"),
        ("handling_minutes: 7.5", "handling_minutes: -1", "handling minutes must be"),
        ("handling_minutes: 7.5", "handling: 7.5", "sla.handling_minutes is missing"),
        ("closed_dates:", "closed_days:", "unknown setting"),
        ("timezone: America/Mexico_City", "", "timezone is missing"),
    ],
)
def test_invalid_policy_files_say_what_is_wrong(tmp_path, old, new, message) -> None:
    assert old in VALID
    path = write(tmp_path, VALID.replace(old, new, 1))
    with pytest.raises(ValueError, match=message) as error:
        load_policy(path)
    assert str(error.value).startswith(str(path))


@pytest.mark.parametrize(
    ("text", "message"),
    [("- just\n- a list\n", "must be a mapping"), ("hours: [unclosed\n", "not valid YAML")],
)
def test_malformed_policy_files(tmp_path, text, message) -> None:
    with pytest.raises(SupportHoursError, match=message):
        load_policy(write(tmp_path, text))


def test_a_missing_policy_file_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(SupportHoursError, match="cannot read support hours"):
        load_policy(tmp_path / "nope.yml")
