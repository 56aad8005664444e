"""Helpers for driving the inbox over HTTP in tests and reading its pages."""

from __future__ import annotations

import math
import re
import socket
from dataclasses import dataclass, field
from html.parser import HTMLParser

from fastapi.testclient import TestClient

from connectors.demo import DemoOptions
from social_care.config import Config
from social_care.resources import bundled

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
SEEN = re.compile(r'(?:name="seen" value|data-seen)="(\d+)"')
DEMO_PASSWORD = "correct horse battery"
ADMIN = "admin@velora.example"
SCRIPT = "<script>alert('x')</script>"
IMG = "<img src=x onerror=alert(1)>"
TEMPLATE = "{{ customer.first_name }}"


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def action_form(page: str) -> dict[str, str]:
    """The fields every action on the case page carries: the CSRF token and the latest change shown."""
    seen = SEEN.search(page)
    return {"csrf": csrf_of(page), "seen": seen.group(1) if seen else "0"}


def log_in(client: TestClient, email: str = ADMIN, password: str = DEMO_PASSWORD) -> None:
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf": token}, follow_redirects=False
    )
    assert response.status_code == 303, response.text


def minutes_until_demo_posts_containing(config: Config, *texts: str) -> int:
    """How long the demo source, at its configured pace, takes to release every post holding ``texts``."""
    lines = (bundled("config") / "demo" / "posts.jsonl").read_text(encoding="utf-8").splitlines()
    positions = [next(number for number, line in enumerate(lines, 1) if text in line) for text in texts]
    options = DemoOptions.model_validate(config.source("demo").options)
    return math.ceil(max(max(positions) - options.initial_burst, 0) / options.per_minute)


@dataclass
class Row:
    reference: str
    cells: list[str] = field(default_factory=list)


class QueuePage(HTMLParser):
    """The rows of ``table.queue`` as text, and every element that could run code anywhere on the page."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[Row] = []
        self.active: list[str] = []
        self._in_cell = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        handlers = [name for name, _ in attrs if name.startswith("on")]
        ours = tag == "script" and (values.get("src") or "").startswith("/static/")  # the page's own script
        if (tag in {"script", "iframe", "object", "embed"} and not ours) or handlers:
            self.active.append(f"<{tag} {' '.join(handlers)}>")
        if tag == "tr" and "case" in (values.get("class") or "").split():
            self.rows.append(Row(reference=values.get("data-case") or ""))
        elif tag == "td" and self.rows:
            self.rows[-1].cells.append("")
            self._in_cell = True

    def handle_endtag(self, tag: str) -> None:
        if tag in {"td", "tr"}:
            self._in_cell = False

    def handle_data(self, data: str) -> None:
        if self._in_cell:
            self.rows[-1].cells[-1] += data

    def row(self, reference: str) -> Row:
        return next(row for row in self.rows if row.reference == reference)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
