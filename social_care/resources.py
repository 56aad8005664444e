"""Where the bundled templates and configuration live, installed or in a checkout.

A wheel carries ``templates/`` and ``config/`` inside the package (see
``pyproject.toml``); a source checkout has them at the repository's root.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def bundled(name: str) -> Path:
    """The bundled folder ``name`` (``"templates"`` or ``"config"``)."""
    for candidate in (_PACKAGE / "_bundled" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"the bundled {name!r} folder is missing from this installation")


def example_config() -> Path:
    return bundled("config") / "social-care.example.toml"
