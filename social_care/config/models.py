"""The typed shape of the configuration file.

Every model forbids unknown keys so that a typo is reported instead of being
silently ignored. Secrets never appear here: a setting ending in ``_env`` names
the environment variable (or ``NAME_FILE``) that holds the secret.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import date, time
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

Category = Literal["complaint", "inquiry", "praise", "other"]
Cluster = Literal["technical_fault", "how_to", "not_working", "delivery", "billing", "account", "other"]
Priority = Literal["low", "normal", "high", "urgent"]
Role = Literal["agent", "supervisor", "admin"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Strategy = Literal["round_robin", "least_loaded", "random"]
Tier = Literal["standard", "premium", "critical"]

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LANGUAGE = re.compile(r"^[a-z]{2}$")


def _time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"an IANA time zone such as 'Europe/Rome', found {name!r}") from error
    return name


def _proxy(value: str) -> str:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        expected = "an IP address or network such as '10.0.0.5' or '10.0.0.0/24'"
        raise ValueError(f"{expected}, found {value!r}") from None
    return value


def _api_address(value: str) -> str:
    """An address a connector sends credentials to: https, or http to this machine only (a local
    fake or proxy), never in clear over a network."""
    parts = urlsplit(value)
    if (
        not value
        or (parts.scheme == "https" and parts.hostname)
        or (parts.scheme == "http" and _loopback(parts.hostname))
    ):
        return value
    expected = "an https:// address (http:// only for this machine: localhost, 127.0.0.1, ::1)"
    raise ValueError(f"{expected}, found {value!r}")


def _loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def _matching(pattern: re.Pattern[str], what: str):  # type: ignore[no-untyped-def]
    def check(value: str) -> str:
        if not pattern.match(value):
            raise ValueError(f"{what}, found {value!r}")
        return value

    return AfterValidator(check)


TimeZone = Annotated[str, AfterValidator(_time_zone)]
ProxyAddress = Annotated[str, AfterValidator(_proxy)]
ApiAddress = Annotated[str, AfterValidator(_api_address)]
Slug = Annotated[str, _matching(_SLUG, "lower-case letters, digits, '-' or '_'")]
EnvName = Annotated[str, _matching(_ENV_NAME, "an environment variable name like 'X_TOKEN'")]
Email = Annotated[str, _matching(_EMAIL, "an email address"), AfterValidator(str.lower)]
Language = Annotated[str, _matching(_LANGUAGE, "a two-letter language code such as 'en'")]


class Section(BaseModel):
    """Base of every config section: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ServiceSettings(Section):
    environment: Literal["development", "production"] = "development"
    public_url: str = "http://127.0.0.1:8000"
    timezone: TimeZone = "UTC"
    secret_key_env: EnvName = "SOCIAL_CARE_SECRET_KEY"  # noqa: S105 (a variable name, not a secret)
    # The reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed; none by default.
    trusted_proxies: list[ProxyAddress] = []


class DatabaseSettings(Section):
    path: str = "social-care.db"
    url_env: EnvName = "DATABASE_URL"


class WatchTerm(Section):
    name: str = Field(min_length=1)
    aliases: list[str] = []
    handles: list[str] = []
    hashtags: list[str] = []
    exclusions: list[str] = []
    languages: list[Language] = []
    fuzzy_threshold: float = Field(default=88.0, ge=50.0, le=100.0)


class Product(WatchTerm):
    tier: Tier = "standard"
    department: str = ""


class Person(WatchTerm):
    role: str = ""


class Brand(WatchTerm):
    companies: list[str] = []
    products: list[Product] = []
    people: list[Person] = []


class RateLimit(Section):
    requests: int = Field(gt=0)
    per_seconds: int = Field(gt=0)


class SourceWatch(Section):
    mentions: bool = True
    search: bool = True
    queries: list[str] = []
    subreddits: list[str] = []
    feeds: list[str] = []


class Source(Section):
    id: Slug
    platform: str
    brand: str
    enabled: bool = True
    account: str = ""
    poll_interval_seconds: int = Field(default=120, ge=5)
    auto_reply: bool = False
    api_base_url: ApiAddress = ""
    monthly_read_quota: int | None = Field(default=None, gt=0)
    rate_limit: RateLimit | None = None
    credentials: dict[str, EnvName] = {}
    watch: SourceWatch = SourceWatch()
    options: dict[str, object] = {}


class WorkingHours(Section):
    days: list[Weekday] = ["mon", "tue", "wed", "thu", "fri"]
    start: time = time(9, 0)
    end: time = time(18, 0)


class Competences(Section):
    """What a person can handle; an empty list means "any"."""

    categories: list[Category] = []
    clusters: list[Cluster] = []
    products: list[str] = []
    languages: list[Language] = []
    platforms: list[str] = []


class Employee(Section):
    email: Email
    name: str = Field(min_length=1)
    role: Role = "agent"
    teams: list[str] = []
    competences: Competences = Competences()
    accounts: list[str] = []
    handles: list[str] = []
    timezone: TimeZone = "UTC"
    working_hours: WorkingHours = WorkingHours()
    capacity: int = Field(default=20, ge=1)
    available: bool = True


class Team(Section):
    name: str = Field(min_length=1)
    supervisor: str = ""
    strategy: Strategy = "round_robin"


class RuleConditions(Section):
    """Every listed condition must hold; an empty list does not constrain."""

    categories: list[Category] = []
    clusters: list[Cluster] = []
    brands: list[str] = []
    products: list[str] = []
    languages: list[Language] = []
    platforms: list[str] = []
    priorities: list[Priority] = []
    keywords: list[str] = []


class RoutingRule(Section):
    name: str = Field(min_length=1)
    team: str
    when: RuleConditions = RuleConditions()


class SavedReply(Section):
    """A reply people insert from the case page and edit before sending; a Jinja template with the
    acknowledgements' variables (name, product, reference, window), offered on the cases of its
    teams, languages and categories (all of them when a list is left empty)."""

    name: str = Field(min_length=1)
    text: str = Field(min_length=1)
    teams: list[str] = []
    languages: list[Language] = []
    categories: list[Category] = []

    @field_validator("text")
    @classmethod
    def _a_template(cls, text: str) -> str:
        try:
            SandboxedEnvironment().parse(text)
        except TemplateSyntaxError as error:
            raise ValueError(f"a Jinja template ({error.message}, line {error.lineno})") from None
        return text


class BusinessCalendar(Section):
    name: str = Field(min_length=1)
    timezone: TimeZone = "UTC"
    hours: WorkingHours = WorkingHours()
    holidays: list[date] = []

    @field_validator("hours")
    @classmethod
    def _opens_some_time(cls, hours: WorkingHours) -> WorkingHours:
        if not hours.days:
            raise ValueError("at least one working day in days, found none")
        if hours.start >= hours.end:
            raise ValueError(f"start before end, found {hours.start:%H:%M} to {hours.end:%H:%M}")
        return hours


class SlaPolicy(Section):
    name: str = Field(min_length=1)
    categories: list[Category] = Field(min_length=1)
    priorities: list[Priority] = []
    acknowledge_within_minutes: int | None = Field(default=None, gt=0)
    first_response_within_minutes: int | None = Field(default=None, gt=0)
    resolve_within_minutes: int | None = Field(default=None, gt=0)
    floor_percent: float = Field(default=90.0, gt=0, le=100)
    calendar: str = "24/7"


class SlaAlerts(Section):
    """When the sweeper warns the assignee and escalates to the team's supervisor."""

    warn_at_fraction: float = Field(default=0.8, gt=0, lt=1)
    sweep_interval_seconds: int = Field(default=60, ge=5, le=3600)
    language: Language = "en"


class CsatSettings(Section):
    enabled: bool = True
    link_valid_days: int = Field(default=14, ge=1, le=365)


class CrisisPolicy(Section):
    baseline_days: int = Field(default=14, ge=1)
    # Three days hold each hour of the day three times: a mean and a spread worth comparing with.
    min_history_days: int = Field(default=3, ge=1)
    sigmas: float = Field(default=3.0, gt=0)
    min_complaints_per_hour: int = Field(default=10, ge=1)

    @model_validator(mode="after")
    def _history_fits_the_baseline(self) -> CrisisPolicy:
        """More history asked than the baseline holds would never let a crisis start."""
        if self.min_history_days > self.baseline_days:
            found = self.min_history_days
            raise ValueError(f"min_history_days at most baseline_days ({self.baseline_days}), found {found}")
        return self


class AcknowledgementPolicy(Section):
    enabled: bool = True
    dry_run: bool = False
    categories: list[Category] = ["complaint", "inquiry"]
    author_cooldown_minutes: int = Field(default=240, ge=0)
    hourly_cap_per_source: int = Field(default=30, ge=0)
    max_post_age_minutes: int = Field(default=240, gt=0)
    stop_words: list[str] = ["stop", "basta", "unsubscribe"]
    blocked_handles: list[str] = []
    crisis: CrisisPolicy = CrisisPolicy()


class SmtpSettings(Section):
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=25, gt=0, lt=65536)
    sender: Email = "social-care@localhost.localdomain"
    starttls: bool = False
    ssl: bool = False
    username_env: EnvName | None = None
    password_env: EnvName | None = None
    timeout_seconds: float = Field(default=10.0, gt=0)

    @model_validator(mode="after")
    def _one_way_in(self) -> SmtpSettings:
        if self.starttls and self.ssl:
            raise ValueError("starttls = true or ssl = true but not both, found both")
        if self.username_env and not self.password_env:
            raise ValueError("password_env with username_env, found only username_env")
        return self


class HandoffPolicy(Section):
    email_assignee: bool = True
    alert_supervisor: bool = True
    reassign_after_minutes: int = Field(default=30, ge=0)
    sweep_interval_seconds: int = Field(default=60, ge=5)
    language: Language = "en"


class LearningSettings(Section):
    """When the desk retrains its triage model, and whether a better one takes over by itself."""

    # Retrain once this many labels have come in since the last model; 0 never retrains on a schedule.
    retrain_after_labels: int = Field(default=200, ge=0)
    # How often a worker checks whether that many have come in.
    check_interval_minutes: int = Field(default=60, ge=1)
    # A retrained model that beats the rules on the folds becomes active without a person's command.
    activate_when_better: bool = False
    folds: int = Field(default=5, ge=2, le=20)


class ComplianceSettings(Section):
    """Deletion compliance: asking the platforms, in batches, whether the posts kept still stand."""

    enabled: bool = True
    # How often a worker looks for posts due a check; each post is checked once per ``recheck_hours``.
    check_interval_minutes: int = Field(default=60, ge=5, le=1440)
    recheck_hours: int = Field(default=24, ge=1, le=24)
    # The most posts one run asks about per source (in requests of the platform's batch size).
    max_posts_per_run: int = Field(default=20_000, ge=100)
    # The share of a source's monthly read quota that checks never touch, so polling goes on.
    keep_for_polling: float = Field(default=0.5, ge=0, lt=1)


class RetentionSettings(Section):
    """How many days each kind of data is kept; 0 keeps it for ever. Figures live in the rollups and
    outlive every purge."""

    post_text_days: int = Field(default=365, ge=0)  # a post's text and address
    raw_payload_days: int = Field(default=30, ge=0)  # the platform's payload of a post, and rejected ones
    author_profile_days: int = Field(default=365, ge=0)  # handle, name, followers, after their last post
    closed_case_days: int = Field(default=730, ge=0)  # resolved or dismissed cases, with their events
    mail_days: int = Field(default=90, ge=0)  # mails sent or given up (the digest archive is apart)
    audit_days: int = Field(default=730, ge=0)  # the audit log
    purge_interval_minutes: int = Field(default=60, ge=5, le=1440)
    batch_size: int = Field(default=500, ge=10, le=10_000)  # rows per statement and transaction
    max_batches_per_run: int = Field(default=40, ge=1)


class DigestRecipient(Section):
    """One manager's morning mail: their day, their language, their brands (and teams)."""

    email: Email
    language: Language | None = None  # default: the [digest] section's
    timezone: TimeZone | None = None
    send_at: time | None = None
    brands: list[str] = []  # empty: every brand
    teams: list[str] = []  # empty: every team
    send_on_quiet_days: bool = True  # a day with no mentions still gets a short mail


class DigestSettings(Section):
    """The daily digest. ``recipients`` are tables, or (as before) plain e-mail addresses, which
    take the section's ``send_at``, ``timezone`` and ``language``."""

    enabled: bool = True
    recipients: list[DigestRecipient | Email] = []
    send_at: time = time(8, 0)
    timezone: TimeZone = "UTC"
    language: Language = "en"
    # An environment variable holding apprise URLs (space-separated) for a short version in chat.
    chat_urls_env: EnvName | None = None

    def people(self) -> list[DigestRecipient]:
        """Every recipient as a table, the section's defaults filled in."""
        people = []
        for item in self.recipients:
            person = item if isinstance(item, DigestRecipient) else DigestRecipient(email=item)
            people.append(
                person.model_copy(
                    update={
                        "language": person.language or self.language,
                        "timezone": person.timezone or self.timezone,
                        "send_at": person.send_at or self.send_at,
                    }
                )
            )
        return people


class Config(Section):
    """The whole configuration file."""

    service: ServiceSettings = ServiceSettings()
    database: DatabaseSettings = DatabaseSettings()
    brands: list[Brand] = Field(min_length=1)
    sources: list[Source] = Field(min_length=1)
    teams: list[Team] = []
    employees: list[Employee] = []
    routing: list[RoutingRule] = []
    calendars: list[BusinessCalendar] = []
    sla: list[SlaPolicy] = []
    saved_replies: list[SavedReply] = []
    sla_alerts: SlaAlerts = SlaAlerts()
    csat: CsatSettings = CsatSettings()
    acknowledgement: AcknowledgementPolicy = AcknowledgementPolicy()
    smtp: SmtpSettings = SmtpSettings()
    digest: DigestSettings = DigestSettings()
    handoff: HandoffPolicy = HandoffPolicy()
    learning: LearningSettings = LearningSettings()
    compliance: ComplianceSettings = ComplianceSettings()
    retention: RetentionSettings = RetentionSettings()

    def source(self, source_id: str) -> Source:
        return next(source for source in self.sources if source.id == source_id)

    def brand(self, name: str) -> Brand:
        return next(brand for brand in self.brands if brand.name == name)
