"""Rendering an inbox page: every page gets the CSRF token and who is signed in."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from social_care.web.security import csrf_token


def render(request: Request, name: str, status_code: int = 200, **values: object) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.templates
    values.setdefault("employee", None)
    return templates.TemplateResponse(
        request, name, {"csrf": csrf_token(request), **values}, status_code=status_code
    )
