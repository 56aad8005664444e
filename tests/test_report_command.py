"""``social-care report`` prints the figures of a period and explains bad requests in words."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from social_care.resources import example_config
from social_care.storage import migrate
from social_care.storage.engine import make_engine
from tests.support.clock import FakeClock
from tests.support.configs import demo_config
from tests.support.desk import Desk
from tests.test_cli import social_care

AGENT = "luca.marino@velora.example"


def a_morning_of_work(tmp_path: Path, *, unrouted: int = 0) -> None:
    """One complaint at 10:00 Rome time, acknowledged in 5 minutes and resolved by a person in 30;
    and ``unrouted`` posts of other customers that no rule routed."""
    engine = make_engine(f"sqlite:///{tmp_path / 'social-care.db'}")
    migrate.upgrade(engine)
    clock = FakeClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    desk = Desk(engine, demo_config(tmp_path), clock)
    case_id = desk.post()
    desk.assign(case_id, "care-it", AGENT)
    for number in range(unrouted):
        desk.post(handle=f"someone_{number}", category="other")
    clock.advance(minutes=5)
    desk.acknowledge(case_id)
    clock.advance(minutes=25)
    desk.reply(case_id, AGENT, resolves=True)
    engine.dispose()


def rows(output: str) -> list[list[str]]:
    """The cells of every table row printed."""
    return [[cell.strip() for cell in line.split("│")[1:-1]] for line in output.splitlines() if "│" in line]


def test_the_report_prints_response_times_attainment_and_workload(tmp_path: Path) -> None:
    a_morning_of_work(tmp_path)
    config = str(example_config())
    result = social_care(
        "report", "--since", "2026-11-23", "--until", "2026-11-24", "-c", config, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "Response times, 2026-11-23 00:00 to 2026-11-24 00:00 Europe/Rome" in result.stdout.splitlines()
    printed = rows(result.stdout)
    assert ["acknowledgement", "1", "5m 00s", "5m 00s", "5m 00s"] in printed
    assert ["resolution", "1", "30m 00s", "30m 00s", "30m 00s"] in printed
    assert ["complaints", "acknowledgement", "1", "1", "100.0%", "90.0%", "meets floor"] in printed
    assert ["urgent complaints", "acknowledgement", "0", "0", "-", "95.0%", "-"] in printed
    assert ["cases opened", "1"] in printed
    assert ["of which resolved", "1 (100.0%)"] in printed
    assert ["messages from demo", "1"] in printed


def test_the_report_breaks_the_figures_down_by_team(tmp_path: Path) -> None:
    a_morning_of_work(tmp_path)
    config = str(example_config())
    result = social_care("report", "--since", "2026-11-23", "--by", "team", "-c", config, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "By team" in result.stdout
    printed = rows(result.stdout)
    assert ["care-it", "1", "100.0%", "0", "5m 00s", "30m 00s", "30m 00s", "100.0%"] in printed
    assert ["payments", "0", "-", "0", "-", "-", "-", "-"] in printed
    assert ["unrouted", "0", "-", "0", "-", "-", "-", "-"] in printed, "said even when every case was routed"


def test_the_cases_no_rule_routed_have_their_row_and_the_rows_add_up(tmp_path: Path) -> None:
    a_morning_of_work(tmp_path, unrouted=2)
    config = str(example_config())
    result = social_care("report", "--since", "2026-11-23", "--by", "team", "-c", config, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    printed = rows(result.stdout)
    assert ["cases opened", "3"] in printed
    by_team = [row for row in printed if len(row) == 8]  # the breakdown's eight columns
    assert [row[0] for row in by_team] == ["care-it", "care-en", "payments", "unrouted"]
    assert ["unrouted", "2", "0.0%", "2", "-", "-", "-", "-"] in by_team
    assert sum(int(row[1]) for row in by_team) == 3


def test_the_report_of_the_cases_no_rule_routed(tmp_path: Path) -> None:
    a_morning_of_work(tmp_path, unrouted=2)
    config = str(example_config())
    result = social_care("report", "--since", "2026-11-23", "--team", "unrouted", "-c", config, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert ["cases opened", "2"] in rows(result.stdout)
    assert ["backlog at the end", "2"] in rows(result.stdout)


def test_a_period_before_the_work_reports_nothing_measured(tmp_path: Path) -> None:
    a_morning_of_work(tmp_path)
    config = str(example_config())
    result = social_care(
        "report", "--since", "2026-11-22T09:00", "--until", "2026-11-23T09:00", "-c", config, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert ["cases opened", "0"] in rows(result.stdout)
    assert ["acknowledgement", "0", "-", "-", "-"] in rows(result.stdout)


def test_bad_dates_and_names_are_explained_without_a_traceback(tmp_path: Path) -> None:
    config = str(example_config())
    cases = {
        ("--since", "23/11/2026"): "--since: expected a date such as 2026-11-23 or a time such as "
        "2026-11-23T09:00, found '23/11/2026'",
        ("--since", "2026-11-23", "--until", "2026-11-01"): "--until (2026-11-01) must come after --since "
        "(2026-11-23)",
        ("--since", "2026-11-23", "--category", "rant"): "--category: expected one of complaint, inquiry, "
        "praise, other, found 'rant'",
        (
            "--since",
            "2026-11-23",
            "--by",
            "mood",
        ): "--by: expected one of team, source, category, found 'mood'",
        (
            "--since",
            "0001-01-01",
        ): "--since: expected a date from 1970-01-01 to 9998-12-31, found '0001-01-01'",
        ("--since", "2026-11-23", "--until", "9999-12-31T23:00"): "--until: expected a date from 1970-01-01 "
        "to 9998-12-31, found '9999-12-31T23:00'",
    }
    for arguments, message in cases.items():
        result = social_care("report", *arguments, "-c", config, cwd=tmp_path)
        assert (result.returncode, result.stderr.strip()) == (2, message)
