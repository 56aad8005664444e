"""Trained models in the database: in shadow first, acting only once they beat the rules,
rolled back in one step, retrained as labels come in, and the same in every worker."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from social_care.classify import RuleClassifier
from social_care.config import Config
from social_care.config.models import LearningSettings
from social_care.learning import versions
from social_care.learning.labels import import_labels, read_label_file
from social_care.learning.retraining import retrain_if_due, train_on_database
from social_care.runtime import build_service
from social_care.storage.engine import make_engine
from social_care.storage.tables import Case, Classification, Mention, TriageModel
from social_care.users import set_employee_password
from social_care.web.app import create_app
from tests.learning.examples import house_examples, rules_examples, write_jsonl
from tests.support.clock import FakeClock
from tests.support.scenario import post, scenario_config
from tests.test_cli import social_care
from tests.web.support import ADMIN, DEMO_PASSWORD, log_in

RULES = RuleClassifier()


def import_rows(engine: Engine, tmp_path: Path, rows: list[dict[str, object]], clock: FakeClock) -> None:
    found = read_label_file(write_jsonl(tmp_path / "labels.jsonl", rows))  # type: ignore[arg-type]
    with Session(engine) as session:
        import_labels(
            session, found.lines, rules=RULES, at=clock.now, imported_from="labels.jsonl", imported_by="ops"
        )
        session.commit()


def train(engine: Engine, clock: FakeClock, *, activate: bool = False) -> TriageModel:
    with Session(engine) as session:
        trained = train_on_database(session, RULES, folds=3, by="ops", at=clock.now, activate=activate)
        session.commit()
        session.refresh(trained.row)
        return trained.row


def states(engine: Engine) -> dict[int, str]:
    with Session(engine) as session:
        return {row.id or 0: row.status for row in session.exec(select(TriageModel))}


def verdicts_of(engine: Engine, external_id: str) -> tuple[Case, list[Classification]]:
    with Session(engine) as session:
        mention = session.exec(select(Mention).where(Mention.external_id == external_id)).one()
        rows = session.exec(
            select(Classification)
            .where(Classification.mention_id == mention.id)
            .order_by(col(Classification.id))
        )
        return session.get_one(Case, mention.case_id), list(rows)


BLORKED = post("p1", "@velora my Velora Pulse kettle is blorked", direct=True)


def test_a_model_trained_on_the_database_waits_in_shadow_and_nothing_acts_on_it(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    import_rows(engine, tmp_path, house_examples(60), clock)
    model = train(engine, clock)
    assert (model.status, model.labels, model.wins) == ("shadow", 120, True)
    assert model.model_macro_f1 > model.rules_macro_f1
    service = build_service(scenario_config(tmp_path, [BLORKED]), engine, clock=clock)
    service.poller.poll("demo")
    case, rows = verdicts_of(engine, "p1")
    assert case.category == "other", "the rules' call stands"
    acted, shadow = rows
    assert (acted.decided_by, acted.current, acted.category) == ("rules", True, "other")
    assert (shadow.decided_by, shadow.current, shadow.category) == (
        f"model {model.id} (shadow)",
        False,
        "complaint",
    )
    assert any(reason.startswith("learned: 'blorked'") for reason in shadow.reasons)
    config = scenario_config(tmp_path, [BLORKED])
    set_employee_password(config, engine, ADMIN, DEMO_PASSWORD)
    with TestClient(create_app(config, engine, secret_key="learning-test", clock=clock)) as client:
        log_in(client)
        page = client.get(f"/cases/{case.id}").text
    why = page.split('id="why"')[1].split("</details>")[0]
    assert "<b>rules</b> (acted on): other" in why
    assert f"<b>model {model.id} (shadow)</b>: complaint" in why and "learned: &#39;blorked&#39; +" in why


def test_only_a_model_that_beat_the_rules_may_become_active(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    import_rows(engine, tmp_path, rules_examples(), clock)
    loser = train(engine, clock, activate=True)
    assert (loser.status, loser.wins) == ("shadow", False), "--activate does not make a loser decide"
    with Session(engine) as session, pytest.raises(versions.Refused, match="did not beat the rules"):
        versions.activate(session, loser.id, at=clock.now)
    import_rows(engine, tmp_path, house_examples(60), clock)
    winner = train(engine, clock)
    assert states(engine) == {loser.id: "retired", winner.id: "shadow"}
    with Session(engine) as session:
        versions.activate(session, None, at=clock.now)
        session.commit()
    assert states(engine)[winner.id] == "active"
    service = build_service(scenario_config(tmp_path, [BLORKED]), engine, clock=clock)
    service.poller.poll("demo")
    case, rows = verdicts_of(engine, "p1")
    assert case.category == "complaint" and case.cluster, "the model decides; the rules give the cluster"
    acted, rules = rows
    assert (acted.decided_by, acted.current, rules.decided_by, rules.current) == (
        f"model {winner.id}",
        True,
        "rules",
        False,
    )
    assert rules.category == "other" and case.ack_due_at is not None, "a complaint's clocks run"


def test_rolling_back_brings_back_the_model_before_then_the_rules(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    import_rows(engine, tmp_path, house_examples(45), clock)
    first = train(engine, clock, activate=True)
    import_rows(engine, tmp_path, house_examples(60, seed=5), clock)
    second = train(engine, clock, activate=True)
    assert states(engine) == {first.id: "retired", second.id: "active"}
    rolled = social_care_rollback(engine)
    assert rolled == (second.id, first.id) and states(engine) == {first.id: "active", second.id: "retired"}
    assert social_care_rollback(engine) == (first.id, None)
    assert set(states(engine).values()) == {"retired"}
    with Session(engine) as session, pytest.raises(versions.Refused, match="the rules decide already"):
        versions.rollback(session, at=clock.now)


def social_care_rollback(engine: Engine) -> tuple[int | None, int | None]:
    with Session(engine) as session:
        retired, back = versions.rollback(session, at=FakeClock().now)
        session.commit()
        return retired.id, back.id if back else None


def test_every_worker_uses_the_same_active_model_within_seconds_of_a_change(
    engine: Engine, tmp_path: Path, clock: FakeClock, config: Config
) -> None:
    import_rows(engine, tmp_path, house_examples(45), clock)
    first = train(engine, clock, activate=True)
    other_engine = make_engine(engine.url.render_as_string(hide_password=False))
    workers = [build_service(config, engine, clock=clock), build_service(config, other_engine, clock=clock)]

    def deciders() -> list[str]:
        decided = []
        for worker, connected in zip(workers, (engine, other_engine), strict=True):
            with Session(connected) as session:
                decided.append(
                    worker.triage.judge("il bollitore sgrufolato", session=session, language="it").decided_by
                )
        return decided

    assert deciders() == [f"model {first.id}"] * 2
    import_rows(engine, tmp_path, house_examples(60, seed=5), clock)
    second = train(engine, clock, activate=True)
    assert deciders() == [f"model {first.id}"] * 2, (
        "no round trip per post: the workers ask every few seconds"
    )
    clock.advance(seconds=versions.REFRESH_SECONDS)
    assert deciders() == [f"model {second.id}"] * 2
    social_care_rollback(engine)
    clock.advance(seconds=versions.REFRESH_SECONDS)
    assert deciders() == [f"model {first.id}"] * 2
    other_engine.dispose()


def test_a_worker_retrains_once_enough_new_labels_have_come_in(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    settings = LearningSettings(retrain_after_labels=100, folds=3, activate_when_better=True)
    import_rows(engine, tmp_path, house_examples(45), clock)
    assert retrain_if_due(engine, settings, RULES, at=clock.now) is None, "90 labels: not yet"
    more = [dict(row, id=f"more-{row['id']}") for row in house_examples(60, seed=5)[:30]]
    import_rows(engine, tmp_path, more, clock)
    trained = retrain_if_due(engine, settings, RULES, at=clock.now)
    assert trained is not None and trained.activated and trained.row.labels == 120
    assert retrain_if_due(engine, settings, RULES, at=clock.now) is None, "nothing new since"
    assert len(states(engine)) == 1
    turned = {"complaint": "praise", "praise": "other", "other": "complaint"}
    import_rows(
        engine, tmp_path, [dict(row, label=turned[row["label"]]) for row in house_examples(60)[:100]], clock
    )
    replaced = retrain_if_due(engine, settings, RULES, at=clock.now)
    assert replaced is not None and replaced.row.labels == 135, "labels replaced are new labels"
    off = LearningSettings(retrain_after_labels=0)
    import_rows(engine, tmp_path, house_examples(90, seed=6), clock)
    assert retrain_if_due(engine, off, RULES, at=clock.now) is None


def test_learn_and_model_commands_work_on_the_services_database(tmp_path: Path) -> None:
    labels = write_jsonl(tmp_path / "labels.jsonl", house_examples(45))
    assert social_care("labels", "import", str(labels), cwd=tmp_path).returncode == 0
    none = social_care("model", "activate", cwd=tmp_path)
    assert none.returncode == 2 and "No model in shadow" in none.stderr
    learned = social_care("learn", "--folds", "3", cwd=tmp_path)
    assert learned.returncode == 0, learned.stderr
    assert "3-fold cross-validation on 90 labels" in learned.stdout
    assert "Model 1 is in shadow" in learned.stdout and "social-care model activate 1" in learned.stdout
    assert "1  shadow" in social_care("model", "list", cwd=tmp_path).stdout
    assert "Model 1 is active" in social_care("model", "activate", "1", cwd=tmp_path).stdout
    classified = social_care(
        "classify",
        "--model",
        "active",
        cwd=tmp_path,
        stdin='{"id": "1", "text": "my kettle is snarfed", "lang": "en"}\n',
    )
    assert '"decided_by": "model 1"' in classified.stdout and '"category": "complaint"' in classified.stdout
    rolled = social_care("model", "rollback", cwd=tmp_path)
    assert "Model 1 is retired: the rules alone decide." in rolled.stdout
    nothing = social_care("classify", "--model", "active", cwd=tmp_path, stdin='{"id": "1", "text": "x"}\n')
    assert nothing.returncode == 2 and "no model is active" in nothing.stderr
