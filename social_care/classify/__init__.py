"""Classification: what a post is (complaint, inquiry, praise, other) and why.

:class:`~social_care.classify.rules.RuleClassifier` is the engine; its cues
live in editable per-language data files in ``lexicons/``.
"""

from social_care.classify.rules import RuleClassifier, Verdict

__all__ = ["RuleClassifier", "Verdict"]
