"""The public survey page a customer reaches from the resolution reply: no login, CSRF-protected."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from social_care import csat
from social_care.storage.tables import Case
from social_care.web.rendering import render
from social_care.web.security import CsrfChecked, DatabaseSession

router = APIRouter()


def _language(case: Case | None) -> str:
    return "it" if case is not None and case.language == "it" else "en"


def _case_id(request: Request, token: str) -> tuple[int | None, str]:
    """The case of a valid token, else ``None`` and why."""
    state = request.app.state
    try:
        return csat.case_of(state.config, state.secret_key, token, state.clock()), ""
    except csat.InvalidSurvey as problem:
        return None, problem.reason


@router.get("/csat/{token}", response_class=HTMLResponse)
def survey(request: Request, session: DatabaseSession, token: str) -> HTMLResponse:
    case_id, problem = _case_id(request, token)
    case = session.get(Case, case_id) if case_id else None
    if case is None:
        return render(request, "csat.html", status_code=400, state=problem or "invalid", lang="en")
    state = "answered" if csat.answered(session, case.id or 0) else "ask"
    return render(request, "csat.html", state=state, lang=_language(case), token=token, scores=csat.SCORES)


@router.post("/csat/{token}", response_class=HTMLResponse, dependencies=[CsrfChecked])
def answer(
    request: Request, session: DatabaseSession, token: str, score: Annotated[str, Form()] = ""
) -> HTMLResponse:
    """Store the customer's score; anything but a whole number from 1 to 5 asks again, in their language."""
    case_id, problem = _case_id(request, token)
    case = session.get(Case, case_id) if case_id else None
    if case is None:
        return render(request, "csat.html", status_code=400, state=problem or "invalid", lang="en")
    lang = _language(case)
    value = int(score) if score.strip() in {str(allowed) for allowed in csat.SCORES} else 0
    if value not in csat.SCORES:
        return render(
            request, "csat.html", status_code=422, state="ask", lang=lang, token=token, scores=csat.SCORES
        )
    stored = csat.record_answer(session, case.id or 0, value, request.app.state.clock())
    return render(
        request,
        "csat.html",
        status_code=200 if stored else 409,
        state="thanks" if stored else "answered",
        lang=lang,
    )
