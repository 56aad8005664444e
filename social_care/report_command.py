"""``social-care report``: the service figures of a period, as tables for a person to read."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from rich.table import Table

from social_care.config.models import Config
from social_care.metrics import Durations, Filters, Period, Report
from social_care.metrics.measure import UNROUTED

# The years a period may fall in: the figures start from 1970 at the earliest, and a moment near the
# ends of the calendar cannot be moved to UTC and widened to whole days.
YEARS = range(1970, 9999)


class BadReportRequest(ValueError):
    """A request a person can fix: said in words, never as a traceback."""


def parse_moment(value: str, option: str, zone: ZoneInfo) -> datetime:
    """A date (its midnight) or a date and time; without an offset, in the service's time zone."""
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text) if "T" in text or " " in text else _midnight(text)
    except ValueError:
        expected = "a date such as 2026-11-23 or a time such as 2026-11-23T09:00"
        raise BadReportRequest(f"{option}: expected {expected}, found {value!r}") from None
    if moment.year not in YEARS:
        expected = f"a date from {YEARS.start}-01-01 to {YEARS.stop - 1}-12-31"
        raise BadReportRequest(f"{option}: expected {expected}, found {value!r}")
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _midnight(text: str) -> datetime:
    return datetime.combine(date.fromisoformat(text), time(0))


def report_period(config: Config, since: str, until: str) -> Period:
    zone = ZoneInfo(config.service.timezone)
    start, end = parse_moment(since, "--since", zone), parse_moment(until, "--until", zone)
    if end <= start:
        raise BadReportRequest(f"--until ({until}) must come after --since ({since})")
    return Period(start, end)


def report_filters(config: Config, team: str | None, source: str | None, category: str | None) -> Filters:
    """The filters asked for, each checked against the names it can take; ``--team unrouted`` is
    the cases no rule routed, as in the by-team breakdown."""
    known = {
        "--team": (team, [*(item.name for item in config.teams), UNROUTED]),
        "--source": (source, [item.id for item in config.sources]),
        "--category": (category, ["complaint", "inquiry", "praise", "other"]),
    }
    for option, (value, names) in known.items():
        if value is not None and value not in names:
            raise BadReportRequest(f"{option}: expected one of {', '.join(names) or 'none'}, found {value!r}")
    return Filters(team=team, source=source, category=category)


def duration(value: timedelta | None) -> str:
    if value is None:
        return "-"
    seconds = round(value.total_seconds())
    hours, rest = divmod(seconds, 3600)
    mins, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {mins:02d}m"
    return f"{mins}m {secs:02d}s"


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}%"


def tables(report: Report, zone: ZoneInfo) -> list[Table]:
    return [_times(report, zone), _attainment(report), _workload(report)]


def _title(report: Report, zone: ZoneInfo, what: str) -> str:
    since, until = (moment.astimezone(zone) for moment in (report.period.since, report.period.until))
    scope = ", ".join(
        f"{name} {value}"
        for name, value in (
            ("team", report.filters.team),
            ("source", report.filters.source),
            ("category", report.filters.category),
        )
        if value
    )
    return f"{what}, {since:%Y-%m-%d %H:%M} to {until:%Y-%m-%d %H:%M} {zone.key}" + (
        f" ({scope})" if scope else ""
    )


def _times(report: Report, zone: ZoneInfo) -> Table:
    table = Table(title=_title(report, zone, "Response times"))
    for column in ("measure", "cases", "mean", "median", "p90"):
        table.add_column(column, justify="left" if column == "measure" else "right")
    rows: list[tuple[str, Durations]] = [
        ("acknowledgement", report.acknowledgement),
        ("first human response", report.first_response),
        ("every response", report.response),
        ("resolution", report.resolution),
    ]
    for name, figures in rows:
        table.add_row(
            name, str(figures.count), duration(figures.mean), duration(figures.median), duration(figures.p90)
        )
    return table


def _attainment(report: Report) -> Table:
    table = Table(title="SLA attainment")
    for column in ("policy", "target", "met", "measured", "attainment", "floor", "verdict"):
        table.add_column(column, justify="left" if column in ("policy", "target", "verdict") else "right")
    for item in report.attainment:
        verdict = {True: "meets floor", False: "BELOW FLOOR", None: "-"}[item.meets_floor]
        table.add_row(
            item.policy,
            item.target,
            str(item.met),
            str(item.measured),
            percent(item.percent),
            percent(item.floor_percent),
            verdict,
        )
    return table


def _workload(report: Report) -> Table:
    table = Table(title="Workload and satisfaction")
    table.add_column("measure")
    table.add_column("value", justify="right")
    csat = report.csat
    rows = [
        ("cases opened", str(report.opened)),
        ("of which resolved", f"{report.resolved_of_opened} ({percent(report.resolution_rate)})"),
        ("backlog at the end", str(report.backlog.open_cases)),
        ("backlog age: median / p90 / oldest", _ages(report)),
        (
            "interactions per case",
            "-" if report.interactions_per_case is None else f"{report.interactions_per_case:.2f}",
        ),
        *((f"messages from {channel}", str(count)) for channel, count in report.volume_by_channel.items()),
        ("CSAT answers", str(csat.responses)),
        ("CSAT mean (1-5)", "-" if csat.mean_score is None else f"{csat.mean_score:.2f}"),
        ("CSAT satisfied (4-5)", percent(csat.satisfied_percent)),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def _ages(report: Report) -> str:
    age = report.backlog.age
    return f"{duration(age.median)} / {duration(age.p90)} / {duration(report.backlog.oldest)}"


def breakdown(reports: dict[str, Report], dimension: str) -> Table:
    """One row per group: the figures a manager compares across teams, sources or categories."""
    table = Table(title=f"By {dimension}")
    columns = (
        "opened",
        "resolved",
        "backlog",
        "ack. median",
        "1st reply median",
        "resolution p90",
        "attainment",
    )
    table.add_column(dimension)
    for column in columns:
        table.add_column(column, justify="right")
    for name, report in reports.items():
        met = sum(item.met for item in report.attainment)
        measured = sum(item.measured for item in report.attainment)
        table.add_row(
            name,
            str(report.opened),
            percent(report.resolution_rate),
            str(report.backlog.open_cases),
            duration(report.acknowledgement.median),
            duration(report.first_response.median),
            duration(report.resolution.p90),
            percent(100 * met / measured if measured else None),
        )
    return table
