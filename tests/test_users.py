"""Sign-in credentials: the first admin's generated password, and who counts as able to sign in."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from social_care.config import Config
from social_care.users import first_admin_password, set_employee_password
from tests.support.configs import Raw, demo_config

FIRST_ADMIN = "admin@velora.example"
NEXT_ADMIN = "chiara.conti@velora.example"


def test_the_first_admin_gets_a_password_once(config: Config, engine: Engine) -> None:
    email, password = first_admin_password(config, engine) or ("", None)
    assert email == FIRST_ADMIN and password
    assert first_admin_password(config, engine) == (FIRST_ADMIN, None)


def test_a_removed_persons_password_does_not_count_as_sign_in_being_set_up(
    config: Config, engine: Engine, tmp_path: Path
) -> None:
    set_employee_password(config, engine, FIRST_ADMIN, "an old password")

    def hand_over(raw: Raw) -> None:
        raw["employees"] = [person for person in raw["employees"] if person["email"] != FIRST_ADMIN]
        next(person for person in raw["employees"] if person["email"] == NEXT_ADMIN)["role"] = "admin"

    email, password = first_admin_password(demo_config(tmp_path, change=hand_over), engine) or ("", None)
    assert email == NEXT_ADMIN and password
