"""Sending e-mail: a subject, a plain-text body and an HTML body, over SMTP.

Mails are rendered from ``templates/mail/``: ``NAME.subject.txt``, ``NAME.txt``
and ``NAME.html``, each optionally per language (``NAME.it.html`` is tried
before ``NAME.html``). The HTML environment escapes every value, because what a
mail quotes (a post, a display name) was written by a stranger; the text
environment does not need to. Both refuse undefined values, so a typo in a
template fails the first render instead of mailing a blank.

A mail may carry inline images (the digest's charts). They travel beside the
HTML in a ``multipart/related`` part, each named by its Content-ID, so the HTML
refers to them as ``cid:...`` and no mail client ever fetches anything from
outside the message::

    multipart/alternative
    |-- text/plain
    `-- multipart/related        (only when the mail has images)
        |-- text/html
        `-- image/png ...        (Content-ID, inline)
"""

from __future__ import annotations

import re
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound

from social_care.config.models import SmtpSettings
from social_care.config.secrets import read_secret

# What a Content-ID may hold so that it is the same in a header and in a cid: URL (RFC 2392).
_CONTENT_ID = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+")


class MailError(RuntimeError):
    """The mail could not be handed to the SMTP server; nothing was sent."""


@dataclass(frozen=True)
class InlineImage:
    """A PNG shown inside the HTML part, which names it as ``cid:<content_id>``.

    ``alt`` is what the HTML says instead when the image is not shown; it travels
    with the image so a stored mail can be rendered again as it was sent.
    """

    content_id: str
    png: bytes
    alt: str

    def __post_init__(self) -> None:
        if not _CONTENT_ID.fullmatch(self.content_id):
            raise ValueError(f"a Content-ID is local-part@domain in plain ASCII, not {self.content_id!r}")


@dataclass(frozen=True)
class Mail:
    """One rendered mail, ready for any number of recipients."""

    subject: str
    text: str
    html: str
    images: tuple[InlineImage, ...] = ()


class MailTemplates:
    def __init__(self, folder: Path) -> None:
        loader = FileSystemLoader(folder)
        self._html = Environment(loader=loader, autoescape=True, undefined=StrictUndefined)
        self._text = Environment(loader=loader, autoescape=False, undefined=StrictUndefined)  # noqa: S701 (plain text, never shown as HTML)

    def render(self, name: str, *, language: str = "en", values: Mapping[str, object]) -> Mail:
        subject = self._pick(self._text, name, language, "subject.txt").render(values)
        return Mail(
            subject=" ".join(subject.split()),
            text=self._pick(self._text, name, language, "txt").render(values),
            html=self._pick(self._html, name, language, "html").render(values),
        )

    @staticmethod
    def _pick(environment: Environment, name: str, language: str, extension: str):  # type: ignore[no-untyped-def]
        names = [f"{name}.{language}.{extension}", f"{name}.{extension}"]
        try:
            return environment.select_template(names)
        except TemplateNotFound:
            raise TemplateNotFound(f"none of {', '.join(names)} in the mail templates") from None


class Mailer:
    """Hands mails to the configured SMTP server, one connection per call.

    The login is read from the environment when the mailer is built, so a
    missing secret stops the start-up rather than the first alert.
    """

    def __init__(
        self,
        settings: SmtpSettings,
        environ: Mapping[str, str],
        *,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self._settings = settings
        self._tls = tls_context or ssl.create_default_context()
        self._login = None
        if settings.password_env:
            user = settings.sender
            if settings.username_env:
                user = read_secret(settings.username_env, environ).get_secret_value()
            self._login = (user, read_secret(settings.password_env, environ))

    def send(self, mail: Mail, to: list[str]) -> str:
        """Send ``mail`` to ``to``; the Message-ID it was sent with."""
        message = self._message(mail, to)
        try:
            with self._connect() as smtp:
                if self._login:
                    user, password = self._login
                    smtp.login(user, password.get_secret_value())
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as error:
            where = f"{self._settings.host}:{self._settings.port}"
            raise MailError(f"cannot send mail through {where}: {error}") from None
        return str(message["Message-ID"])

    def _message(self, mail: Mail, to: list[str]) -> EmailMessage:
        message = EmailMessage()
        message["Subject"] = mail.subject
        message["From"] = self._settings.sender
        message["To"] = ", ".join(to)
        message["Message-ID"] = make_msgid(domain=self._settings.sender.rsplit("@", 1)[1])
        message.set_content(mail.text)
        message.add_alternative(mail.html, subtype="html")
        if mail.images:
            _relate(message, mail.images)
        return message

    def _connect(self) -> smtplib.SMTP:
        host, port, timeout = self._settings.host, self._settings.port, self._settings.timeout_seconds
        if self._settings.ssl:
            return smtplib.SMTP_SSL(host, port, timeout=timeout, context=self._tls)
        smtp = smtplib.SMTP(host, port, timeout=timeout)
        if self._settings.starttls:
            try:
                smtp.starttls(context=self._tls)
            except BaseException:
                smtp.close()
                raise
        return smtp


def _relate(message: EmailMessage, images: tuple[InlineImage, ...]) -> None:
    """Turn the HTML part into a ``multipart/related`` holding the HTML first, then each image."""
    html = message.get_body(preferencelist=("html",))
    assert isinstance(html, EmailMessage)
    for number, image in enumerate(images, start=1):
        html.add_related(
            image.png,
            maintype="image",
            subtype="png",
            cid=f"<{image.content_id}>",
            disposition="inline",
            filename=f"image-{number}.png",
        )
    html.set_param("type", "text/html")  # RFC 2387: the related part names its root's type
