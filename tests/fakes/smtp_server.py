"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps every mail it receives."""

from __future__ import annotations

import email
import email.policy
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None, f"no text/{subtype} part"
        return str(body.get_content())


@dataclass
class Inbox:
    """Keeps each mail; ``while_receiving`` runs before answering and ``refuse`` turns the mail away."""

    mails: list[Received] = field(default_factory=list)
    while_receiving: Callable[[], None] | None = None
    refuse: bool = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's hook name)
        if self.while_receiving is not None:
            self.while_receiving()
        if self.refuse:
            return "451 4.3.0 Try again later"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.mails.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"

    def to(self, address: str) -> list[Received]:
        return [mail for mail in self.mails if address in mail.recipients]


class _AnyFreePort(Controller):
    """aiosmtpd's controller, listening on a port the system picks."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class MailServer:
    """Started with the options a test needs: STARTTLS, SMTPS, a login."""

    def __init__(
        self,
        *,
        tls: ssl.SSLContext | None = None,
        implicit_tls: bool = False,
        login: tuple[str, str] | None = None,
    ) -> None:
        self.inbox = Inbox()
        options: dict[str, Any] = {"hostname": "127.0.0.1", "port": 0}
        if tls is not None and implicit_tls:
            options["ssl_context"] = tls
        elif tls is not None:
            options.update(tls_context=tls, require_starttls=True)
        if login is not None:
            options.update(authenticator=_Authenticator(login), auth_required=True)
        self._controller = _AnyFreePort(self.inbox, **options)
        self._controller.start()

    @property
    def port(self) -> int:
        return int(self._controller.port)

    def stop(self) -> None:
        self._controller.stop()


class _Authenticator:
    def __init__(self, login: tuple[str, str]) -> None:
        self._login = login

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        if isinstance(data, LoginPassword):
            given = (data.login.decode(), data.password.decode())
            return AuthResult(success=given == self._login, handled=False)
        return AuthResult(success=False, handled=False)
