"""One configuration problem, said so that a person can fix it without reading code."""

from __future__ import annotations

from dataclasses import dataclass
from types import UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from rapidfuzz import process

_EXPECTED = {
    "int_parsing": "a whole number",
    "int_type": "a whole number",
    "float_parsing": "a number",
    "float_type": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "list_type": "a list",
    "dict_type": "a table",
    "model_type": "a table",
    "missing": "a value (this key is required)",
    "time_type": "a time such as 09:00",
    "time_parsing": "a time such as 09:00",
    "date_type": "a date such as 2026-12-25",
    "date_from_datetime_parsing": "a date such as 2026-12-25",
}


@dataclass(frozen=True)
class Problem:
    file: str
    key: str
    expected: str
    found: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.key}" if self.key else self.file
        return f"{where}: expected {self.expected}, found {self.found}"


def key_path(location: tuple[str | int, ...]) -> str:
    """``("sources", 1, "watch")`` -> ``sources[1].watch``."""
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def problems_from_validation(
    error: ValidationError, *, file: str, model: type[BaseModel], prefix: tuple[str | int, ...] = ()
) -> list[Problem]:
    problems = []
    for detail in error.errors(include_url=False):
        location = tuple(part for part in detail["loc"] if not _is_union_tag(part))
        key = key_path(prefix + location)
        if detail["type"] == "extra_forbidden":
            allowed = _allowed_keys(model, location[:-1])
            problems.append(Problem(file, key, _one_of(str(location[-1]), allowed), "an unknown key"))
            continue
        expected = _EXPECTED.get(detail["type"]) or _expected_from_message(detail["msg"])
        found = "nothing" if detail["type"] == "missing" else _found(detail["msg"], detail.get("input"))
        problems.append(Problem(file, key, expected, found))
    return problems


def _is_union_tag(part: str | int) -> bool:
    return isinstance(part, str) and ("[" in part or part in {"function-after"})


def _expected_from_message(message: str) -> str:
    message = message.removeprefix("Value error, ")
    if ", found " in message:
        return message.split(", found ")[0]
    lowered = message[0].lower() + message[1:]
    return lowered.removeprefix("input should be ").removeprefix("input ")


def _found(message: str, value: object) -> str:
    """What was found: as the validator put it when it did (a whole section's check), else the value."""
    return message.split(", found ", 1)[1] if ", found " in message else repr(value)


def _one_of(key: str, allowed: list[str]) -> str:
    guess = process.extractOne(key, allowed, score_cutoff=70) if allowed else None
    hint = f" (did you mean '{guess[0]}'?)" if guess else ""
    return f"one of {', '.join(allowed)}{hint}"


def _allowed_keys(model: type[BaseModel], location: tuple[str | int, ...]) -> list[str]:
    current: type[BaseModel] | None = model
    for part in location:
        if current is None:
            return []
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part)
        current = _model_in(field.annotation) if field else None
    return sorted(current.model_fields) if current else []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (list, Union, UnionType) or get_origin(annotation) is not None:
        for argument in get_args(annotation):
            found = _model_in(argument)
            if found:
                return found
    return None
