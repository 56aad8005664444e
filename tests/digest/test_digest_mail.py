"""A digest arrives through a real SMTP server on loopback: text, then HTML with every chart it names."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from responders.mailer import MailSender, queue_mail
from social_care.config.models import SmtpSettings
from social_care.digest.model import Digest
from social_care.digest.render import render_digest
from social_care.mail import Mailer, MailTemplates
from social_care.resources import bundled
from tests.digest.days import HOSTILE, SPRING_FORWARD, a_brand_day, a_digest, a_quiet_brand_day
from tests.digest.pictures import bars_in
from tests.digest.reading import read
from tests.fakes.smtp_server import MailServer, Received
from tests.support.clock import FakeClock

TO = "manager@velora.example"


@pytest.fixture
def server() -> Iterator[MailServer]:
    server = MailServer()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def templates() -> MailTemplates:
    return MailTemplates(bundled("templates") / "mail")


def send(digest: Digest, templates: MailTemplates, server: MailServer) -> Received:
    mailer = Mailer(SmtpSettings(port=server.port, sender="care@velora.example"), {})
    mailer.send(render_digest(digest, templates), [TO])
    [received] = server.inbox.mails
    return received


def images_by_content_id(message: EmailMessage) -> dict[str, bytes]:
    related = message.get_body(preferencelist=("related",))
    if related is None:
        return {}
    _html, *images = related.iter_parts()
    assert all(image.get_content_type() == "image/png" for image in images)
    assert all(image.get_content_disposition() == "inline" for image in images)
    return {str(image["Content-ID"]).strip("<>"): image.get_content() for image in images}


def named_images(received: Received) -> list[str]:
    sources = [tag.attributes["src"] for tag in read(received.part("html")).named("img")]
    assert all(source.startswith("cid:") for source in sources), sources
    return [source.removeprefix("cid:") for source in sources]


@pytest.mark.parametrize("language", ["en", "it"])
def test_a_digest_arrives_with_text_then_html_and_every_chart_it_names(
    language: str, templates: MailTemplates, server: MailServer
) -> None:
    received = send(a_digest(a_brand_day(), a_brand_day("Orbis"), language=language), templates, server)
    message = received.message

    assert received.recipients == [TO]
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "multipart/related"]
    images = images_by_content_id(message)
    assert sorted(named_images(received)) == sorted(images), "every cid: has its image and every image a cid:"
    assert len(images) == 4
    assert all(png.startswith(b"\x89PNG") for png in images.values())
    assert message["Subject"].startswith("Velora · ")


@pytest.mark.parametrize("language", ["en", "it"])
def test_hostile_text_arrives_escaped_in_the_html_and_as_written_in_the_text(
    language: str, templates: MailTemplates, server: MailServer
) -> None:
    received = send(a_digest(language=language), templates, server)
    html, text = received.part("html"), received.part("plain")
    page = read(html)

    for hostile in HOSTILE:
        assert hostile in text
        assert hostile in page.seen()
    assert "<script" not in html and "<img src=x" not in html
    assert page.handlers() == [] and page.named("script") == []


def test_the_html_that_arrives_names_no_outside_address_but_the_desk_and_the_posts(
    templates: MailTemplates, server: MailServer
) -> None:
    page = read(send(a_digest(), templates, server).part("html"))
    for address in page.addresses():
        assert address.startswith(("cid:", "https://care.velora.example/", "https://x.com/fan")), address
    assert all(tag.attributes["src"].startswith("cid:") for tag in page.named("img"))
    assert page.named("link") == [] and page.named("style") == []


def test_a_quiet_day_arrives_short_with_no_images(templates: MailTemplates, server: MailServer) -> None:
    received = send(a_digest(a_quiet_brand_day()), templates, server)
    assert received.message["Subject"] == "Velora · Thu 3 Dec: no mentions"
    assert [part.get_content_type() for part in received.message.iter_parts()] == ["text/plain", "text/html"]
    assert "No mentions on Thu 3 Dec." in received.part("plain")
    assert named_images(received) == []


def test_a_daylight_saving_day_arrives_with_23_bars_and_says_so(
    templates: MailTemplates, server: MailServer
) -> None:
    digest = a_digest(day=SPRING_FORWARD)
    received = send(digest, templates, server)
    images = images_by_content_id(received.message)
    [hours_id] = [content_id for content_id in images if content_id.startswith("hours-")]
    [tag] = [
        tag for tag in read(received.part("html")).named("img") if tag.attributes["src"] == f"cid:{hours_id}"
    ]

    assert bars_in(images[hours_id]) == 23
    assert "a day of 23 hours (the clocks went forward)" in tag.attributes["alt"]
    assert "a day of 23 hours" in received.part("plain")
    assert received.message["Subject"].startswith("Velora · Sun 29 Mar: ")


def test_a_digest_queued_in_the_mail_outbox_is_sent_with_its_charts(
    engine: Engine, clock: FakeClock, templates: MailTemplates, server: MailServer
) -> None:
    mail = render_digest(a_digest(), templates)
    with Session(engine) as session:
        assert queue_mail(
            session, key="digest:manager:2026-12-03", purpose="digest", to=[TO], mail=mail, now=clock()
        )
        session.commit()
    mailer = Mailer(SmtpSettings(port=server.port, sender="care@velora.example"), {})
    assert MailSender(engine, mailer, clock=clock, owner="worker").run_once().sent == 1

    [received] = server.inbox.mails
    images = images_by_content_id(received.message)
    assert images == {image.content_id: image.png for image in mail.images}
    assert sorted(named_images(received)) == sorted(images)
    assert received.message["Subject"] == mail.subject
