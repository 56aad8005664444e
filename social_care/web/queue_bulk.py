"""Acting on many cases at once from the queue: take, assign, recategorise, reprioritise, mark spam
or ignored, resolve without a reply (supervisors), and undo a dismissal.

Each case is done on its own, in its own transaction, exactly as from its page: in
the person's scope, allowed, and unchanged since the queue showed it (each row
carries its latest change). What could not be done is listed with why; the rest
goes through. Spam, ignore and resolve ask for confirmation first, and a dismissal
can be undone from the notice that follows it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from social_care import lifecycle
from social_care.case_changes import latest_change
from social_care.case_states import CLOSED_STATES, DISMISSALS, OPEN_STATES
from social_care.corrections import Triage, correct
from social_care.metrics import rollups
from social_care.queue_views import QueueQuery
from social_care.scope import is_supervisor, may_act, may_take
from social_care.sla.sweeper import refresh_clocks
from social_care.storage.tables import Case, Employee
from social_care.web.case_access import Stale, acting_case
from social_care.web.case_view import teammates
from social_care.web.rendering import render
from social_care.web.security import CsrfChecked, CurrentAgent, DatabaseSession

router = APIRouter()
MAX_CASES = 200
# What may be done to many cases at once ("category" and "priority" take the new value, "assign" whom).
ACTIONS = ("take", "assign", "category", "priority", "spam", "ignored", "resolve", "reopen")
CONFIRM = frozenset({"spam", "ignored", "resolve"})
_SELECTED = re.compile(r"^(\d{1,12}):(\d{1,18})$")


@dataclass(frozen=True)
class Refusal:
    """One case a bulk action left as it was, and why (with what changed, when that is why)."""

    case_id: int
    reason: str
    changes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        if self.changes:
            return f"SC-{self.case_id:06d} changed meanwhile ({'; '.join(self.changes)})"
        return f"SC-{self.case_id:06d}: {self.reason}"


@dataclass
class Outcome:
    done: list[int] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)


class NotDone(Exception):
    """Why one case of a bulk action was left as it was."""


Act = Callable[[Session, Case, Employee], None]
Allowed = Callable[..., bool]


def _selected(values: list[str]) -> list[tuple[int, int]]:
    """The ``case:latest change`` pairs the queue's checkboxes send, malformed ones left out."""
    pairs = [
        (int(found.group(1)), int(found.group(2))) for value in values if (found := _SELECTED.match(value))
    ]
    return list(dict(pairs).items())[:MAX_CASES]


def bulk_action(request: Request, employee: Employee, action: str, value: str) -> tuple[Act, Allowed, str]:
    """What to do to each case, who may, and the words for it; an HTTP 422 for an action not in
    :data:`ACTIONS`."""
    state = request.app.state
    now = state.clock()

    def take(session: Session, case: Case, person: Employee) -> None:
        _open_only(case)
        state.handoff.assign_to(session, case, person, by=person, now=now)

    def assign(session: Session, case: Case, person: Employee) -> None:
        _open_only(case)
        mates = {mate.id for mate in teammates(session, state.config, case, now)}
        if not value.isdigit() or int(value) not in mates:
            raise NotDone("the person chosen cannot take it now (another team, away, off shift)")
        state.handoff.assign_to(session, case, session.get_one(Employee, int(value)), by=person, now=now)

    def recategorise(session: Session, case: Case, person: Employee) -> None:
        _open_only(case)
        triage = Triage.of(case)
        changed = Triage(
            value if action == "category" else triage.category,
            triage.cluster,
            value if action == "priority" else triage.priority,
            triage.product,
            triage.team,
        )
        correct(session, state.config, case, changed, employee=person, at=now, handoff=state.handoff)

    def dismiss(session: Session, case: Case, person: Employee) -> None:
        _open_only(case)
        lifecycle.dismiss(session, case, action, now, employee_id=person.id or 0)

    def resolve(session: Session, case: Case, person: Employee) -> None:
        _open_only(case)
        lifecycle.resolve(session, case, now, employee_id=person.id)

    def reopen(session: Session, case: Case, person: Employee) -> None:
        lifecycle.reopen(session, case, now, employee_id=person.id or 0, reason=value[:200])
        refresh_clocks(session, state.config, case)

    actions: dict[str, tuple[Act, Allowed, str]] = {
        "take": (take, may_take, "taken"),
        "assign": (assign, may_act, "assigned"),
        "category": (recategorise, may_act, f"now {value}"),
        "priority": (recategorise, may_act, f"now {value} priority"),
        "spam": (dismiss, may_act, "marked spam"),
        "ignored": (dismiss, may_act, "ignored"),
        "resolve": (resolve, _supervising, "resolved"),
        "reopen": (reopen, may_act, "reopened"),
    }
    if action not in actions:
        raise HTTPException(status_code=422, detail="Choose what to do with the selected cases.")
    return actions[action]


def _supervising(config: object, employee: Employee, case: Case) -> bool:
    return is_supervisor(employee) and may_act(config, employee, case)  # type: ignore[arg-type]


def _open_only(case: Case) -> None:
    if case.status in CLOSED_STATES:
        raise NotDone(f"it is {case.status}")


def run_bulk(
    request: Request,
    session: Session,
    employee: Employee,
    selected: list[tuple[int, int]],
    *,
    act: Act,
    allowed: Allowed,
) -> Outcome:
    """Do ``act`` to each selected ``(case, latest change seen)`` on its own, exactly as from its page;
    what could not be done is refused with why, the rest goes through.

    Each case is a savepoint of one transaction: a refusal undoes that case alone, and the
    rollups of all the cases done are brought up to date once, at the commit.
    """
    outcome = Outcome()
    for case_id, seen in selected:
        step = session.begin_nested()
        try:
            case = acting_case(request, session, employee, case_id, seen, allowed=allowed)
            act(session, case, employee)
            session.flush()
            step.commit()
            outcome.done.append(case_id)
        except (NotDone, lifecycle.Refused) as why:
            step.rollback()
            outcome.refused.append(Refusal(case_id, str(why)))
        except Stale as stale:
            step.rollback()
            outcome.refused.append(Refusal(case_id, "changed meanwhile", stale.changes))
        except HTTPException as refused:
            step.rollback()
            reason = (
                "not in your scope"
                if refused.status_code == status.HTTP_404_NOT_FOUND
                else "not yours to act on"
            )
            outcome.refused.append(Refusal(case_id, reason))
    rollups.note_events(
        session, [(case_id, "bulk") for case_id in outcome.done]
    )  # whatever a rollback forgot
    session.commit()
    return outcome


def _back(back: str) -> str:
    query = QueueQuery.from_params(dict(parse_qsl(back)))
    return "/queue?" + urlencode(query.params(after=""))


@router.post("/queue/bulk", dependencies=[CsrfChecked], response_model=None)
def bulk(
    *,
    request: Request,
    employee: CurrentAgent,
    session: DatabaseSession,
    action: Annotated[str, Form()] = "",
    value: Annotated[str, Form()] = "",
    cases: Annotated[list[str] | None, Form()] = None,
    confirmed: Annotated[bool, Form()] = False,
    back: Annotated[str, Form()] = "",
) -> Response:
    if ":" in action:  # the queue's one menu: "assign:12", "category:praise", "priority:urgent"
        action, value = action.split(":", 1)
    selected = _selected(cases or [])
    if not selected:
        request.session["queue_notices"] = ["Select at least one case first."]
        return RedirectResponse(_back(back), status_code=303)
    act, allowed, words = bulk_action(request, employee, action, value)
    if action in CONFIRM and not confirmed:
        return _confirmation(
            request, session, employee, action=action, value=value, selected=selected, back=back
        )
    outcome = run_bulk(request, session, employee, selected, act=act, allowed=allowed)
    notices = (
        [f"{len(outcome.done)} case{'s' if len(outcome.done) != 1 else ''} {words}."] if outcome.done else []
    )
    if outcome.refused:
        notices.append("Not done: " + "; ".join(str(refusal) for refusal in outcome.refused))
    request.session["queue_notices"] = notices
    if action in DISMISSALS and outcome.done:
        request.session["queue_undo"] = [
            f"{case_id}:{latest_change(session, case_id)}" for case_id in outcome.done
        ]
    return RedirectResponse(_back(back), status_code=303)


def _confirmation(
    request: Request,
    session: Session,
    employee: Employee,
    *,
    action: str,
    value: str,
    selected: list[tuple[int, int]],
    back: str,
) -> HTMLResponse:
    """The second step of spam, ignore and resolve: which cases, and a button that says so."""
    references = [case.reference for case_id, _ in selected if (case := session.get(Case, case_id))]
    open_ones = sum(
        1 for case_id, _ in selected if (case := session.get(Case, case_id)) and case.status in OPEN_STATES
    )
    return render(
        request,
        "queue_confirm.html",
        employee=employee,
        action=action,
        value=value,
        selected=[f"{case_id}:{seen}" for case_id, seen in selected],
        references=references,
        open_ones=open_ones,
        back=back,
    )
