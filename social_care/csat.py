"""Customer satisfaction: a signed survey link in the reply that resolves a case, one answer per case.

The link carries the case id and the day it was issued, signed with the
service's secret key (itsdangerous), so nobody can answer for another case or
forge an answer; it expires after ``csat.link_valid_days``, counted with the
injected clock. The answer is stored once: the table allows one row per case.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from social_care import events
from social_care.config.models import Config
from social_care.storage.tables import Case, CsatResponse, saved_id

SALT = "csat-survey"
SCORES = range(1, 6)
_INVITATION = {
    "en": "How did we do? Tell us in one click: {link}",
    "it": "Come ti abbiamo aiutato? Diccelo con un clic: {link}",
}


class InvalidSurvey(Exception):
    def __init__(self, reason: Literal["invalid", "expired"]) -> None:
        super().__init__(reason)
        self.reason = reason


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=SALT)


def survey_token(secret_key: str, case_id: int, issued_at: datetime) -> str:
    return str(_serializer(secret_key).dumps({"case": case_id, "issued": issued_at.isoformat()}))


def survey_link(config: Config, secret_key: str, case: Case, issued_at: datetime) -> str:
    token = survey_token(secret_key, saved_id(case), issued_at)
    return f"{config.service.public_url.rstrip('/')}/csat/{token}"


def resolution_reply(config: Config, secret_key: str, case: Case, text: str, now: datetime) -> str:
    """The reply that resolves ``case``, with the survey link when CSAT is on."""
    if not config.csat.enabled:
        return text
    invitation = _INVITATION.get(case.language, _INVITATION["en"])
    return f"{text}\n\n{invitation.format(link=survey_link(config, secret_key, case, now))}"


def case_of(config: Config, secret_key: str, token: str, now: datetime) -> int:
    """The case a survey token is for; :class:`InvalidSurvey` when it is forged, damaged or expired."""
    try:
        payload = _serializer(secret_key).loads(token)
        case_id, issued = int(payload["case"]), datetime.fromisoformat(payload["issued"])
    except (BadSignature, KeyError, TypeError, ValueError):
        raise InvalidSurvey("invalid") from None
    if now - issued > timedelta(days=config.csat.link_valid_days):
        raise InvalidSurvey("expired")
    return case_id


def answered(session: Session, case_id: int) -> bool:
    return session.exec(select(CsatResponse.id).where(CsatResponse.case_id == case_id)).first() is not None


def record_answer(session: Session, case_id: int, score: int, now: datetime) -> bool:
    """Store the customer's score; false when the case was already answered."""
    if score not in SCORES:
        raise ValueError(f"a score from 1 to 5, not {score}")
    case = session.get(Case, case_id)
    if case is None or answered(session, case_id):
        return False
    session.add(CsatResponse(case_id=case_id, score=score, answered_at=now))
    events.record(session, case, "csat_answered", at=now, actor="customer", score=score)
    try:
        session.commit()
    except IntegrityError:  # answered at the same moment from another tab
        session.rollback()
        return False
    return True
