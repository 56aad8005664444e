"""``social-care digest``: a recipient's digest previewed in the terminal, written as HTML, or sent now.

A manager tries the digest before the first morning: as text, as the HTML a
mail client shows (charts inlined, so a browser opens it from disk), or sent at
once through the mail outbox. A digest sent from here is recorded like the
morning round's, so the round does not send that recipient's day again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session

from social_care.config.models import Config, DigestRecipient
from social_care.digest import runs
from social_care.digest.build import brands_of, build_digest
from social_care.digest.chat import chat_from
from social_care.digest.days import LocalDay, yesterday
from social_care.digest.model import Digest
from social_care.digest.render import render_digest
from social_care.digest.sending import deliver, is_quiet, zone_of
from social_care.mail import Mail, MailTemplates
from social_care.resources import bundled
from social_care.storage.tables import DigestRun

_DATE_WORDS = ("today", "yesterday")


class BadDigestRequest(ValueError):
    """A request a person can fix: said in words, never as a traceback."""


@dataclass(frozen=True)
class DigestRequest:
    recipient: DigestRecipient
    day: LocalDay
    brand: str | None
    day_given: bool


def digest_request(
    config: Config, *, to: str | None, day: str | None, brand: str | None, send: bool, now: datetime
) -> DigestRequest:
    """What was asked for, each option checked against what the configuration and the calendar allow."""
    recipient = choose_recipient(config, to)
    local_day = choose_day(day, zone_of(config, recipient), now)
    chosen = choose_brand(config, recipient, brand)
    if send and chosen is not None:
        raise BadDigestRequest("--send sends a recipient's whole digest: leave out --brand, or preview it")
    if send and local_day.ends_at > now:
        raise BadDigestRequest(
            f"--send: {local_day.day} is not over yet in {local_day.zone.key}; its digest goes out tomorrow"
        )
    return DigestRequest(recipient, local_day, chosen, day_given=day is not None)


def choose_recipient(config: Config, to: str | None) -> DigestRecipient:
    people = config.digest.people()
    if not people:
        raise BadDigestRequest(
            'No digest recipients are configured: add some to [digest], e.g. recipients = ["you@example.com"]'
        )
    if to is None:
        return people[0]
    found = next((person for person in people if person.email == to.strip().lower()), None)
    if found is None:
        known = ", ".join(person.email for person in people)
        raise BadDigestRequest(f"--to: expected one of the digest's recipients ({known}), found {to!r}")
    return found


def choose_day(text: str | None, zone: ZoneInfo, now: datetime) -> LocalDay:
    """The recipient's yesterday by default; ``today`` (so far), ``yesterday`` or a date in their zone."""
    today = now.astimezone(zone).date()
    if text is None or text.strip() == "yesterday":
        return yesterday(now, zone)
    if text.strip() == "today":
        return LocalDay(today, zone)
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        example = today - timedelta(days=1)
        raise BadDigestRequest(
            f"--date: expected a date such as {example}, or today or yesterday, found {text!r}"
        ) from None
    if day > today:
        raise BadDigestRequest(f"--date: {day} has not begun yet in {zone.key} (today there is {today})")
    return LocalDay(day, zone)


def choose_brand(config: Config, recipient: DigestRecipient, brand: str | None) -> str | None:
    if brand is None:
        return None
    in_scope = brands_of(config, recipient)
    if brand in in_scope:
        return brand
    if brand in {item.name for item in config.brands}:
        scope = ", ".join(in_scope)
        raise BadDigestRequest(f"--brand: {recipient.email} hears only about {scope}, not {brand!r}")
    known = ", ".join(item.name for item in config.brands)
    raise BadDigestRequest(f"--brand: expected one of the brands ({known}), found {brand!r}")


@dataclass(frozen=True)
class Preview:
    digest: Digest
    mail: Mail

    @property
    def quiet(self) -> bool:
        return is_quiet(self.digest)


def preview(engine: Engine, config: Config, request: DigestRequest, now: datetime) -> Preview:
    with Session(engine) as session:
        digest = build_digest(
            session, config, request.recipient, now=now, day=request.day, brand=request.brand
        )
    return Preview(digest, render_digest(digest, MailTemplates(bundled("templates") / "mail")))


@dataclass(frozen=True)
class Sent:
    """How ``--send`` went: the run recorded now, or the one that was there already."""

    run: DigestRun
    now: bool


def send_now(
    engine: Engine,
    config: Config,
    request: DigestRequest,
    made: Preview,
    *,
    at: datetime,
    by: str,
    environ: Mapping[str, str],
) -> Sent:
    """Queue the previewed mail and record it as the recipient's digest of that day, unless one was;
    its short version goes to chat as the morning round's does."""
    email, day = request.recipient.email, request.day.day
    run = runs.Made(email, day, [brand.brand for brand in made.digest.brands], at, by, mail=made.mail)
    queued = deliver(engine, config, run, chat_from(config.digest, environ)) is not None
    with Session(engine) as session:
        recorded = runs.made(session, email, day)
    assert recorded is not None
    return Sent(recorded, queued)


def sent_message(sent: Sent, config: Config) -> str:
    """What ``--send`` did, and when the mail leaves."""
    run, zone = sent.run, ZoneInfo(config.digest.timezone)
    if not sent.now:
        when = run.made_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        return (
            f"{run.recipient}'s digest of {run.day} was made already ({run.state} {when} {zone.key},"
            f" by {run.made_by}); not queued again."
        )
    leaves = (
        "the running service sends it within seconds"
        if config.smtp.enabled
        else "it waits there while [smtp] enabled = false"
    )
    return f"Queued {run.recipient}'s digest of {run.day} in the mail outbox (mail {run.mail_id}): {leaves}."
