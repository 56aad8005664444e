"""Labels: a company's examples imported (names mapped, bad lines skipped, the same ids
replaced), the inbox's corrections kept as labels, and all of them exported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from responders.handoff import HandOff
from social_care.classify import RuleClassifier
from social_care.config import Config
from social_care.corrections import Triage as Correction
from social_care.corrections import correct
from social_care.learning.labels import (
    LabelFileError,
    current_labels,
    import_labels,
    parse_mapping,
    read_label_file,
)
from social_care.mail import MailTemplates
from social_care.resources import bundled
from social_care.storage.tables import Case, Employee, TriageLabel
from tests.learning.examples import write_jsonl
from tests.support.clock import FakeClock
from tests.support.desk import Desk
from tests.test_cli import social_care

ROWS = [
    {"id": "a1", "text": "Where is my refund? Three weeks now.", "label": "not_praise"},
    {"id": 2, "text": "Grazie, tutto perfetto", "label": "praise", "lang": "it"},
    {"id": "a3", "text": "Nice weather today", "label": "other"},
]


def imported(
    engine: Engine, path: Path, mapping: str = "not_praise=complaint", at: FakeClock | None = None
) -> None:
    found = read_label_file(path, parse_mapping([mapping]))
    with Session(engine) as session:
        import_labels(
            session,
            found.lines,
            rules=RuleClassifier(),
            at=(at or FakeClock()).now,
            imported_from=path.name,
            imported_by="ops",
        )
        session.commit()


def labels_in(engine: Engine) -> list[TriageLabel]:
    with Session(engine) as session:
        return list(session.exec(select(TriageLabel).order_by(TriageLabel.id)))


def test_an_import_maps_label_names_and_keeps_the_rules_verdict_beside_each(
    engine: Engine, tmp_path: Path
) -> None:
    imported(engine, write_jsonl(tmp_path / "company.jsonl", ROWS))
    first, second, third = labels_in(engine)
    assert (first.external_id, first.category, first.source, first.text) == (
        "a1",
        "complaint",
        "import",
        ROWS[0]["text"],
    )
    assert (first.rules_category, first.rules_cluster) == ("complaint", "billing")
    assert (second.external_id, second.category, second.language, second.rules_category) == (
        "2",
        "praise",
        "it",
        "praise",
    )
    assert (third.category, third.imported_from, third.imported_by) == ("other", "company.jsonl", "ops")
    assert first.case_id is None and first.employee_id is None


def test_importing_the_same_ids_again_replaces_their_labels(engine: Engine, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "company.jsonl", ROWS)
    imported(engine, path)
    write_jsonl(
        path, [dict(ROWS[2], label="praise"), {"id": "a4", "text": "How do I pair it?", "label": "inquiry"}]
    )
    imported(engine, path)
    labels = {label.external_id: label.category for label in labels_in(engine)}
    assert labels == {"a1": "complaint", "2": "praise", "a3": "praise", "a4": "inquiry"}


def test_a_label_name_without_a_category_stops_the_import_naming_the_lines(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "company.jsonl", ROWS)
    with pytest.raises(LabelFileError) as refused:
        read_label_file(path, {})
    assert "'not_praise' (line 1)" in str(refused.value) and "--map not_praise=other" in str(refused.value)
    with pytest.raises(LabelFileError, match="the category must be one of complaint, inquiry, praise, other"):
        parse_mapping(["not_praise=bad"])
    with pytest.raises(LabelFileError, match="expected LABEL=CATEGORY"):
        parse_mapping(["not_praise"])


def test_bad_lines_are_reported_by_number_and_the_rest_imported(tmp_path: Path) -> None:
    path = tmp_path / "company.jsonl"
    path.write_bytes(
        b'{"id": "a1", "text": "Where is my refund?", "label": "complaint"}\n'
        b"not json\n"
        b'{"id": "a2", "label": "praise"}\n'
        b'{"id": "a3", "text": "ok", "label": "other", "lang": 7}\n'
        b"\xff\xfe\n"
        b"\n"
        b'{"id": "a1", "text": "Where is my refund? Still nothing", "label": "complaint"}\n'
    )
    result = social_care("labels", "import", str(path), "--by", "ops", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "skipped: company.jsonl line 2: not JSON" in result.stderr
    assert "line 3: missing 'text'" in result.stderr and 'line 4: "lang" must be a string' in result.stderr
    assert "line 5: not UTF-8" in result.stderr
    assert "line 7: id 'a1' already on line 1; the later line is kept" in result.stderr
    assert "company.jsonl: 1 labels added, 0 replaced, 0 unchanged." in result.stdout
    exported = social_care("labels", "export", cwd=tmp_path)
    [record] = [json.loads(line) for line in exported.stdout.splitlines()]
    assert (record["id"], record["text"], record["label"]) == (
        "a1",
        "Where is my refund? Still nothing",
        "complaint",
    )


def test_an_unmapped_label_name_imports_nothing_from_the_command_line(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "company.jsonl", ROWS)
    refused = social_care("labels", "import", str(path), cwd=tmp_path)
    assert (
        refused.returncode == 2
        and "'not_praise' (line 1)" in refused.stderr
        and "nothing was used" in refused.stderr
    )
    assert "Traceback" not in refused.stderr
    mapped = social_care("labels", "import", str(path), "--map", "not_praise=complaint", cwd=tmp_path)
    assert "3 labels added" in mapped.stdout, mapped.stderr


def test_a_correction_in_the_inbox_is_a_label_with_its_posts_text(
    engine: Engine, config: Config, clock: FakeClock
) -> None:
    desk = Desk(engine, config, clock)
    case_id = desk.post(category="inquiry", text="@velora il mio Pulse non si accende più", language="it")
    handoff = HandOff(config, MailTemplates(bundled("templates") / "mail"))
    for category in ("complaint", "praise", "complaint"):  # a person changes their mind; the last word counts
        with Session(engine) as session:
            case = session.get_one(Case, case_id)
            luca = session.exec(select(Employee).where(Employee.email == "luca.marino@velora.example")).one()
            fix = Correction(category, "not_working", "high", case.product, case.team or "")
            correct(session, config, case, fix, employee=luca, at=clock.now, handoff=handoff)
            session.commit()
    with Session(engine) as session:
        [label] = list(current_labels(session))
    assert (label.key, label.text, label.label.category, label.label.source) == (
        f"case-{case_id}",
        "@velora il mio Pulse non si accende più",
        "complaint",
        "inbox",
    )
    example = label.example()
    assert (example.text, example.category, example.language) == (label.text, "complaint", "it")
    record = label.record()
    assert (record["label"], record["cluster"], record["priority"], record["source"]) == (
        "complaint",
        "not_working",
        "high",
        "inbox",
    )
