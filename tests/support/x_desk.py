"""The service with one X source on the fake X: the real tweepy client, our poller and outbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from social_care.runtime import Service, build_service
from tests.fakes.x_api import FakeX
from tests.support.clock import FakeClock
from tests.support.configs import Raw, demo_config

SECRETS = {
    "bearer_token": "X_BEARER_TOKEN",
    "consumer_key": "X_CONSUMER_KEY",
    "consumer_secret": "X_CONSUMER_SECRET",
    "access_token": "X_ACCESS_TOKEN",
    "access_token_secret": "X_ACCESS_TOKEN_SECRET",
}


def x_environ(fake: FakeX) -> dict[str, str]:
    """The environment holding the fake's credentials under the variable names the source gives."""
    return {variable: getattr(fake.credentials, name) for name, variable in SECRETS.items()}


def x_source(fake: FakeX, *, source: dict[str, Any] | None = None, **options: object) -> Raw:
    """One X source, @velora, on ``fake``; ``source`` adds settings, ``options`` [sources.options]."""
    return {
        "id": "x-velora",
        "platform": "x",
        "brand": "Velora",
        "account": "@velora",
        "auto_reply": True,
        "api_base_url": fake.url,
        "credentials": SECRETS,
        **(source or {}),
        "options": {"user_id": fake.account_id, "max_results": 10, "timeout_seconds": 0.3, **options},
    }


def x_config_raw(raw: Raw, fake: FakeX, *, source: dict[str, Any] | None = None, **options: object) -> None:
    """Make the demo configuration ``raw`` watch X only, everyone answering from the X account."""
    raw["sources"] = [x_source(fake, source=source, **options)]
    for person in raw["employees"]:
        person["accounts"] = ["x-velora"]


def x_service(
    fake: FakeX,
    engine: Engine,
    clock: FakeClock,
    tmp_path: Path,
    *,
    source: dict[str, Any] | None = None,
    **options: object,
) -> Service:
    config = demo_config(tmp_path, lambda raw: x_config_raw(raw, fake, source=source, **options))
    return build_service(config, engine, environ=x_environ(fake), clock=clock)
