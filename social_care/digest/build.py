"""One recipient's digest for one local day: every brand in their scope, figured from the database."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from social_care.config.models import Config, DigestRecipient
from social_care.digest.attention import attention
from social_care.digest.care import care
from social_care.digest.days import LocalDay, yesterday
from social_care.digest.model import BrandDay, Digest
from social_care.digest.reputation import Scope, reputation


def brands_of(config: Config, recipient: DigestRecipient) -> list[str]:
    """The brands a recipient hears about, in the configuration's order."""
    wanted = set(recipient.brands)
    return [brand.name for brand in config.brands if not wanted or brand.name in wanted]


def brand_day(session: Session, config: Config, scope: Scope, day: LocalDay, now: datetime) -> BrandDay:
    public_url = config.service.public_url
    return BrandDay(
        brand=scope.brand,
        day=day.day,
        starts_at=day.starts_at,
        ends_at=day.ends_at,
        reputation=reputation(session, config, scope, day, public_url),
        care=care(session, config, scope, day, public_url),
        attention=attention(session, config, scope, now, public_url),
    )


def build_digest(
    session: Session,
    config: Config,
    recipient: DigestRecipient,
    *,
    now: datetime,
    day: LocalDay | None = None,
    brand: str | None = None,
) -> Digest:
    """The digest ``recipient`` gets for ``day`` (their yesterday as of ``now`` by default), for
    every brand in their scope or only ``brand``."""
    zone = ZoneInfo(recipient.timezone or config.digest.timezone)
    local_day = day or yesterday(now, zone)
    names = [name for name in brands_of(config, recipient) if brand is None or name == brand]
    return Digest(
        recipient=recipient.email,
        language=recipient.language or config.digest.language,
        zone=zone.key,
        day=local_day.day,
        public_url=config.service.public_url,
        brands=[
            brand_day(session, config, Scope(name, tuple(recipient.teams)), local_day, now) for name in names
        ],
        made_at=now,
    )
