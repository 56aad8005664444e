"""The cross-validation figures as a person reads them before trusting a model."""

from __future__ import annotations

from social_care.learning.training import Evaluation


def evaluation_lines(evaluation: Evaluation, *, labels: int) -> list[str]:
    """Per category, the model's and the rules' precision, recall and F1 on the same folds."""
    lines = [
        f"{evaluation.folds}-fold cross-validation on {labels:,} labels: the model (rules + learned) "
        "against the rules alone, on the same posts",
        "",
        f"{'category':<10} {'support':>7}  {'model P':>7} {'R':>5} {'F1':>5}   "
        f"{'rules P':>7} {'R':>5} {'F1':>5}",
    ]
    for category in evaluation.categories:
        mp, mr, mf, support = evaluation.model.per_category[category]
        rp, rr, rf, _ = evaluation.rules.per_category[category]
        model, rules = f"{mp:>7.3f} {mr:>5.3f} {mf:>5.3f}", f"{rp:>7.3f} {rr:>5.3f} {rf:>5.3f}"
        lines.append(f"{category:<10} {support:>7,}  {model}   {rules}")
    lines += [
        f"{'macro F1':<10} {'':>7}  {'':>7} {'':>5} {evaluation.model.macro_f1:>5.3f}   "
        f"{'':>7} {'':>5} {evaluation.rules.macro_f1:>5.3f}",
        "",
        f"The model is better on {evaluation.folds_won} of {evaluation.folds} folds; "
        f"calibration error {evaluation.calibration_error:.3f} (the rules' confidence: "
        f"{evaluation.rules_calibration_error:.3f}).",
        "It beats the rules." if evaluation.wins else "It does not beat the rules: it may not become active.",
    ]
    return lines
