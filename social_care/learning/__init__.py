"""Triage that learns: people's labels train a linear model on top of the rules.

The rules decide on day one and explain themselves; a model trained on a
deployment's own labels (corrections in the inbox, imported examples) reads the
same words and the rules' cues, runs first in shadow, and decides the category
only once it has beaten the rules on the same folds. The model is data in the
database (versioned, never code), so every worker uses the same one.
"""
