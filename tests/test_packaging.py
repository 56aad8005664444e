"""``pip install .`` gives a package that finds its own templates and example configuration."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_carries_templates_config_and_migrations_and_they_are_found(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    [wheel] = tmp_path.glob("social_care-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for expected in (
        "social_care/_bundled/config/social-care.example.toml",
        "social_care/_bundled/config/demo/posts.jsonl",
        "social_care/_bundled/templates/replies/acknowledgement.complaint.it.txt",
        "social_care/_bundled/templates/web/queue.html",
        "social_care/migrations/versions/0001_initial_schema.py",
        "social_care/classify/lexicons/it.toml",
        "connectors/demo.py",
        "responders/outbox.py",
    ):
        assert expected in names
    installed = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(installed), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    probe = (
        "from social_care.resources import example_config, bundled; from social_care.cli import app; "
        "print(example_config()); print(bundled('templates')); app(['check-config'])"
    )
    environ = {**os.environ, "PYTHONPATH": str(installed)}
    environ.pop("SOCIAL_CARE_CONFIG", None)
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    config_path, templates_path = result.stdout.splitlines()[:2]
    assert config_path.startswith(str(installed)) and templates_path.startswith(str(installed))
    assert "valid" in result.stdout
