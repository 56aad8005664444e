"""Helpers for driving the inbox over HTTP in tests."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
DEMO_PASSWORD = "correct horse battery"
ADMIN = "admin@velora.example"


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def log_in(client: TestClient, email: str = ADMIN, password: str = DEMO_PASSWORD) -> None:
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf": token}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
