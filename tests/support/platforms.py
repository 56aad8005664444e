"""Demo platforms that misbehave on purpose: outages, and a process dying mid-send."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from connectors.base import ConnectorError
from connectors.demo import DemoConnector
from social_care.posts import Batch


class ProcessDied(BaseException):
    """Stands for the process being killed: nothing in the service catches it."""


class CrashingPlatform(DemoConnector):
    """Dies once, either just before or just after the platform accepted a reply."""

    def __init__(self, *, crash_after_send: bool, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.crash_after_send = crash_after_send
        self.crashed = False

    def reply(self, to: str, text: str) -> str:
        if self.crashed:
            return super().reply(to, text)
        self.crashed = True
        if self.crash_after_send:
            super().reply(to, text)
        raise ProcessDied()


class UnreachablePlatform(DemoConnector):
    """Fails every call with the given error until ``error`` is cleared."""

    def __init__(self, *, error: ConnectorError | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.error = error

    def fetch(self, cursor: str | None) -> Batch:
        if self.error:
            raise self.error
        return super().fetch(cursor)

    def reply(self, to: str, text: str) -> str:
        if self.error:
            raise self.error
        return super().reply(to, text)


def like(connector: DemoConnector, kind: type[DemoConnector], **extra: Any) -> Any:
    """A misbehaving platform configured exactly like ``connector``."""
    return kind(
        context=connector.context, options=connector.options, secrets={}, clock=connector.clock, **extra
    )


class PlatformWithSideEffect(DemoConnector):
    """Runs ``after_reply`` during each reply call: what happens elsewhere while the platform answers.

    With ``then_fail`` the call ends in that error and the platform keeps no reply.
    """

    def __init__(
        self, *, after_reply: Callable[[], None], then_fail: ConnectorError | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.after_reply = after_reply
        self.then_fail = then_fail

    def reply(self, to: str, text: str) -> str:
        if self.then_fail is not None:
            self.after_reply()
            raise self.then_fail
        platform_id = super().reply(to, text)
        self.after_reply()
        return platform_id


class FixedPosts(DemoConnector):
    """Returns the given batch at every fetch: posts shaped as a test needs them."""

    def __init__(self, *, batch: Batch, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.batch = batch

    def fetch(self, cursor: str | None) -> Batch:
        return self.batch


class SlowToCheck(DemoConnector):
    """Answers whether our reply is there as of when it was asked, after ``meanwhile`` has run:
    what other workers do while the platform takes its time."""

    def __init__(self, *, meanwhile: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.meanwhile = meanwhile

    def find_reply(self, to: str, exclude: Collection[str] = frozenset()) -> str | None:
        found = super().find_reply(to, exclude)
        self.meanwhile()
        return found
