"""Mail goes through a real SMTP server on loopback, escaped where it is HTML."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from jinja2 import TemplateNotFound, UndefinedError

from social_care.config.models import SmtpSettings
from social_care.config.secrets import MissingSecret
from social_care.mail import InlineImage, Mail, Mailer, MailError, MailTemplates
from tests.fakes.smtp_server import MailServer

STRANGER = '<script>alert("x")</script> & <b>bold</b>'


@pytest.fixture
def server() -> Iterator[MailServer]:
    server = MailServer()
    yield server
    server.stop()


@pytest.fixture
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def server_tls(authority: trustme.CA) -> ssl.SSLContext:
    """The server proves it is 127.0.0.1 with a certificate from a test authority."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    return context


@pytest.fixture
def client_tls(authority: trustme.CA) -> ssl.SSLContext:
    """The mailer trusts that authority, as it would a public one."""
    context = ssl.create_default_context()
    authority.configure_trust(context)
    return context


@pytest.fixture
def templates(tmp_path: Path) -> MailTemplates:
    folder = tmp_path / "mail"
    folder.mkdir()
    (folder / "notice.subject.txt").write_text("New case {{ reference }}\n")
    (folder / "notice.it.subject.txt").write_text("Nuovo caso {{ reference }}\n")
    (folder / "notice.txt").write_text("{{ author }} wrote: {{ text }}\n")
    (folder / "notice.html").write_text("<p>{{ author }} wrote:</p><blockquote>{{ text }}</blockquote>\n")
    return MailTemplates(folder)


def settings(port: int, **changes: object) -> SmtpSettings:
    return SmtpSettings.model_validate({"port": port, "sender": "care@velora.example", **changes})


def a_mail() -> Mail:
    return Mail(subject="Case SC-000001", text="plain body", html="<p>html body</p>")


def test_a_mail_arrives_with_its_subject_text_and_html(server: MailServer) -> None:
    Mailer(settings(server.port), {}).send(a_mail(), ["anna@velora.example", "luca@velora.example"])

    [received] = server.inbox.mails
    assert received.sender == "care@velora.example"
    assert received.recipients == ["anna@velora.example", "luca@velora.example"]
    assert received.message["Subject"] == "Case SC-000001"
    assert received.part("plain").strip() == "plain body"
    assert received.part("html").strip() == "<p>html body</p>"


def test_a_mail_without_images_is_text_then_html_and_nothing_else(server: MailServer) -> None:
    Mailer(settings(server.port), {}).send(a_mail(), ["anna@velora.example"])

    [received] = server.inbox.mails
    assert received.message.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in received.message.iter_parts()]
    assert parts == ["text/plain", "text/html"]


PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def test_inline_images_travel_beside_the_html_by_content_id(server: MailServer) -> None:
    images = (
        InlineImage("trend.1@social-care", PNG, "Reputation index over 30 days"),
        InlineImage("hours.1@social-care", PNG[::-1], "Mentions per hour"),
    )
    html = '<p><img src="cid:trend.1@social-care"><img src="cid:hours.1@social-care"></p>'
    Mailer(settings(server.port), {}).send(Mail("Digest", "plain", html, images), ["anna@velora.example"])

    [received] = server.inbox.mails
    message = received.message
    assert message.get_content_type() == "multipart/alternative"
    plain, related = message.iter_parts()
    assert plain.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    assert related.get_param("type") == "text/html"
    root, *pictures = related.iter_parts()
    assert root.get_content_type() == "text/html" and received.part("html").strip() == html
    assert [(p.get_content_type(), p["Content-ID"], p.get_content_disposition()) for p in pictures] == [
        ("image/png", "<trend.1@social-care>", "inline"),
        ("image/png", "<hours.1@social-care>", "inline"),
    ]
    assert [p.get_content() for p in pictures] == [PNG, PNG[::-1]]


@pytest.mark.parametrize("content_id", ["no-at-sign", "two words@x", "trend@x>", "é@x"])
def test_a_content_id_that_would_not_survive_a_header_and_a_url_is_refused(content_id: str) -> None:
    with pytest.raises(ValueError, match="Content-ID"):
        InlineImage(content_id, PNG, "a chart")


def test_a_strangers_text_is_escaped_in_the_html_and_kept_verbatim_in_the_text(
    server: MailServer, templates: MailTemplates
) -> None:
    mail = templates.render("notice", values={"reference": "SC-000007", "author": "@eve", "text": STRANGER})
    Mailer(settings(server.port), {}).send(mail, ["anna@velora.example"])

    [received] = server.inbox.mails
    assert received.message["Subject"] == "New case SC-000007"
    html = received.part("html")
    assert "<script>" not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    assert STRANGER in received.part("plain")


def test_a_template_in_the_mails_language_is_preferred_and_english_is_the_fallback(
    templates: MailTemplates,
) -> None:
    values = {"reference": "SC-000007", "author": "anna", "text": "ciao"}
    assert templates.render("notice", language="it", values=values).subject == "Nuovo caso SC-000007"
    assert templates.render("notice", language="de", values=values).subject == "New case SC-000007"


def test_a_missing_value_or_template_fails_the_render_instead_of_mailing_a_blank(
    templates: MailTemplates,
) -> None:
    with pytest.raises(UndefinedError):
        templates.render("notice", values={"reference": "SC-000007"})
    with pytest.raises(TemplateNotFound, match=r"assignment\.subject\.txt"):
        templates.render("assignment", values={})


def test_starttls_with_a_login_read_from_the_environment(
    server_tls: ssl.SSLContext, client_tls: ssl.SSLContext
) -> None:
    server = MailServer(tls=server_tls, login=("desk", "s3cret"))
    try:
        config = settings(server.port, starttls=True, username_env="SMTP_USER", password_env="SMTP_PASS")
        Mailer(config, {"SMTP_USER": "desk", "SMTP_PASS": "s3cret"}, tls_context=client_tls).send(
            a_mail(), ["anna@velora.example"]
        )
    finally:
        server.stop()
    assert len(server.inbox.mails) == 1


def test_ssl_from_the_first_byte(server_tls: ssl.SSLContext, client_tls: ssl.SSLContext) -> None:
    server = MailServer(tls=server_tls, implicit_tls=True)
    try:
        Mailer(settings(server.port, ssl=True), {}, tls_context=client_tls).send(
            a_mail(), ["anna@velora.example"]
        )
    finally:
        server.stop()
    assert len(server.inbox.mails) == 1


def test_a_server_whose_certificate_is_not_trusted_gets_nothing(server_tls: ssl.SSLContext) -> None:
    server = MailServer(tls=server_tls)
    try:
        with pytest.raises(MailError, match=r"cannot send mail through 127\.0\.0\.1:\d+"):
            Mailer(settings(server.port, starttls=True), {}).send(a_mail(), ["anna@velora.example"])
    finally:
        server.stop()
    assert server.inbox.mails == []


def test_a_wrong_password_is_a_mail_error_that_does_not_show_the_password(
    server_tls: ssl.SSLContext, client_tls: ssl.SSLContext
) -> None:
    server = MailServer(tls=server_tls, login=("desk", "s3cret"))
    try:
        config = settings(server.port, starttls=True, username_env="SMTP_USER", password_env="SMTP_PASS")
        mailer = Mailer(config, {"SMTP_USER": "desk", "SMTP_PASS": "wrong-one"}, tls_context=client_tls)
        with pytest.raises(MailError) as raised:
            mailer.send(a_mail(), ["anna@velora.example"])
    finally:
        server.stop()
    assert "wrong-one" not in str(raised.value)
    assert server.inbox.mails == []


def test_nobody_listening_is_a_mail_error_within_the_timeout() -> None:
    with pytest.raises(MailError, match=r"127\.0\.0\.1:9\b"):
        Mailer(settings(9, timeout_seconds=2), {}).send(a_mail(), ["anna@velora.example"])


def test_without_a_user_name_the_sender_address_logs_in(
    server_tls: ssl.SSLContext, client_tls: ssl.SSLContext
) -> None:
    server = MailServer(tls=server_tls, login=("care@velora.example", "s3cret"))
    try:
        config = settings(server.port, starttls=True, password_env="SMTP_PASS")
        mailer = Mailer(config, {"SMTP_PASS": "s3cret"}, tls_context=client_tls)
        mailer.send(a_mail(), ["anna@velora.example"])
    finally:
        server.stop()
    assert len(server.inbox.mails) == 1


def test_a_missing_login_secret_stops_the_mailer_being_built() -> None:
    config = settings(
        25, username_env="SOCIAL_CARE_TEST_UNSET_USER", password_env="SOCIAL_CARE_TEST_UNSET_PW"
    )
    with pytest.raises(MissingSecret, match="SOCIAL_CARE_TEST_UNSET_USER"):
        Mailer(config, {})


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"starttls": True, "ssl": True}, "starttls = true or ssl = true but not both"),
        ({"username_env": "SMTP_USER"}, "password_env with username_env, found only username_env"),
    ],
)
def test_contradictory_smtp_settings_are_refused(changes: dict[str, object], expected: str) -> None:
    with pytest.raises(ValueError, match=expected):
        settings(25, **changes)
