"""A person's data: everything kept about one author exported, or erased with the figures kept."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from jinja2 import Environment
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from social_care import lifecycle
from social_care.compliance import person
from social_care.metrics import rollups
from social_care.search import matching_cases
from social_care.storage import migrate
from social_care.storage.engine import make_engine
from social_care.storage.tables import (
    AuditEvent,
    Author,
    Case,
    CaseEvent,
    CsatResponse,
    DigestRun,
    MailEntry,
    Mention,
    OutboxEntry,
    TriageLabel,
)
from tests.metrics.test_rollups import snapshot
from tests.support.clock import FakeClock
from tests.support.configs import demo_config
from tests.support.desk import Desk
from tests.test_cli import social_care

ADMIN = "admin@velora.example"
QUOTE = Environment(autoescape=True).from_string("<p>{{ intro }} {{ text }}</p>")  # as our templates escape
FIRST = "My Velora Pulse died <again>, I'm Anna Bianchi from Turin"
SECOND = "Still no answer about my Velora Pulse & its refund"


def anna_and_bruno(engine: Engine, tmp_path: Path, clock: FakeClock) -> tuple[Desk, list[int], int]:
    """Anna wrote twice (two cases: a reply, a note, a survey, labels, a mail, a digest quote her);
    Bruno wrote once."""
    desk = Desk(engine, demo_config(tmp_path), clock)
    first = desk.post(handle="anna_b", text=FIRST)
    desk.reply(first, ADMIN, resolves=True, text="Hi Anna Bianchi, we are sorry: a new Pulse is on its way.")
    clock.advance(days=3)
    second = desk.post(handle="anna_b", text=SECOND)
    bruno = desk.post(handle="bruno", text="Velora Casa is great")
    admin = desk.employee(ADMIN)
    with Session(engine) as session:
        case = desk.case(second)
        lifecycle.add_note(
            session, session.merge(case), clock.now, employee_id=admin, text="Anna called, angry"
        )
        session.add(CsatResponse(case_id=first, score=2, comment="Anna here: slow!", answered_at=clock.now))
        session.add(TriageLabel(case_id=second, employee_id=admin, at=clock.now, category="complaint"))
        session.add(
            TriageLabel(source="import", external_id="f-1", text=SECOND, at=clock.now, category="complaint")
        )
        session.add(
            TriageLabel(source="import", external_id="f-2", text="unrelated", at=clock.now, category="praise")
        )
        session.add(
            MailEntry(
                idempotency_key="assign-1",
                purpose="assignment",
                case_id=second,
                subject="Case for you",
                text=f"The customer wrote: {SECOND}",
                html=QUOTE.render(intro="The customer wrote:", text=SECOND),
                state="sent",
                created_at=clock.now,
                next_attempt_at=clock.now,
            )
        )
        session.add(
            MailEntry(
                idempotency_key="crisis-1",
                purpose="crisis",
                subject="Complaints spike",
                text=f"Latest: {FIRST}",
                html=QUOTE.render(intro="Latest:", text=FIRST),
                state="sent",
                created_at=clock.now,
                next_attempt_at=clock.now,
            )
        )
        session.add(
            DigestRun(
                recipient="boss@velora.example",
                day=(clock.now + timedelta(days=1)).date(),
                state="queued",
                made_at=clock.now,
                text=f"Top complaint: {FIRST}\nPraise: Velora Casa is great",
                html=QUOTE.render(intro="@anna_b", text=FIRST) + "<p>Velora Casa is great</p>",
            )
        )
        session.commit()
    return desk, [first, second], bruno


def test_the_export_holds_everything_about_the_person_and_nothing_of_anyone_else(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    desk, anna_cases, _ = anna_and_bruno(engine, tmp_path, clock)
    with Session(engine) as session:
        found = person.find(session, "demo", "@Anna_B")
        data = person.export(session, found, at=clock.now, actor=ADMIN)
        session.commit()

    assert [post["text"] for post in data["posts"]] == [FIRST, SECOND]
    assert [profile["handle"] for profile in data["profiles"]] == ["anna_b"]
    assert [case["reference"] for case in data["cases"]] == [desk.case(id).reference for id in anna_cases]
    first, second = data["cases"]
    assert first["our_replies"][0]["text"].startswith("Hi Anna Bianchi")
    assert first["survey"]["comment"] == "Anna here: slow!"
    assert {"kind": "note", "detail": {"text": "Anna called, angry"}}.items() <= {
        "kind": second["events"][-1]["kind"],
        "detail": second["events"][-1]["detail"],
    }.items()
    assert [label["category"] for label in data["labels"]] == ["complaint"]
    assert "Velora Casa is great" not in json.dumps(data), "Bruno's post is not Anna's data"
    with Session(engine) as session:
        [audited] = session.exec(select(AuditEvent)).all()
    assert (audited.kind, audited.actor) == ("person_exported", ADMIN)
    assert "anna" not in audited.subject.lower(), "the log names the author by our id, not their handle"


def test_forgetting_erases_content_and_profile_across_cases_and_keeps_the_figures(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    _, anna_cases, bruno_case = anna_and_bruno(engine, tmp_path, clock)
    figures = snapshot(engine)
    with Session(engine) as session:
        assert session.exec(select(Case.id).where(matching_cases("Turin", engine.dialect))).all()
    clock.advance(hours=1)

    with Session(engine) as session:
        erased = person.forget(session, person.find(session, "demo", "anna_b"), at=clock.now, actor=ADMIN)
        session.commit()

    assert (erased.posts, erased.cases, erased.authors) == (2, 2, 1)
    with Session(engine) as session:
        anna = session.exec(select(Author).where(Author.external_id != "id-bruno")).one()
        assert (anna.handle, anna.name, anna.external_id) == ("", "", f"erased:{anna.id}")
        posts = session.exec(select(Mention).where(Mention.author_id == anna.id)).all()
        assert {(post.text, post.url, post.removed) for post in posts} == {("", "", "erased")}
        assert all(post.raw == {} for post in posts)
        removed = session.exec(select(CaseEvent).where(CaseEvent.kind == "post_removed")).all()
        assert sorted(event.case_id for event in removed) == sorted(anna_cases)
        assert all(event.detail["why"] == "erased" for event in removed)
        notes = session.exec(select(CaseEvent).where(CaseEvent.kind == "note")).all()
        assert [note.detail["text"] for note in notes] == ["[erased]"]
        assert {entry.text for entry in session.exec(select(OutboxEntry))} == {""}
        assert session.exec(select(CsatResponse.comment)).all() == [""]
        assert session.exec(select(TriageLabel.text)).all() == ["unrelated"], "her labels went, others stay"
        for mail in session.exec(select(MailEntry)):
            assert "[erased]" in mail.text and "[erased]" in mail.html
            assert "Turin" not in mail.text + mail.html and "refund" not in mail.text + mail.html
        digest = session.exec(select(DigestRun)).one()
        assert "Turin" not in digest.text + digest.html and "@anna_b" not in digest.html
        assert "Velora Casa is great" in digest.text, "Bruno's words stay"
        assert (
            session.exec(select(Mention.text).where(Mention.case_id == bruno_case)).one()
            == "Velora Casa is great"
        )
        audited = session.exec(select(AuditEvent).where(AuditEvent.kind == "person_forgotten")).one()
        assert audited.actor == ADMIN and audited.detail["posts"] == 2
        with pytest.raises(person.UnknownPerson):
            person.find(session, "demo", "anna_b")
        assert session.exec(select(Case.id).where(matching_cases("Turin", engine.dialect))).all() == []
        assert session.exec(select(Case.id).where(matching_cases("anna_b", engine.dialect))).all() == []
    assert snapshot(engine) == figures, "the figures do not change"
    rollups.rebuild(engine)
    assert snapshot(engine) == figures, "and the events still rebuild them"


def test_a_person_who_asked_us_to_stop_keeps_only_their_platform_id(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    desk = Desk(engine, demo_config(tmp_path), clock)
    desk.post(handle="anna_b", text="stop replying to me")
    with Session(engine) as session:
        anna = session.exec(select(Author)).one()
        anna.opted_out_at = clock.now
        session.add(anna)
        session.commit()
        erased = person.forget(session, person.find(session, "demo", "anna_b"), at=clock.now, actor=ADMIN)
        session.commit()
        anna = session.exec(select(Author)).one()
    assert erased.kept_ids == 1
    assert (anna.external_id, anna.handle, anna.opted_out_at is not None) == ("id-anna_b", "", True)


def test_an_unsent_reply_to_a_forgotten_person_is_cancelled(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    desk = Desk(engine, demo_config(tmp_path), clock)
    case = desk.post(handle="anna_b", text=FIRST)
    desk.queue_acknowledgement(case, text="Hi Anna, we are on it.")
    with Session(engine) as session:
        person.forget(session, person.find(session, "demo", "anna_b"), at=clock.now, actor=ADMIN)
        session.commit()
    assert desk.service.sender.run_once().sent == 0
    with Session(engine) as session:
        entry = session.exec(select(OutboxEntry)).one()
    assert (entry.state, entry.text) == ("cancelled", "")


def test_the_commands_export_to_a_file_and_forget_after_confirmation(
    tmp_path: Path, clock: FakeClock
) -> None:
    database = tmp_path / "social-care.db"
    config = tmp_path / "social-care.toml"
    example = (Path(__file__).parents[2] / "config" / "social-care.example.toml").read_text("utf-8")
    config.write_text(example.replace('path = "social-care.db"', f'path = "{database}"'), encoding="utf-8")
    engine = make_engine(f"sqlite:///{database}")
    migrate.upgrade(engine)
    anna_and_bruno(engine, tmp_path, clock)

    exported = social_care(
        "person", "export", "demo", "@anna_b", "--out", "anna.json", "--config", str(config), cwd=tmp_path
    )
    assert exported.returncode == 0, exported.stderr
    assert (tmp_path / "anna.json").stat().st_mode & 0o777 == 0o600, "readable by its owner alone"
    assert [post["text"] for post in json.loads((tmp_path / "anna.json").read_text("utf-8"))["posts"]] == [
        FIRST,
        SECOND,
    ]

    unknown = social_care("person", "export", "demo", "nobody", "--config", str(config), cwd=tmp_path)
    assert unknown.returncode == 1 and "nobody with the handle 'nobody'" in unknown.stderr
    assert "Traceback" not in unknown.stderr

    declined = social_care(
        "person", "forget", "demo", "anna_b", "--config", str(config), cwd=tmp_path, stdin="n\n"
    )
    assert declined.returncode == 1
    forgotten = social_care(
        "person", "forget", "demo", "anna_b", "--config", str(config), cwd=tmp_path, stdin="y\n"
    )
    assert forgotten.returncode == 0, forgotten.stderr
    assert "2 posts" in forgotten.stdout
    with Session(engine) as session:
        assert session.exec(select(Mention.text).where(col(Mention.removed) == "erased")).all() == ["", ""]
        kinds = [event.kind for event in session.exec(select(AuditEvent).order_by(col(AuditEvent.id)))]
        actors = {event.actor for event in session.exec(select(AuditEvent))}
    assert kinds == ["person_exported", "person_forgotten"]
    assert all("command line" in actor for actor in actors)
    engine.dispose()
