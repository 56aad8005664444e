"""Digests in the archive, made by hand: a busy day full of strangers' hostile text, a quiet day skipped."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from sqlalchemy import Engine
from sqlmodel import Session

from social_care.config import Config
from social_care.digest import runs
from social_care.digest.render import render_digest
from social_care.mail import Mail, MailTemplates
from social_care.resources import bundled
from social_care.users import set_employee_password
from tests.digest.days import DAY, a_brand_day, a_digest
from tests.web.support import ADMIN, DEMO_PASSWORD

SUPERVISOR = "chiara.conti@velora.example"
AGENT = "james.wright@velora.example"
MADE_AT = datetime(2026, 12, 4, 7, 0, tzinfo=UTC)


def passwords(config: Config, engine: Engine) -> None:
    for email in (ADMIN, SUPERVISOR, AGENT):
        set_employee_password(config, engine, email, DEMO_PASSWORD)


def a_digest_mail() -> Mail:
    return render_digest(a_digest(a_brand_day()), MailTemplates(bundled("templates") / "mail"))


def archived(engine: Engine, mail: Mail | None, *, day: date = DAY, to: str = SUPERVISOR) -> int:
    """A digest run as the morning round records it; its id."""
    made = runs.Made(to, day, ["Velora"], MADE_AT, "worker-1", mail=mail, skipped_because="a quiet day")
    with Session(engine) as session:
        run_id = runs.record(session, made)
        session.commit()
    assert run_id is not None
    return run_id


def tampered(mail: Mail) -> Mail:
    """The mail as if escaping had failed: live script and a handler in the very HTML kept."""
    attack = "<script>document.body.dataset.ran = 'script'; alert('x')</script>"
    attack += "<img src=x onerror=\"document.body.dataset.ran = 'handler'\">"
    return replace(
        mail, html=mail.html.replace("<body", attack + "<body", 1).replace("</body>", attack + "</body>")
    )
