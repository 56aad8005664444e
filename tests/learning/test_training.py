"""Learning from labels: the model is measured against the rules on the same folds, per
language, with calibrated confidence and reasons that name what it learned."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from social_care.classify import RuleClassifier
from social_care.learning.model import LearnedModel, ModelError
from social_care.learning.training import Example, TrainingError, cross_validate, learn, read_examples
from social_care.learning.triage import Triage
from social_care.learning.versions import FixedModel
from tests.learning.examples import house_examples, rules_examples, write_jsonl
from tests.test_cli import social_care

RULES = RuleClassifier()


def reads_of(rows: list[dict[str, object]]) -> list:  # type: ignore[type-arg]
    examples = [Example(str(row["text"]), str(row["label"]), row.get("lang")) for row in rows]  # type: ignore[arg-type]
    return read_examples(RULES, examples)


def test_a_model_learns_a_companys_own_words_and_beats_the_rules_on_the_same_folds() -> None:
    evaluation = cross_validate(reads_of(house_examples()), folds=5)
    assert evaluation.rules.per_category["complaint"][2] == 0.0, "the rules cannot know these words"
    assert evaluation.model.per_category["complaint"][2] > 0.95
    assert evaluation.model.per_category["praise"][2] > 0.95
    assert evaluation.wins and evaluation.folds_won == 5


def test_a_model_cannot_win_where_the_rules_are_already_right() -> None:
    evaluation = cross_validate(reads_of(rules_examples()), folds=5)
    assert evaluation.rules.macro_f1 == 1.0
    assert not evaluation.wins


def test_each_language_with_labels_gets_its_own_model() -> None:
    model, _ = learn(reads_of(house_examples()), folds=3)
    assert set(model.languages) == {"en", "it"}
    assert "w:sgrufolato" in model.languages["it"].weights
    assert "w:sgrufolato" not in model.languages["en"].weights


def test_the_confidence_is_calibrated_to_how_often_the_model_is_right() -> None:
    """A fifth of the labels are wrong and the model, barely regularised, learns them by heart: its raw
    scores claim more than nine calls in ten, but the confidence it states matches how often it is right."""
    model, evaluation = learn(reads_of(house_examples(300, noise=0.2)), folds=5, regularisation=1000)
    assert evaluation.calibration_error < 0.1 < evaluation.rules_calibration_error
    held_out = reads_of(house_examples(300, seed=99, noise=0.2))
    predictions = [model.predict(read.reading, read.rules_category) for read in held_out]
    right = sum(p.category == read.example.category for p, read in zip(predictions, held_out, strict=True))
    stated = sum(prediction.confidence for prediction in predictions) / len(predictions)
    assert abs(stated - right / len(held_out)) < 0.05, (stated, right / len(held_out))
    for language_model in model.languages.values():
        language_model.temperature = 1.0
    raw = sum(model.predict(read.reading, read.rules_category).confidence for read in held_out) / len(
        held_out
    )
    assert raw > right / len(held_out) + 0.15, "without its temperature it claims far more"


def test_a_verdict_names_its_strongest_learned_features() -> None:
    model, _ = learn(reads_of(house_examples()), folds=3)
    triage = Triage(RULES, FixedModel("house.model", model))
    judgement = triage.judge("my kettle is blorked again", language="en")
    assert (judgement.verdict.category, judgement.decided_by) == ("complaint", "house.model")
    assert judgement.rules.category == "other"
    learned = [reason for reason in judgement.verdict.reasons if reason.startswith("learned: ")]
    assert learned and learned[0].startswith("learned: 'blorked' +"), judgement.verdict.reasons
    assert judgement.verdict.reasons[0] == "house.model over the rules' other"


def test_a_model_without_a_category_leaves_it_to_the_rules() -> None:
    """Complaint / not-complaint labels mapped to complaint and other say nothing of questions."""
    rows = [row for row in house_examples() if row["label"] != "praise"]
    model, _ = learn(reads_of(rows), folds=3)
    triage = Triage(RULES, FixedModel("complaints-only", model))
    question = triage.judge("how do I change my delivery address?", language="en")
    assert question.verdict.category == "inquiry"
    assert any("has no inquiry labels" in reason for reason in question.verdict.reasons)
    assert triage.judge("my kettle is blorked", language="en").verdict.category == "complaint"


def test_too_few_labels_of_a_category_is_a_clear_error() -> None:
    rows = house_examples(30)
    rows = [row for row in rows if row["label"] != "praise"] + [dict(rows[1], label="praise")]
    with pytest.raises(
        TrainingError, match=r"5-fold cross-validation needs 5 labels of each category; praise \(1\)"
    ):
        cross_validate(reads_of(rows), folds=5)
    with pytest.raises(TrainingError, match="no labels yet"):
        cross_validate([], folds=5)
    with pytest.raises(TrainingError, match="two categories or more"):
        cross_validate(reads_of([dict(row, label="other") for row in rows]), folds=5)


def test_a_model_survives_its_bytes_and_refuses_other_files(tmp_path: Path) -> None:
    model, _ = learn(reads_of(house_examples(60)), folds=3)
    again = LearnedModel.from_bytes(model.to_bytes())
    read = RULES.read("il bollitore sgrufolato", language="it")
    before, after = model.predict(read, "other"), again.predict(read, "other")
    assert (after.category, after.confidence, after.reasons()) == (
        before.category,
        before.confidence,
        before.reasons(),
    )
    with pytest.raises(ModelError, match="not a social-care triage model"):
        LearnedModel.from_bytes(b'{"weights": {}}')
    with pytest.raises(ModelError, match="cannot read"):
        LearnedModel.load(tmp_path / "missing.model")


# -- the commands -------------------------------------------------------------------------------


def test_learn_on_a_file_prints_the_folds_then_writes_the_model_without_a_database(tmp_path: Path) -> None:
    labels = write_jsonl(tmp_path / "labels.jsonl", house_examples(90))
    result = social_care(
        "learn", "--labels", str(labels), "--out", "house.model", "--folds", "4", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "4-fold cross-validation on 180 labels" in result.stdout
    complaint = next(line for line in result.stdout.splitlines() if line.startswith("complaint"))
    model_f1, rules_f1 = float(complaint.split()[4]), float(complaint.split()[7])
    assert model_f1 > 0.9 and rules_f1 == 0.0
    assert "It beats the rules." in result.stdout
    assert (tmp_path / "house.model").exists() and not (tmp_path / "social-care.db").exists()


def test_learn_maps_label_names_and_names_those_it_cannot(tmp_path: Path) -> None:
    rows = [
        dict(row, label={"complaint": "negative", "praise": "positive", "other": "meh"}[row["label"]])
        for row in house_examples(45)
    ]
    labels = write_jsonl(tmp_path / "labels.jsonl", rows)
    refused = social_care(
        "learn", "--labels", str(labels), "--out", "m", "--map", "negative=complaint", cwd=tmp_path
    )
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "label names with no category: 'meh' (lines 3, 6, 9" in refused.stderr
    assert "'positive' (lines 2, 5" in refused.stderr and "--map meh=other" in refused.stderr
    mapped = social_care(
        "learn",
        "--labels",
        str(labels),
        "--out",
        "m",
        "--map",
        "negative=complaint,positive=praise",
        "--map",
        "meh=other",
        cwd=tmp_path,
    )
    assert mapped.returncode == 0, mapped.stderr


def test_learn_wants_labels_and_out_together(tmp_path: Path) -> None:
    result = social_care("learn", "--out", "m", cwd=tmp_path)
    assert result.returncode == 2 and "--labels and --out go together" in result.stderr


def test_classify_with_a_model_file_streams_its_verdicts_and_reasons(tmp_path: Path) -> None:
    model, _ = learn(reads_of(house_examples(60)), folds=3)
    model.save(tmp_path / "house.model")
    posts = "".join(
        json.dumps(post) + "\n"
        for post in (
            {"id": "1", "text": "my kettle is gloppy", "lang": "en"},
            {"id": "2", "text": "il bollitore è fiammeggiante", "lang": "it"},
        )
    )
    result = social_care("classify", "--model", "house.model", cwd=tmp_path, stdin=posts)
    assert result.returncode == 0, result.stderr
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert (first["category"], first["decided_by"], second["category"]) == (
        "complaint",
        "house.model",
        "praise",
    )
    assert any(reason.startswith("learned: 'gloppy' +") for reason in first["reasons"])
    assert 0.5 < first["confidence"] <= 1.0


def test_classify_refuses_a_file_that_is_not_a_model(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "labels.jsonl", house_examples(3))
    result = social_care(
        "classify", "--model", "labels.jsonl", cwd=tmp_path, stdin='{"id": "1", "text": "x"}\n'
    )
    assert result.returncode == 2 and "not a social-care triage model" in result.stderr
    assert "Traceback" not in result.stderr
