"""Labels in and out: a company's labelled examples imported from JSON Lines, every label
exported the same way, and the current labels as examples to train on.

A label file has one JSON object per line: ``{"id", "text", "label"}`` and an optional
``"lang"``. Label names other than the four categories are mapped (``--map
not_complaint=other``); a name with no mapping stops the import before anything is
stored, naming the lines, because a silently dropped category would skew the model.
A line that is not valid is reported with its number and skipped, and the rest goes
on. The file's ids identify the examples: importing a file again replaces their
labels instead of adding them twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from social_care.classify.rules import RuleClassifier
from social_care.learning.training import CATEGORIES, Example
from social_care.storage.tables import Mention, TriageLabel

INBOX, IMPORT = "inbox", "import"
MAX_TEXT = 10_000
_CHUNK = 500


class LabelFileError(ValueError):
    """A label file that cannot be imported as it is; the message says where and what to do."""


@dataclass(frozen=True)
class LabelLine:
    """One valid line of a label file, its label mapped to a category."""

    id: str
    text: str
    category: str
    language: str | None
    line: int


@dataclass
class LabelFile:
    """A label file read: its valid lines, and the problems of the others (by line number)."""

    lines: list[LabelLine] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ImportReport:
    added: int
    replaced: int
    unchanged: int


def parse_mapping(items: Sequence[str]) -> dict[str, str]:
    """``["not_complaint=other,question=inquiry"]`` as a mapping; :class:`LabelFileError` when an
    item is not NAME=CATEGORY or names no category of the desk."""
    mapping = {}
    for item in (part.strip() for given in items for part in given.split(",")):
        if not item:
            continue
        name, equals, category = (value.strip() for value in item.partition("="))
        if not equals or not name:
            raise LabelFileError(f"--map {item}: expected LABEL=CATEGORY, e.g. not_complaint=other")
        if category not in CATEGORIES:
            raise LabelFileError(f"--map {item}: the category must be one of {', '.join(CATEGORIES)}")
        mapping[name] = category
    return mapping


def read_label_file(path: Path, mapping: dict[str, str] | None = None) -> LabelFile:
    """The file's labels; :class:`LabelFileError` if it cannot be read or has label names
    without a category (every such name listed, with the first lines that use it)."""
    mapping = {category: category for category in CATEGORIES} | (mapping or {})
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise LabelFileError(f"cannot read {path}: {error.strerror}") from None
    found = LabelFile()
    unmapped: dict[str, list[int]] = {}
    seen: dict[str, int] = {}
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = _record(line)
        except LabelFileError as problem:
            found.problems.append(f"{path.name} line {number}: {problem}")
            continue
        label = record["label"]
        if label not in mapping:
            unmapped.setdefault(label, []).append(number)
            continue
        if record["id"] in seen:
            found.problems.append(
                f"{path.name} line {number}: id {record['id']!r} already on line {seen[record['id']]}; "
                "the later line is kept"
            )
            found.lines = [item for item in found.lines if item.id != record["id"]]
        seen[record["id"]] = number
        found.lines.append(LabelLine(record["id"], record["text"], mapping[label], record["lang"], number))
    if unmapped:
        names = "; ".join(
            f"{name!r} (line{'s' if len(lines) > 1 else ''} {', '.join(map(str, lines[:5]))}"
            f"{', ...' if len(lines) > 5 else ''})"  # noqa: PLR2004
            for name, lines in sorted(unmapped.items())
        )
        example = next(iter(sorted(unmapped)))
        raise LabelFileError(
            f"{path}: label names with no category: {names}. Map them to one of "
            f"{', '.join(CATEGORIES)}, e.g. --map {example}=other; nothing was used"
        )
    return found


def _record(line: bytes) -> dict[str, Any]:
    try:
        data = json.loads(line.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise LabelFileError("not UTF-8") from None
    except json.JSONDecodeError as error:
        raise LabelFileError(f"not JSON ({error.msg} at column {error.colno})") from None
    if not isinstance(data, dict):
        raise LabelFileError("expected a JSON object with id, text and label")
    missing = [key for key in ("id", "text", "label") if key not in data]
    if missing:
        raise LabelFileError(f"missing {', '.join(repr(key) for key in missing)}")
    identifier, text, label, language = data["id"], data["text"], data["label"], data.get("lang")
    if not isinstance(identifier, str | int) or isinstance(identifier, bool) or str(identifier) == "":
        raise LabelFileError('"id" must be a non-empty string or a number')
    if not isinstance(text, str) or not text.strip():
        raise LabelFileError('"text" must be a non-empty string')
    if len(text) > MAX_TEXT:
        raise LabelFileError(f'"text" is longer than {MAX_TEXT:,} characters')
    if not isinstance(label, str) or not label:
        raise LabelFileError('"label" must be a non-empty string')
    if language is not None and not isinstance(language, str):
        raise LabelFileError('"lang" must be a string such as "en" or "it"')
    return {"id": str(identifier), "text": text, "label": label, "lang": language or None}


def import_labels(
    session: Session,
    lines: Sequence[LabelLine],
    *,
    rules: RuleClassifier,
    at: datetime,
    imported_from: str,
    imported_by: str,
) -> ImportReport:
    """Store the lines as labels, replacing those imported before under the same ids, each with
    the rules' verdict on its text beside it."""
    added = replaced = unchanged = 0
    for start in range(0, len(lines), _CHUNK):
        chunk = lines[start : start + _CHUNK]
        known = {
            label.external_id: label
            for label in session.exec(
                select(TriageLabel).where(col(TriageLabel.external_id).in_([line.id for line in chunk]))
            )
        }
        fresh = []
        for line in chunk:
            verdict = rules.classify(line.text, language=line.language)
            values = {
                "source": IMPORT,
                "text": line.text,
                "category": line.category,
                "language": line.language or "",
                "rules_category": verdict.category,
                "rules_cluster": verdict.cluster,
                "rules_priority": verdict.priority,
            }
            label = known.get(line.id)
            if label is not None and all(getattr(label, key) == value for key, value in values.items()):
                unchanged += 1
                continue
            if label is None:
                added += 1
            else:
                # A new row, not an update: a label's id says when it came in, which is what
                # retraining counts and what a model's labels_through refers to.
                session.delete(label)
                replaced += 1
            fresh.append(
                TriageLabel(
                    external_id=line.id, at=at, imported_from=imported_from, imported_by=imported_by, **values
                )
            )
        session.flush()  # the replaced rows go before their ids are taken again
        session.add_all(fresh)
        session.flush()
    return ImportReport(added, replaced, unchanged)


@dataclass(frozen=True)
class CurrentLabel:
    """A label in force: the latest correction of a case, or an imported example."""

    label: TriageLabel
    text: str

    @property
    def key(self) -> str:
        if self.label.source == IMPORT:
            return str(self.label.external_id)
        return f"case-{self.label.case_id}"

    def example(self) -> Example:
        return Example(self.text, self.label.category, self.label.language or None)

    def record(self) -> dict[str, Any]:
        label = self.label
        record: dict[str, Any] = {"id": self.key, "text": self.text, "label": label.category}
        if label.language:
            record["lang"] = label.language
        record |= {"source": label.source, "rules": label.rules_category, "at": label.at.isoformat()}
        if label.source == INBOX:
            record |= {"cluster": label.cluster, "priority": label.priority}
        return record


def current_labels(session: Session) -> Iterator[CurrentLabel]:
    """Every label in force, oldest first: imported ones, and each case's latest correction with
    its first post's text (a case whose post was erased has no label to learn from)."""
    latest = (
        select(func.max(TriageLabel.id))
        .where(TriageLabel.source == INBOX)
        .group_by(col(TriageLabel.case_id))
        .scalar_subquery()
    )
    statement = (
        select(TriageLabel, Mention.text)
        .outerjoin(Mention, col(Mention.id) == col(TriageLabel.mention_id))
        .where((TriageLabel.source == IMPORT) | col(TriageLabel.id).in_(latest))
        .order_by(col(TriageLabel.id))
        .execution_options(yield_per=1000)
    )
    for label, mention_text in session.exec(statement):
        text = label.text if label.source == IMPORT else (mention_text or "")
        if text.strip():
            yield CurrentLabel(label, text)


def last_label_id(session: Session) -> int:
    return session.exec(select(func.max(TriageLabel.id))).one() or 0


def labels_since(session: Session, label_id: int) -> int:
    """How many labels were made or imported after ``label_id`` (each correction counts)."""
    return session.exec(select(func.count()).where(col(TriageLabel.id) > label_id)).one()


def write_records(records: Iterable[dict[str, Any]], output: Any) -> int:
    count = 0
    for record in records:
        output.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count
