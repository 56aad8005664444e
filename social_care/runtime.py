"""Assemble the service from a configuration: database, connectors, pipeline, workers.

Everything is built from the configuration at start; durable state lives in
the database, so the same assembly serves the all-in-one ``run`` and separate
web and worker processes sharing PostgreSQL.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine, update
from sqlmodel import Session

from connectors.base import BeforeRequest, Connector, SourceContext, no_wait
from connectors.registry import connector_class
from responders.acknowledger import Acknowledger
from responders.alerts import CrisisAlert
from responders.handoff import HandOff, SweepReport
from responders.mailer import MailSender
from responders.outbox import OutboxSender
from responders.replies import ReplyRenderer
from social_care.classify import RuleClassifier
from social_care.clock import Clock, sleeper, system_clock
from social_care.compliance.checks import DeletionChecks
from social_care.compliance.retention import RetentionPurge
from social_care.config.models import Config, Source
from social_care.config.secrets import read_secret
from social_care.crisis import CrisisMonitor
from social_care.digest.chat import chat_from
from social_care.digest.sending import DigestSender
from social_care.directory import sync_directory
from social_care.job_threads import JobThreads
from social_care.learning.retraining import retrain_if_due
from social_care.learning.triage import Triage
from social_care.learning.versions import StoredModels
from social_care.mail import Mailer, MailTemplates
from social_care.matching import WatchMatcher
from social_care.metrics import rollups
from social_care.pipeline import Pipeline
from social_care.poller import Poller, ReadLimit
from social_care.rate_limits import Limit, RequestGate, Sleep
from social_care.resources import bundled
from social_care.sla.notices import MailNotifier
from social_care.sla.sweeper import Notifier, Sweeper
from social_care.source_health import FAILING
from social_care.storage import migrate
from social_care.storage.engine import database_url, make_engine
from social_care.storage.leases import reclaim_dead_leases, worker_name
from social_care.storage.tables import MailEntry, OutboxEntry, SourceState
from social_care.watchlist import product_tiers, watch_terms

log = logging.getLogger(__name__)
OUTBOX_INTERVAL_SECONDS = 5
DIGEST_INTERVAL_SECONDS = 60  # send times are minutes: a digest goes out within a minute of its own
STOP_SECONDS = 2.0  # how long a stopping service waits for its jobs to reach a point where they can stop


@dataclass
class Service:
    config: Config
    engine: Engine
    connectors: dict[str, Connector]
    pipeline: Pipeline
    poller: Poller
    sender: OutboxSender
    handoff: HandOff
    mail_sender: MailSender
    sweeper: Sweeper
    digests: DigestSender
    triage: Triage
    deletion_checks: DeletionChecks
    retention: RetentionPurge
    clock: Clock = system_clock
    owner: str = ""  # the name this process holds leases under
    stopping: threading.Event = field(default_factory=threading.Event)  # set: jobs stop at their next step

    def sweep_handoffs(self) -> SweepReport:
        with Session(self.engine) as session:
            return self.handoff.sweep(session, self.clock())


def open_database(config: Config, environ: Mapping[str, str]) -> Engine:
    """The configured database, migrated to the newest schema, its figures' rollups filled."""
    engine = make_engine(database_url(config.database, environ))
    migrate.upgrade(engine)
    rebuilt = rollups.rebuild(engine, only_if_missing=True)
    if rebuilt:
        log.info("the figures' rollups were made from the events of %d cases", rebuilt)
    return engine


def build_connector(
    config: Config,
    source: Source,
    environ: Mapping[str, str],
    clock: Clock,
    *,
    before_request: BeforeRequest = no_wait,
) -> Connector:
    kind = connector_class(source.platform)
    brand = config.brand(source.brand)
    terms = [term for term in watch_terms(config) if term.brand == brand.name]
    context = SourceContext(
        source_id=source.id,
        account=source.account,
        api_base_url=source.api_base_url or kind.default_api_base_url,
        search_terms=[form for term in terms for form in term.forms if not form.startswith(("@", "#"))],
        handles=[form for term in terms for form in term.forms if form.startswith("@")],
        queries=source.watch.queries,
        subreddits=source.watch.subreddits,
        feeds=source.watch.feeds,
        watch_mentions=source.watch.mentions,
        watch_search=source.watch.search,
    )
    secrets = {name: read_secret(source.credentials[name], environ) for name in kind.credentials}
    options = kind.Options.model_validate(source.options)
    return kind(context=context, options=options, secrets=secrets, clock=clock, before_request=before_request)


def request_limit(source: Source) -> Limit | None:
    """The source's own ``rate_limit``, else its platform's stated limit per client, else none."""
    if source.rate_limit is not None:
        return Limit(source.rate_limit.requests, source.rate_limit.per_seconds)
    default = connector_class(source.platform).default_rate_limit
    return Limit(*default) if default else None


def request_gates(config: Config, engine: Engine, clock: Clock, sleep: Sleep) -> dict[str, RequestGate]:
    return {
        source.id: RequestGate(engine, source.id, request_limit(source), clock=clock, sleep=sleep)
        for source in config.sources
        if source.enabled
    }


def build_service(
    config: Config,
    engine: Engine,
    *,
    environ: Mapping[str, str] | None = None,
    clock: Clock = system_clock,
    owner: str | None = None,
    notifier: Notifier | None = None,
    sleep: Sleep | None = None,
) -> Service:
    environ = os.environ if environ is None else environ
    owner = owner or worker_name()
    stopping = threading.Event()
    with Session(engine) as session:
        sync_directory(session, config)
    gates = request_gates(config, engine, clock, sleep or sleeper(clock))
    connectors = {
        source.id: build_connector(config, source, environ, clock, before_request=gates[source.id])
        for source in config.sources
        if source.enabled
    }
    mail_templates = MailTemplates(bundled("templates") / "mail")
    handoff = HandOff(config, mail_templates)
    triage = Triage(RuleClassifier(product_tiers(config)), StoredModels(clock=clock))
    pipeline = Pipeline(
        config,
        matcher=WatchMatcher(watch_terms(config)),
        triage=triage,
        acknowledger=Acknowledger(config, ReplyRenderer(bundled("templates") / "replies")),
        handoff=handoff,
        crisis=CrisisMonitor(config.acknowledgement.crisis),
        crisis_alert=CrisisAlert(config, mail_templates),
        connector_types={source_id: type(connector) for source_id, connector in connectors.items()},
    )
    return Service(
        config=config,
        engine=engine,
        connectors=connectors,
        pipeline=pipeline,
        poller=Poller(
            engine,
            connectors,
            pipeline,
            clock=clock,
            owner=owner,
            limits=read_limits(config),
            intervals={source.id: source.poll_interval_seconds for source in config.sources},
            gates=gates,
            stopping=stopping,
        ),
        sender=OutboxSender(engine, connectors, clock=clock, owner=owner, gates=gates),
        handoff=handoff,
        mail_sender=MailSender(
            engine, Mailer(config.smtp, environ), clock=clock, owner=owner, stopping=stopping
        ),
        clock=clock,
        owner=owner,
        stopping=stopping,
        sweeper=Sweeper(engine, config, clock=clock, notifier=notifier or mail_notifier(config, clock)),
        digests=DigestSender(
            engine,
            config,
            mail_templates,
            clock=clock,
            owner=owner,
            chat=chat_from(config.digest, environ),
            stopping=stopping,
        ),
        triage=triage,
        deletion_checks=DeletionChecks(
            engine,
            connectors,
            config.compliance,
            clock=clock,
            owner=owner,
            quotas={source.id: source.monthly_read_quota for source in config.sources},
            keep_text_days=config.retention.post_text_days,
        ),
        retention=RetentionPurge(engine, config.retention, clock=clock),
    )


def mail_notifier(config: Config, clock: Clock) -> MailNotifier:
    """SLA warnings and escalations by e-mail, queued in the mail outbox."""
    return MailNotifier(config, MailTemplates(bundled("templates") / "mail"), clock=clock)


def read_limits(config: Config) -> dict[str, ReadLimit]:
    return {
        source.id: ReadLimit(source.monthly_read_quota, source.poll_interval_seconds)
        for source in config.sources
        if source.monthly_read_quota
    }


def clear_failures(service: Service) -> None:
    """A restart is how a person says "I fixed it": failing sources are polled again."""
    with Session(service.engine) as session:
        session.execute(
            update(SourceState)
            .where(SourceState.status == FAILING)  # type: ignore[arg-type]
            .values(status="ok", next_poll_at=None)
        )
        session.commit()


def take_back_dead_leases(service: Service) -> None:
    """A restarted worker takes back at once what a process of this host held when it died."""
    now = service.clock()
    for table in (SourceState, OutboxEntry, MailEntry):
        reclaim_dead_leases(service.engine, table, now, me=service.owner)


def start_workers(service: Service, *, stop_within: float | None = None) -> BackgroundScheduler:
    """Poll every enabled source at its interval, drain the outbox, sweep SLA clocks and make the
    daily digests, starting now; the scheduler's ``shutdown(wait=True)`` waits ``stop_within``
    seconds at most for the jobs running (see :class:`JobThreads`).

    APScheduler is only the timer: cursors, due times, outbox entries and the digests
    made live in the database, so the jobs are simply rebuilt from the configuration at start.
    """
    take_back_dead_leases(service)
    scheduler = BackgroundScheduler(
        timezone="UTC",
        executors={"default": JobThreads(service.stopping, stop_within=stop_within)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30},
    )
    now = datetime.now(UTC)
    for source_id, connector in service.connectors.items():
        scheduler.add_job(
            _poll,
            "interval",
            seconds=service.config.source(source_id).poll_interval_seconds,
            args=(service, source_id),
            id=f"poll:{source_id}",
            name=f"poll {connector.platform} source {source_id}",
            next_run_time=now,
        )
    every_few_seconds = [
        (_send, OUTBOX_INTERVAL_SECONDS, "outbox", "send outbox"),
        (_sweep_handoffs, service.config.handoff.sweep_interval_seconds, "handoff", "reassign waiting cases"),
        (_sweep_sla, service.config.sla_alerts.sweep_interval_seconds, "sla-sweeper", "warn and escalate"),
    ]
    if service.config.digest.enabled:
        every_few_seconds.append((_send_digests, DIGEST_INTERVAL_SECONDS, "digest", "make the daily digests"))
    if service.config.smtp.enabled:
        every_few_seconds.append((_send_mail, OUTBOX_INTERVAL_SECONDS, "mail", "send mail"))
    else:
        log.warning("e-mail is off ([smtp] enabled = false): mails to colleagues wait in the mail outbox")
    if service.config.learning.retrain_after_labels:
        every_few_seconds.append(
            (
                _retrain,
                service.config.learning.check_interval_minutes * 60,
                "retrain",
                "retrain the triage model on new labels",
            )
        )
    if service.config.compliance.enabled:
        every_few_seconds.append(
            (
                _check_posts,
                service.config.compliance.check_interval_minutes * 60,
                "compliance",
                "check the posts kept with their platforms",
            )
        )
    every_few_seconds.append(
        (
            _purge,
            service.config.retention.purge_interval_minutes * 60,
            "retention",
            "purge data past retention",
        )
    )
    for job, seconds, job_id, name in every_few_seconds:
        scheduler.add_job(
            job, "interval", seconds=seconds, args=(service,), id=job_id, name=name, next_run_time=now
        )
    scheduler.start()
    return scheduler


def _send_mail(service: Service) -> None:
    try:
        report = service.mail_sender.run_once()
    except Exception:
        log.exception("sending mail failed")
        return
    if report.failed or report.dead:
        log.warning(
            "mail: %d sent, %d to retry, %d given up; last error: %s",
            report.sent,
            report.failed,
            report.dead,
            report.last_error,
        )
    elif report.sent:
        log.info("mail: %d sent", report.sent)


def _send_digests(service: Service) -> None:
    try:
        report = service.digests.run_once()
    except Exception:
        log.exception("making the daily digests failed")
        return
    if report.queued or report.skipped:
        log.info(
            "digest: queued for %s%s",
            ", ".join(report.queued) or "nobody",
            f"; skipped for {', '.join(report.skipped)}" if report.skipped else "",
        )


def _retrain(service: Service) -> None:
    try:
        retrain_if_due(service.engine, service.config.learning, service.triage.rules, at=service.clock())
    except Exception:
        log.exception("retraining the triage model failed")


def _check_posts(service: Service) -> None:
    try:
        report = service.deletion_checks.run_once()
    except Exception:
        log.exception("checking the posts kept with their platforms failed")
        return
    for source in report.sources:
        if source.asked:
            log.info("compliance: %s", source.line())


def _purge(service: Service) -> None:
    try:
        service.retention.run_once()
    except Exception:
        log.exception("purging data past its retention failed")


def _sweep_sla(service: Service) -> None:
    try:
        report = service.sweeper.run_once()
    except Exception:
        log.exception("sweeping the SLA clocks failed")
        return
    if report.warnings or report.escalations:
        log.info("SLA: %d warnings, %d escalations", report.warnings, report.escalations)


def _sweep_handoffs(service: Service) -> None:
    try:
        report = service.sweep_handoffs()
    except Exception:
        log.exception("the hand-off sweep failed")
        return
    if report.reassigned or report.returned or report.assigned:
        log.info(
            "hand-off: %d reassigned, %d back to their team, %d taken from a team's queue",
            report.reassigned,
            report.returned,
            report.assigned,
        )


def _poll(service: Service, source_id: str) -> None:
    try:
        report = service.poller.poll(source_id)
    except Exception:
        log.exception("polling %s failed", source_id)
        return
    if report.new or report.error:
        log.info(
            "%s: %d fetched, %d new, %d cases opened, %d replies queued%s",
            source_id,
            report.fetched,
            report.new,
            report.opened,
            report.queued_replies,
            f", error: {report.error}" if report.error else "",
        )


def _send(service: Service) -> None:
    try:
        report = service.sender.run_once()
    except Exception:
        log.exception("sending the outbox failed")
        return
    if report.sent or report.failed or report.dead or report.reconciled:
        log.info(
            "outbox: %d sent, %d reconciled, %d to retry, %d dead",
            report.sent,
            report.reconciled,
            report.failed,
            report.dead,
        )
