"""The contract every connector fulfils, and the one error type it raises.

A connector fetches posts since a cursor, replies to a post, and can tell
whether our account already replied to a post (to settle a send whose outcome
was lost in a crash). It declares its platform's limits as data. It knows
nothing of the database, cases or business rules.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, SecretStr

from social_care.posts import Batch

Clock = Callable[[], datetime]
BeforeRequest = Callable[[], None]


def no_wait() -> None:
    """The default request gate: a connector built outside the service (a check, a test) never waits."""


class ConnectorError(Exception):
    """A platform call failed.

    ``permanent`` failures (bad credentials, suspended account, revoked app) stop
    the source until a person acts; transient ones are retried with backoff, no
    sooner than ``retry_after`` seconds when the platform said so. A permanent
    failure that concerns only the post addressed (a reply to a post deleted
    meanwhile, a locked thread) says ``only_this_post``: that reply is given up,
    and the source goes on.

    ``outcome_unknown`` marks a reply request that may have been carried out: it
    timed out or lost its connection after the request was sent, or the platform
    answered 5xx. Before any retry the outbox asks the platform (``find_reply``)
    whether the reply is there, so the customer never gets it twice. A refusal
    the platform stated clearly (a 4xx, a 429) is not unknown: nothing was posted.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        only_this_post: bool = False,
        outcome_unknown: bool = False,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after
        self.only_this_post = only_this_post
        self.outcome_unknown = outcome_unknown


def quota_pause(
    now: datetime, *, remaining: float, resets_at: datetime, per_poll: float = 1.0
) -> datetime | None:
    """When to poll next so that the platform's remaining quota lasts until it resets.

    With ``remaining`` requests left until ``resets_at`` and about ``per_poll`` of
    them spent by each poll, polls are spread evenly over the time left; with
    fewer left than one poll needs, the next one waits for the reset. ``None``
    when the quota does not slow polling at all (the reset is past).
    """
    left = (resets_at - now).total_seconds()
    if left <= 0:
        return None
    if remaining < max(per_poll, 1.0):
        return resets_at
    return now + timedelta(seconds=left * per_poll / remaining)


@dataclass(frozen=True)
class PostsChecked:
    """What the platform said of the posts a connector was asked about.

    ``gone`` maps each post that can no longer be seen to why: "deleted" (its
    author deleted it), "protected" (its author made their account private) or
    "removed" (the platform or a moderator took it down). A post the platform
    still shows is in ``present``. A post in neither was not answered for (a
    failure on the platform's side): it is asked about again later, never taken
    as gone. ``reads`` is what the look-up cost against the source's read budget.
    """

    present: frozenset[str] = frozenset()
    gone: Mapping[str, str] = field(default_factory=dict)
    reads: int = 0


class NoOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class SourceContext:
    """What a connector is told about the source it serves."""

    source_id: str
    account: str
    api_base_url: str
    search_terms: list[str] = field(default_factory=list)
    handles: list[str] = field(default_factory=list)
    queries: list[str] = field(default_factory=list)  # raw searches, in the platform's own syntax
    subreddits: list[str] = field(default_factory=list)
    feeds: list[str] = field(default_factory=list)
    watch_mentions: bool = True
    watch_search: bool = True


class Connector(ABC):
    platform: ClassVar[str]
    reply_max_length: ClassVar[int]
    # How many characters the platform counts a link as, however long (0: as long as it is).
    link_length: ClassVar[int] = 0
    auto_reply_allowed: ClassVar[bool]
    auto_reply_requires_direct: ClassVar[bool] = False
    credentials: ClassVar[tuple[str, ...]] = ()
    default_api_base_url: ClassVar[str] = ""
    Options: ClassVar[type[BaseModel]] = NoOptions
    # The lists of a source's [sources.watch] this platform reads (queries, subreddits, feeds);
    # any other list given for it would be silently ignored, so the configuration check refuses it.
    watch_lists: ClassVar[frozenset[str]] = frozenset()
    # The platform's own request limit per client (requests, per seconds), used when a source sets no
    # ``rate_limit`` of its own; None when the platform states none that applies to a source as a whole.
    default_rate_limit: ClassVar[tuple[int, int] | None] = None
    # How many posts one :meth:`check_posts` request asks about; 0 when the platform cannot be asked
    # whether a post still stands (a feed): its posts are kept only as long as the retention says.
    check_batch: ClassVar[int] = 0

    def __init__(
        self,
        *,
        context: SourceContext,
        options: BaseModel,
        secrets: Mapping[str, SecretStr],
        clock: Clock,
        before_request: BeforeRequest = no_wait,
    ) -> None:
        self.context = context
        self.options = options
        self.secrets = secrets
        self.clock = clock
        # Called before every HTTP request the connector makes (reads, replies, look-ups): it waits
        # until the source's rate limit, shared by every worker, allows one more, and counts it.
        self.before_request = before_request

    @abstractmethod
    def fetch(self, cursor: str | None) -> Batch:
        """Posts newer than ``cursor`` (oldest first) and the cursor that follows them."""

    @classmethod
    def reply_length(cls, text: str) -> int:
        """How long ``text`` is by the platform's count, to compare with ``reply_max_length``."""
        return len(text)

    @classmethod
    def profile_url(cls, handle: str) -> str:
        """The public page of the account ``handle`` on the platform, or "" when it has none."""
        return ""

    @classmethod
    def reply_url(cls, *, account: str, reply_id: str, replied_url: str) -> str:
        """Where our reply ``reply_id`` (sent from ``account`` to the post at ``replied_url``) can be
        seen, or "" when the platform gives no address for it."""
        return ""

    @abstractmethod
    def reply(self, to: str, text: str) -> str:
        """Post ``text`` in reply to post ``to``; return the platform's id of the reply.

        A failure after the request went out (a timeout, a lost connection, a 5xx)
        raises ``ConnectorError(outcome_unknown=True)``.
        """

    @abstractmethod
    def find_reply(self, to: str, exclude: Collection[str] = frozenset()) -> str | None:
        """The id of our account's reply to post ``to``, if there is one, other than those in ``exclude``.

        We may answer one post more than once (the acknowledgement, then a person's
        reply): the outbox names the replies it already recorded, so an earlier one is
        not taken for the reply whose outcome it is checking.
        """

    def check_posts(self, external_ids: Collection[str]) -> PostsChecked:
        """Whether each of ``external_ids`` (at most ``check_batch`` of them) still stands on the
        platform, for deletion compliance: one request, its failures raised as ``ConnectorError``."""
        raise NotImplementedError(f"{self.platform} cannot be asked whether a post still stands")
