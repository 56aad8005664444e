"""Service figures over a period, computed from case events alone.

Every figure is traceable to events a person can read in a case's history; the
SLA figures use the due time each event was measured against when it happened.
"""

from social_care.metrics.measure import Filters, Period, Report, SlaAttainment, measure, measure_by
from social_care.metrics.summary import Durations

__all__ = ["Durations", "Filters", "Period", "Report", "SlaAttainment", "measure", "measure_by"]
