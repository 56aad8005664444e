"""``social-care labels``, ``social-care learn`` and ``social-care model``: labels in and out,
training with the figures printed first, and which model decides."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from social_care.command_line import (
    ConfigOption,
    console,
    errors,
    load_or_exit,
    open_database_or_exit,
    operator,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlmodel import Session

    from social_care.classify import RuleClassifier
    from social_care.config import Config
    from social_care.learning.labels import ImportReport, LabelLine
    from social_care.learning.training import Evaluation
    from social_care.learning.versions import FixedModel
    from social_care.storage.tables import TriageModel

labels_app = typer.Typer(help="Labelled posts: what triage learns from.", no_args_is_help=True)
model_app = typer.Typer(help="Trained triage models: which one decides.", no_args_is_help=True)

MapOption = Annotated[
    list[str] | None,
    typer.Option(
        "--map",
        metavar="LABEL=CATEGORY,...",
        help="Map the file's label names to complaint, inquiry, praise or other (e.g. not_complaint=other)",
    ),
]


def _now() -> datetime:
    return datetime.now(UTC)


def rules_for(settings: Config | None = None) -> RuleClassifier:
    from social_care.classify import RuleClassifier
    from social_care.watchlist import product_tiers

    return RuleClassifier(product_tiers(settings) if settings else None)


def _database(settings: Config) -> Engine:
    return open_database_or_exit(settings)


def _read_labels(file: Path, mapping: list[str] | None) -> list[LabelLine]:
    from social_care.learning.labels import LabelFileError, parse_mapping, read_label_file

    try:
        found = read_label_file(file, parse_mapping(mapping or []))
    except LabelFileError as problem:
        errors.print(str(problem), markup=False, highlight=False)
        raise typer.Exit(2) from None
    for problem in found.problems:
        errors.print(f"skipped: {problem}", markup=False, highlight=False)
    if not found.lines:
        errors.print(f"{file}: no labels to use.", markup=False)
        raise typer.Exit(2)
    return found.lines


def chosen_model(settings: Config, given: str) -> FixedModel:
    """The model ``classify --model`` names: a model file, or ``active``, the database's active one."""
    from pathlib import Path

    from sqlmodel import Session

    from social_care.learning.model import LearnedModel, ModelError
    from social_care.learning.versions import FixedModel, active_row

    if given != "active":
        try:
            return FixedModel(Path(given).name, LearnedModel.load(Path(given)))
        except ModelError as problem:
            errors.print(f"--model {given}: {problem}", markup=False)
            raise typer.Exit(2) from None
    engine = _database(settings)
    with Session(engine) as session:
        row = active_row(session)
    engine.dispose()
    if row is None:
        errors.print("--model active: no model is active (`social-care model list`).", markup=False)
        raise typer.Exit(2)
    return FixedModel(f"model {row.id}", LearnedModel.from_bytes(row.model))


@labels_app.command("import")
def labels_import(
    file: Annotated[Path, typer.Argument(help='JSON Lines: {"id", "text", "label"} and optional "lang"')],
    mapping: MapOption = None,
    by: Annotated[str, typer.Option(help="Who the labels come from, for the record")] = "",
    config: ConfigOption = None,
) -> None:
    """Import labelled posts; the same ids imported again replace their labels."""
    from sqlmodel import Session

    from social_care.learning.labels import import_labels

    settings, _ = load_or_exit(config)
    lines = _read_labels(file, mapping)
    engine, now = _database(settings), _now()
    with Session(engine) as session:
        report = import_labels(
            session,
            lines,
            rules=rules_for(settings),
            at=now,
            imported_from=file.name,
            imported_by=by or operator(),
        )
        _record_import(session, file, report, labels_from=by, at=now)
        session.commit()
    engine.dispose()
    console.print(
        f"{file.name}: {report.added:,} labels added, {report.replaced:,} replaced, "
        f"{report.unchanged:,} unchanged.",
        markup=False,
    )
    if len(lines) and settings.learning.retrain_after_labels:
        console.print("`social-care learn` trains on them now; the workers retrain on their schedule.")


def _record_import(
    session: Session, file: Path, report: ImportReport, *, labels_from: str, at: datetime
) -> None:
    """The import in the audit log: the file by name, how many labels, who gave them (``--by``)."""
    from social_care import audit

    detail: dict[str, Any] = {
        "file": file.name,
        "count": report.added + report.replaced + report.unchanged,
        "added": report.added,
        "replaced": report.replaced,
    }
    if labels_from:
        detail["labels_from"] = labels_from
    audit.record(session, audit.LABELS_IMPORTED, at=at, actor=operator(), subject=file.name, **detail)


@labels_app.command("export")
def labels_export(
    out: Annotated[Path | None, typer.Option("--out", help="Write here instead of standard output")] = None,
    config: ConfigOption = None,
) -> None:
    """Write every label in force as JSON Lines ({"id", "text", "label", "lang", "source", "rules", ...})."""
    from sqlmodel import Session

    from social_care.learning.labels import current_labels, write_records

    settings, _ = load_or_exit(config)
    engine = _database(settings)
    with Session(engine) as session:
        records = (label.record() for label in current_labels(session))
        if out is None:
            count = write_records(records, sys.stdout)
        else:
            try:
                with out.open("w", encoding="utf-8") as output:
                    count = write_records(records, output)
            except OSError as error:
                errors.print(f"Cannot write {out}: {error.strerror}", markup=False)
                raise typer.Exit(2) from None
    engine.dispose()
    errors.print(f"{count:,} labels exported.", markup=False)


def learn(
    *,
    labels: Annotated[
        Path | None, typer.Option("--labels", help="Train on this JSON Lines file alone, without a database")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="With --labels: where to write the model")] = None,
    mapping: MapOption = None,
    folds: Annotated[
        int | None,
        typer.Option(help="Cross-validation folds (default: the configuration's \\[learning] folds, 5)"),
    ] = None,
    seed: Annotated[int, typer.Option(help="How the folds are shuffled")] = 0,
    activate: Annotated[
        bool, typer.Option("--activate", help="Activate the model at once if it beats the rules")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Train a triage model on the labels, printing first how it and the rules fare on the same folds.

    On the database's labels, the model is stored in shadow (its verdicts kept beside the rules',
    acted on by nothing) until `social-care model activate`, or --activate, makes it decide; only
    a model that beat the rules may. With --labels FILE --out MODEL, no database is used.
    """
    from social_care.learning.training import TrainingError

    if (labels is None) != (out is None):
        errors.print("--labels and --out go together: a file's model is written to a file.", markup=False)
        raise typer.Exit(2)
    settings, _ = load_or_exit(config)
    folds = folds or settings.learning.folds
    try:
        if labels is not None and out is not None:
            _learn_from_file(labels, out, mapping, folds, seed)
            return
        _learn_from_database(settings, folds, seed, activate)
    except TrainingError as problem:
        errors.print(f"Cannot train: {problem}.", markup=False)
        raise typer.Exit(2) from None


def _learn_from_file(labels: Path, out: Path, mapping: list[str] | None, folds: int, seed: int) -> None:
    from social_care.learning.model import ModelError
    from social_care.learning.report import evaluation_lines
    from social_care.learning.training import Example, learn, read_examples

    lines = _read_labels(labels, mapping)
    reads = read_examples(rules_for(), [Example(line.text, line.category, line.language) for line in lines])
    model, evaluation = learn(reads, folds=folds, seed=seed)
    for line in evaluation_lines(evaluation, labels=len(reads)):
        console.print(line, markup=False, highlight=False)
    try:
        model.save(out)
    except (OSError, ModelError) as error:
        errors.print(f"Cannot write {out}: {getattr(error, 'strerror', error)}", markup=False)
        raise typer.Exit(2) from None
    console.print(f"The model is in {out}: `social-care classify --model {out}` uses it.", markup=False)


def _learn_from_database(settings: Config, folds: int, seed: int, activate: bool) -> None:
    from sqlmodel import Session

    from social_care.learning.report import evaluation_lines
    from social_care.learning.retraining import train_on_database
    from social_care.learning.versions import record_activation

    def show(evaluation: Evaluation, labels: int) -> None:
        for line in evaluation_lines(evaluation, labels=labels):
            console.print(line, markup=False, highlight=False)

    engine, now = _database(settings), _now()
    with Session(engine, expire_on_commit=False) as session:
        trained = train_on_database(
            session,
            rules_for(settings),
            folds=folds,
            by=operator(),
            at=now,
            activate=activate,
            seed=seed,
            on_evaluation=show,
        )
        if trained.activated:
            record_activation(session, trained.row, actor=operator(), at=now)
        session.commit()
    engine.dispose()
    version = trained.row.id
    if trained.activated:
        console.print(f"Model {version} is active: it decides the category of new posts.")
    elif trained.evaluation.wins:
        console.print(
            f"Model {version} is in shadow: its verdicts are kept beside the rules'. "
            f"`social-care model activate {version}` makes it decide."
        )
    else:
        console.print(f"Model {version} is in shadow; the rules keep deciding.")


@model_app.command("list")
def model_list(config: ConfigOption = None) -> None:
    """Every trained model: its state, labels, and macro-F1 against the rules' on its folds."""
    from sqlmodel import Session

    from social_care.learning.versions import listed

    settings, _ = load_or_exit(config)
    engine = _database(settings)
    with Session(engine) as session:
        rows = listed(session)
    engine.dispose()
    if not rows:
        console.print("No trained models: the rules decide. `social-care learn` trains one.")
    for row in rows:
        verdict = "beats the rules" if row.wins else "does not beat the rules"
        console.print(
            f"{row.id}  {row.status:<7} trained {row.created_at:%Y-%m-%d %H:%M} UTC by {row.created_by} "
            f"on {row.labels:,} labels  macro-F1 {row.model_macro_f1:.3f} (rules {row.rules_macro_f1:.3f}): "
            f"{verdict}",
            markup=False,
            highlight=False,
        )


T = TypeVar("T")


def _change_models(config: Path | None, change: Callable[[Session], T]) -> T:
    """Make one change of which model decides, committed; a refused change exits 2 with why."""
    from sqlmodel import Session

    from social_care.learning.versions import Refused

    settings, _ = load_or_exit(config)
    engine = _database(settings)
    try:
        with Session(engine, expire_on_commit=False) as session:
            done = change(session)
            session.commit()
            return done
    except Refused as problem:
        errors.print(str(problem), markup=False)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()


@model_app.command("activate")
def model_activate(
    version: Annotated[
        int | None, typer.Argument(help="The model's number [default: the one in shadow]")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Let a model decide the category of new posts; only one that beat the rules may."""
    from social_care.learning.versions import activate, record_activation

    def change(session: Session) -> TriageModel:
        now = _now()
        row = activate(session, version, at=now)
        record_activation(session, row, actor=operator(), at=now)
        return row

    row = _change_models(config, change)
    console.print(f"Model {row.id} is active: every worker uses it within seconds.")


@model_app.command("rollback")
def model_rollback(config: ConfigOption = None) -> None:
    """Retire the active model: the one active before it, or the rules alone, decide again."""
    from social_care.learning.versions import record_rollback, rollback

    def change(session: Session) -> tuple[TriageModel, TriageModel | None]:
        now = _now()
        retired, back = rollback(session, at=now)
        record_rollback(session, retired, back, actor=operator(), at=now)
        return retired, back

    retired, back = _change_models(config, change)
    now = f"model {back.id} decides again" if back else "the rules alone decide"
    console.print(f"Model {retired.id} is retired: {now}.")
