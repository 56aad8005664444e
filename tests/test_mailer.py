"""The mail outbox: queued once per reason, sent by a worker, retried with backoff, given up in the end."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, select

from responders.mailer import MailSender, queue_mail
from social_care.config.models import SmtpSettings
from social_care.mail import InlineImage, Mail, Mailer
from social_care.runtime import build_service, start_workers
from social_care.storage.tables import MailEntry, MailImage
from tests.fakes.smtp_server import MailServer
from tests.support.clock import FakeClock
from tests.support.configs import Raw, demo_config

NOTICE = Mail(subject="SC-000001 is yours", text="plain", html="<p>html</p>")


def queue(engine: Engine, clock: FakeClock, key: str = "case:1:assignment") -> bool:
    with Session(engine) as session:
        queued = queue_mail(
            session, key=key, purpose="assignment", to=["ann@velora.example"], mail=NOTICE, now=clock()
        )
        session.commit()
    return queued


def sender(engine: Engine, clock: FakeClock, port: int) -> MailSender:
    mailer = Mailer(SmtpSettings(port=port, timeout_seconds=2), {})
    return MailSender(engine, mailer, clock=clock, owner="worker", max_attempts=3)


def test_the_same_reason_queues_one_mail_and_it_is_sent_once(engine: Engine, clock: FakeClock) -> None:
    assert queue(engine, clock) is True
    assert queue(engine, clock) is False
    server = MailServer()
    try:
        assert sender(engine, clock, server.port).run_once().sent == 1
        assert sender(engine, clock, server.port).run_once().sent == 0
    finally:
        server.stop()
    assert [mail.message["Subject"] for mail in server.inbox.mails] == ["SC-000001 is yours"]


def test_an_unreachable_server_is_retried_with_growing_waits_then_given_up(
    engine: Engine, clock: FakeClock
) -> None:
    queue(engine, clock)
    nobody = sender(engine, clock, 9)
    assert nobody.run_once().failed == 1
    clock.advance(minutes=1)
    assert nobody.run_once().failed == 0, "the first wait is two minutes"
    clock.advance(minutes=1)
    assert nobody.run_once().failed == 1
    clock.advance(minutes=3)
    assert nobody.run_once().failed == 0, "the second wait is four minutes"
    clock.advance(minutes=1)
    report = nobody.run_once()
    assert report.dead == 1 and "127.0.0.1:9" in report.last_error
    clock.advance(hours=1)
    assert nobody.run_once().dead == 0
    with Session(engine) as session:
        entry = session.exec(select(MailEntry)).one()
    assert (entry.state, entry.attempts, entry.sent_at) == ("dead", 3, None)


def test_mail_switched_off_is_kept_in_the_outbox_and_no_worker_sends_it(
    engine: Engine, clock: FakeClock, tmp_path: Path
) -> None:
    def smtp(enabled: bool) -> Callable[[Raw], None]:
        return lambda raw: raw["smtp"].update({"enabled": enabled})

    off = build_service(demo_config(tmp_path, smtp(False)), engine, clock=clock)
    on = build_service(demo_config(tmp_path, smtp(True)), engine, clock=clock)
    jobs = {}
    for name, service in (("off", off), ("on", on)):
        scheduler = start_workers(service)
        try:
            jobs[name] = {job.id for job in scheduler.get_jobs()}
        finally:
            scheduler.shutdown(wait=True)
    assert "mail" not in jobs["off"] and "mail" in jobs["on"]
    assert jobs["off"] | {"mail"} == jobs["on"]


def test_a_sender_whose_server_answered_after_its_lease_leaves_a_mail_the_next_one_sent_alone(
    engine: Engine, clock: FakeClock
) -> None:
    queue(engine, clock)
    other = MailServer()
    slow = MailServer()

    def the_answer_comes_after_the_lease() -> None:
        clock.advance(minutes=3)
        assert sender(engine, clock, other.port).run_once().sent == 1

    slow.inbox.while_receiving, slow.inbox.refuse = the_answer_comes_after_the_lease, True
    try:
        assert sender(engine, clock, slow.port).run_once().failed == 0
        clock.advance(hours=2)
        assert sender(engine, clock, other.port).run_once().sent == 0
    finally:
        slow.stop()
        other.stop()
    assert len(other.inbox.mails) == 1
    with Session(engine) as session:
        assert session.exec(select(MailEntry)).one().state == "sent"


PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
DIGEST = Mail(
    subject="Velora: Thu 3 Dec",
    text="plain",
    html='<img src="cid:trend.1@social-care"><img src="cid:hours.1@social-care">',
    images=(
        InlineImage("trend.1@social-care", PNG, "the trend"),
        InlineImage("hours.1@social-care", PNG[::-1], "the hours"),
    ),
)


def test_a_mails_images_are_queued_with_it_and_a_retry_sends_the_same_mail(
    engine: Engine, clock: FakeClock
) -> None:
    with Session(engine) as session:
        assert queue_mail(
            session, key="digest:1", purpose="digest", to=["ann@velora.example"], mail=DIGEST, now=clock()
        )
        session.commit()
    assert sender(engine, clock, 9).run_once().failed == 1
    clock.advance(minutes=2)
    server = MailServer()
    try:
        assert sender(engine, clock, server.port).run_once().sent == 1
    finally:
        server.stop()
    [received] = server.inbox.mails
    related = received.message.get_body(preferencelist=("related",))
    assert related is not None
    _html, *pictures = related.iter_parts()
    assert [(p["Content-ID"], p.get_content()) for p in pictures] == [
        ("<trend.1@social-care>", PNG),
        ("<hours.1@social-care>", PNG[::-1]),
    ]


def test_a_mail_without_images_keeps_no_image_rows(engine: Engine, clock: FakeClock) -> None:
    queue(engine, clock)
    with Session(engine) as session:
        assert session.exec(select(MailImage)).all() == []
