"""Sign-in credentials: the first admin's generated password, and who counts as able to sign in."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from social_care.config import Config
from social_care.users import FirstSignIn, first_admin_password, set_employee_password
from tests.support.configs import Raw, demo_config

FIRST_ADMIN = "admin@velora.example"
NEXT_ADMIN = "chiara.conti@velora.example"


def test_the_first_admin_gets_a_password_once(config: Config, engine: Engine) -> None:
    first = first_admin_password(config, engine)
    assert first is not None and first.admin == FIRST_ADMIN and first.password
    assert first_admin_password(config, engine) == FirstSignIn(FIRST_ADMIN, ready=True)


def test_a_process_that_cannot_show_a_password_makes_none(config: Config, engine: Engine) -> None:
    assert first_admin_password(config, engine, generate=False) == FirstSignIn(FIRST_ADMIN, ready=False)
    shown = first_admin_password(config, engine)
    assert shown is not None and shown.password, "the first admin still gets one where it can be shown"


def test_a_removed_persons_password_does_not_count_as_sign_in_being_set_up(
    config: Config, engine: Engine, tmp_path: Path
) -> None:
    set_employee_password(config, engine, FIRST_ADMIN, "an old password")

    def hand_over(raw: Raw) -> None:
        raw["employees"] = [person for person in raw["employees"] if person["email"] != FIRST_ADMIN]
        next(person for person in raw["employees"] if person["email"] == NEXT_ADMIN)["role"] = "admin"

    first = first_admin_password(demo_config(tmp_path, change=hand_over), engine)
    assert first is not None and first.admin == NEXT_ADMIN and first.password
