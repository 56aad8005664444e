"""SLA warnings and escalations by e-mail: the assignee before a target runs out, the supervisor at breach.

The mails go through the mail outbox, like every mail to a colleague, so an
SMTP server that is down delays them instead of losing them.
"""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from sqlmodel import Session

from responders.mailer import queue_mail
from social_care.clock import Clock
from social_care.config.models import Config
from social_care.mail import MailTemplates
from social_care.sla.sweeper import Alert

log = logging.getLogger(__name__)
_OBIETTIVI = {"acknowledgement": "presa in carico", "response": "risposta", "resolution": "risoluzione"}


class MailNotifier:
    def __init__(self, config: Config, templates: MailTemplates, *, clock: Clock) -> None:
        self._config = config
        self._templates = templates
        self._clock = clock

    def notify(self, session: Session, alert: Alert) -> None:
        if not alert.recipient:
            log.warning("%s: %s on %s with nobody to tell", alert.reference, alert.level, alert.target)
            return
        zone = ZoneInfo(self._config.service.timezone)
        mail = self._templates.render(
            f"sla_{alert.level}",
            language=self._config.sla_alerts.language,
            values={
                "reference": alert.reference,
                "target": alert.target,
                "obiettivo": _OBIETTIVI[alert.target],
                "due_at": alert.due_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                "zone": zone.key,
                "link": f"{self._config.service.public_url.rstrip('/')}/cases/{alert.case_id}",
            },
        )
        queue_mail(
            session,
            key=f"sla:{alert.case_id}:{alert.target}:{alert.level}:{alert.due_at.isoformat()}",
            purpose=f"sla_{alert.level}",
            to=[alert.recipient],
            mail=mail,
            now=self._clock(),
            case_id=alert.case_id,
        )
