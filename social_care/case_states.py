"""The states of a case, named once: which are open (in the backlog) and which closed."""

from __future__ import annotations

OPEN_STATES = ("new", "acknowledged", "assigned", "responded")
DISMISSALS = ("spam", "ignored")
CLOSED_STATES = ("resolved", *DISMISSALS)
