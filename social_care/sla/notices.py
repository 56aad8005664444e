"""SLA warnings and escalations by e-mail: the assignee before a target runs out, the supervisor at breach."""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from social_care.config.models import Config
from social_care.mail import Mailer, MailError, MailTemplates
from social_care.sla.sweeper import Alert

log = logging.getLogger(__name__)
_OBIETTIVI = {"acknowledgement": "presa in carico", "response": "risposta", "resolution": "risoluzione"}


class MailNotifier:
    def __init__(self, config: Config, mailer: Mailer, templates: MailTemplates) -> None:
        self._config = config
        self._mailer = mailer
        self._templates = templates

    def notify(self, alert: Alert) -> None:
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
        try:
            self._mailer.send(mail, [alert.recipient])
        except MailError as error:
            log.warning(
                "%s: the %s e-mail to %s was not sent: %s",
                alert.reference,
                alert.level,
                alert.recipient,
                error,
            )
