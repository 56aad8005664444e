"""The team dashboard: today so far for the supervisor's teams, from local midnight to now.

One day's story, told below with every time in UTC (Rome, the service's zone, is an hour
ahead, so the local day began at 23:00 the evening before), and the dashboard read at 09:05:

- Y, care-it (Luca): opened yesterday at 22:00, answered in time yesterday, still open.
- T, care-it (Sara): opened at 23:30 (00:30 in Rome: today), acknowledged and answered in
  time, resolved.
- A, care-it (Luca): opened 08:00, acknowledged 08:05, the customer writes again at 08:15,
  answered 08:30: all in time, still open.
- B, care-it (Sara): opened 08:10, acknowledged 08:40, past the 15 minutes: late, open.
- C, care-en (James): opened 08:20; the sweep at 08:50 records its acknowledgement as
  breached; answered 08:55, in time for the first response. Open.
- U, no team: opened 08:30, breached at the sweep. Only an admin's dashboard counts it.
- D, payments (Paola): an inquiry opened 08:45, acknowledged 08:50, answered and resolved 09:00.
- E, care-en (James): opened 09:00, its clocks still running.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from social_care.config import Config
from social_care.storage.tables import Employee
from social_care.users import set_employee_password
from social_care.web.app import create_app
from social_care.web.dashboard import nice_ceiling
from tests.support.clock import FakeClock
from tests.support.configs import Raw, demo_config
from tests.support.desk import Desk
from tests.web.support import ADMIN, DEMO_PASSWORD, IMG, SCRIPT, log_in

LUCA = "luca.marino@velora.example"  # agent, care-it
SARA = "sara.greco@velora.example"  # agent, care-it and care-en
JAMES = "james.wright@velora.example"  # agent, care-en
PAOLA = "paola.ricci@velora.example"  # agent, payments
CHIARA = "chiara.conti@velora.example"  # supervisor of every team (of care-en alone, in one variant)
PEOPLE = (LUCA, SARA, JAMES, PAOLA, CHIARA, ADMIN)
UNMEASURED = "\u2013 none yet"  # a share with nothing measured: a dash, never 0%


def at(clock: FakeClock, day: int, hour: int, minute: int = 0) -> None:
    clock.now = datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def tell_the_day(desk: Desk) -> None:
    clock = desk.clock
    at(clock, 22, 22, 0)
    y = desk.post(handle="yves")
    desk.assign(y, "care-it", LUCA)
    at(clock, 22, 22, 5)
    desk.acknowledge(y)
    at(clock, 22, 22, 30)
    desk.reply(y, LUCA)
    at(clock, 22, 23, 30)
    t = desk.post(handle="tina")
    desk.assign(t, "care-it", SARA)
    at(clock, 22, 23, 40)
    desk.acknowledge(t)
    at(clock, 23, 0, 10)
    desk.reply(t, SARA, resolves=True)
    at(clock, 23, 8, 0)
    a = desk.post(handle="anna")
    desk.assign(a, "care-it", LUCA)
    at(clock, 23, 8, 5)
    desk.acknowledge(a)
    at(clock, 23, 8, 10)
    b = desk.post(handle="bruno")
    desk.assign(b, "care-it", SARA)
    at(clock, 23, 8, 15)
    desk.post(handle="anna", reply_to=desk.case(a).thread_key)
    at(clock, 23, 8, 20)
    c = desk.post(handle="carla")
    desk.assign(c, "care-en", JAMES)
    at(clock, 23, 8, 30)
    desk.reply(a, LUCA)
    desk.post(handle="ugo")
    at(clock, 23, 8, 40)
    desk.acknowledge(b)
    at(clock, 23, 8, 45)
    d = desk.post(handle="dario", category="inquiry")
    desk.assign(d, "payments", PAOLA)
    at(clock, 23, 8, 50)
    desk.service.sweeper.run_once()
    desk.acknowledge(d)
    at(clock, 23, 8, 55)
    desk.reply(c, JAMES)
    at(clock, 23, 9, 0)
    desk.reply(d, PAOLA, resolves=True)
    e = desk.post(handle="elena", text=f"Velora Pulse {SCRIPT}")
    desk.assign(e, "care-en", JAMES)
    at(clock, 23, 9, 5)


class DashboardPage(HTMLParser):
    """What the dashboard says: its named figures, attainment rows, hours and people as text,
    and every element that could run code."""

    KINDS = ("data-figure", "data-attainment", "data-hour", "data-person")

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.found: dict[str, dict[str, list[str]]] = {kind: {} for kind in self.KINDS}
        self.active: list[str] = []
        self._open: list[tuple[list[str], int]] = []  # the cells being read, and their depth
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        handlers = [name for name, _ in attrs if name.startswith("on")]
        if tag in {"script", "iframe", "object", "embed", "foreignobject"} or handlers:
            self.active.append(f"<{tag} {' '.join(handlers)}>")
        self._open = [(cells, depth + 1) for cells, depth in self._open]
        if tag == "td" and self._open:
            self._open[-1][0].append("")
        for kind in self.KINDS:
            if kind in values:
                cells: list[str] = [] if tag == "tr" else [""]
                self.found[kind][values[kind] or ""] = cells
                self._open.append((cells, 1))

    def handle_endtag(self, tag: str) -> None:
        self._open = [(cells, depth - 1) for cells, depth in self._open if depth > 1]

    def handle_data(self, data: str) -> None:
        if self._open and self._open[-1][0]:
            self._open[-1][0][-1] += data

    def _text(self, kind: str) -> dict[str, list[str]]:
        return {key: [" ".join(cell.split()) for cell in cells] for key, cells in self.found[kind].items()}

    @property
    def figures(self) -> dict[str, str]:
        return {key: cells[0] for key, cells in self._text("data-figure").items()}

    @property
    def attainment(self) -> dict[str, str]:
        return {key: cells[0] for key, cells in self._text("data-attainment").items()}

    @property
    def hours(self) -> dict[str, list[str]]:
        return {
            key: cells
            for key, cells in self._text("data-hour").items()
            if any(cell != "0" for cell in cells[1:])
        }

    @property
    def people(self) -> dict[str, list[str]]:
        return self._text("data-person")


def client_for(config: Config, engine: Engine, clock: FakeClock) -> TestClient:
    return TestClient(create_app(config, engine, secret_key="dashboard-test-secret", clock=clock))


def desk_with_passwords(engine: Engine, config: Config, clock: FakeClock) -> Desk:
    desk = Desk(engine, config, clock)
    for email in PEOPLE:
        set_employee_password(config, engine, email, DEMO_PASSWORD)
    return desk


@pytest.fixture
def desk(engine: Engine, config: Config, clock: FakeClock) -> Desk:
    desk = desk_with_passwords(engine, config, clock)
    tell_the_day(desk)
    return desk


@pytest.fixture
def client(desk: Desk) -> Iterator[TestClient]:
    with client_for(desk.config, desk.engine, desk.clock) as client:
        yield client


def dashboard(client: TestClient, email: str) -> DashboardPage:
    log_in(client, email)
    response = client.get("/dashboard")
    assert response.status_code == 200, response.text
    return DashboardPage(response.text)


def test_an_agent_may_not_open_the_dashboard(client: TestClient) -> None:
    log_in(client, LUCA)
    refused = client.get("/dashboard")
    assert refused.status_code == 403
    assert 'href="/team"' not in refused.text and 'href="/dashboard"' not in refused.text


def test_someone_signed_out_is_sent_to_sign_in(client: TestClient) -> None:
    response = client.get("/dashboard", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/login")


def test_a_supervisor_finds_the_dashboard_in_the_header(client: TestClient) -> None:
    log_in(client, CHIARA)
    assert 'href="/dashboard"' in client.get("/team").text


def test_sla_attainment_today_against_each_policys_floor(client: TestClient) -> None:
    page = dashboard(client, CHIARA)
    assert page.attainment == {
        "urgent complaints / acknowledgement": f"urgent complaints acknowledgement {UNMEASURED} · floor 95%",
        "urgent complaints / first response": f"urgent complaints first response {UNMEASURED} · floor 95%",
        # T and A in time; B late, C breached. Y was acknowledged yesterday, E's clock still runs.
        "complaints / acknowledgement": "complaints acknowledgement 50% 2 of 4 · floor 90%",
        # T, A and C answered in time; Y's answer was yesterday's, B's clock still runs.
        "complaints / first response": "complaints first response 100% 3 of 3 · floor 90%",
        "inquiries / acknowledgement": "inquiries acknowledgement 100% 1 of 1 · floor 90%",
        "inquiries / first response": "inquiries first response 100% 1 of 1 · floor 90%",
    }


def test_breaches_backlog_and_its_age(client: TestClient) -> None:
    figures = dashboard(client, CHIARA).figures
    assert (figures["breaches"], figures["breaches-acknowledgement"]) == ("2", "2")  # B late, C breached
    assert (figures["breaches-response"], figures["breaches-resolution"]) == ("0", "0")
    # Y, A, B, C and E are open: 665, 65, 55, 45 and 5 minutes old.
    assert (figures["backlog"], figures["oldest"], figures["median-age"]) == ("5", "11 h 05 min", "55 min")
    # T, A, B, C, D and E opened today, and their customers wrote 7 times (Anna twice).
    assert (figures["opened"], figures["posts"]) == ("6", "7")
    # A 5, D 5, T 10, B 30 and C 35 minutes (acknowledged by James's answer).
    assert figures["acknowledgement-median"] == "10 min"


def test_customers_posts_by_local_hour_and_team(client: TestClient) -> None:
    hours = dashboard(client, CHIARA).hours
    # Columns: hour, care-en, care-it, payments, all. U's post has no team of hers.
    assert hours == {
        "00:00": ["00:00", "0", "1", "0", "1"],
        "09:00": ["09:00", "1", "3", "1", "5"],
        "10:00": ["10:00", "1", "0", "0", "1"],
    }


def test_load_per_person_against_capacity_with_availability_and_shift(client: TestClient, desk: Desk) -> None:
    with Session(desk.engine) as session:
        paola = session.exec(select(Employee).where(Employee.email == PAOLA)).one()
        paola.available = False
        session.add(paola)
        session.commit()
    people = dashboard(client, CHIARA).people
    assert people == {  # the busiest first; Chiara works Monday to Friday from 08:00 in Rome
        JAMES: ["James Wright agent", "care-en", "2 / 20", "available", "on shift"],
        LUCA: ["Luca Marino agent", "care-it", "2 / 25", "available", "on shift"],
        SARA: ["Sara Greco agent", "care-en, care-it", "1 / 20", "available", "on shift"],
        CHIARA: ["Chiara Conti supervisor", "care-en, care-it, payments", "0 / 10", "available", "on shift"],
        PAOLA: ["Paola Ricci agent", "payments", "0 / 20", "away", "on shift"],
    }
    assert list(people)[:2] == [JAMES, LUCA]


def test_an_admin_sees_every_team_and_the_cases_no_rule_routed(client: TestClient) -> None:
    page = dashboard(client, ADMIN)
    figures = page.figures
    assert (figures["breaches"], figures["backlog"], figures["posts"]) == ("3", "6", "8")
    attained = page.attainment["complaints / acknowledgement"]
    assert attained == "complaints acknowledgement 40% 2 of 5 · floor 90%"  # U breached too
    assert page.hours["09:00"] == ["09:00", "1", "3", "1", "1", "6"]  # care-en, care-it, payments, unrouted
    assert ADMIN in page.people and len(page.people) == 6


def one_team_for_chiara(raw: Raw) -> None:
    """Chiara runs care-en alone; the admin supervises the other teams."""
    for team in raw["teams"]:
        team["supervisor"] = "chiara.conti@velora.example" if team["name"] == "care-en" else ADMIN
    chiara = next(person for person in raw["employees"] if person["email"] == CHIARA)
    chiara["teams"] = ["care-en"]


def test_a_supervisor_of_one_team_sees_that_team_only(
    engine: Engine, clock: FakeClock, tmp_path: Path
) -> None:
    config = demo_config(tmp_path, one_team_for_chiara)
    desk = desk_with_passwords(engine, config, clock)
    tell_the_day(desk)
    with client_for(config, engine, clock) as client:
        log_in(client, CHIARA)
        html = client.get("/dashboard").text
    page = DashboardPage(html)
    attained = page.attainment
    assert attained["complaints / acknowledgement"] == "complaints acknowledgement 0% 0 of 1 · floor 90%"
    assert attained["complaints / first response"] == "complaints first response 100% 1 of 1 · floor 90%"
    assert attained["inquiries / acknowledgement"] == f"inquiries acknowledgement {UNMEASURED} · floor 90%"
    figures = page.figures
    assert (figures["breaches"], figures["backlog"], figures["oldest"], figures["median-age"]) == (
        "1",
        "2",
        "45 min",
        "25 min",
    )
    assert page.hours == {"09:00": ["09:00", "1", "1"], "10:00": ["10:00", "1", "1"]}
    assert set(page.people) == {JAMES, SARA, CHIARA}
    assert page.people[SARA][1] == "care-en"
    for elsewhere in ("care-it", "payments", "Luca Marino", "Paola Ricci"):
        assert elsewhere not in html


def hostile(raw: Raw) -> None:
    """Names that would run if written into the page unescaped."""
    for team in raw["teams"]:
        if team["name"] == "care-en":
            team["name"] = IMG
    for person in raw["employees"]:
        person["teams"] = [IMG if team == "care-en" else team for team in person["teams"]]
        if person["email"] == LUCA:
            person["name"] = SCRIPT
    for rule in raw["routing"]:
        if rule.get("team") == "care-en":
            rule["team"] = IMG
    raw["sla"][1]["name"] = 'complaints" onmouseover="alert(1)'


def test_names_from_the_configuration_are_escaped_everywhere(
    engine: Engine, clock: FakeClock, tmp_path: Path
) -> None:
    config = demo_config(tmp_path, hostile)
    desk = desk_with_passwords(engine, config, clock)
    at(clock, 23, 8, 0)
    case_id = desk.post(handle="anna", text=f"Velora {SCRIPT}")
    desk.assign(case_id, IMG, SARA)
    at(clock, 23, 8, 30)
    with client_for(config, engine, clock) as client:
        log_in(client, ADMIN)
        html = client.get("/dashboard").text
    page = DashboardPage(html)
    assert page.active == []
    assert SCRIPT not in html and IMG not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert page.people[LUCA][0] == f"{SCRIPT} agent"
    assert page.hours["09:00"][1] == "1"  # the post counted under its (escaped) team


def test_the_page_draws_its_charts_inline_and_loads_nothing_else(client: TestClient) -> None:
    log_in(client, CHIARA)
    html = client.get("/dashboard").text
    assert html.count("<svg") >= 3
    assert not re.search(r"<script|<link(?![^>]*/static/inbox\.css)|<img|https?://", html)


@pytest.mark.parametrize(
    ("most", "scale"), [(0, 2), (1, 2), (2, 2), (3, 4), (7, 8), (9, 10), (11, 20), (45, 60), (130, 200)]
)
def test_the_volume_scale_ends_on_a_round_number_with_a_whole_half(most: int, scale: int) -> None:
    assert nice_ceiling(most) == scale
