"""Responders act on cases: the acknowledger and the outbox sender."""
