"""No dependency range in ``pyproject.toml`` lets in a release with a known security advisory."""

from __future__ import annotations

import importlib.metadata
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]

# The last release before the newest fix of an advisory that concerns how we use the package.
LAST_AFFECTED = {
    "jinja2": "3.1.5",  # sandbox escapes: CVE-2024-56201, CVE-2024-56326 (3.1.5), CVE-2025-27516 (3.1.6)
    # Range DoS (0.49.1), Host header (1.0.1), request path (1.3.0), urlencoded form limits (1.3.1)
    "starlette": "1.3.0",
    # boundary DoS (0.0.18), part headers (0.0.27), querystrings (0.0.30), negative Content-Length (0.0.31),
    # Content-Disposition extended-parameter smuggling (PYSEC-2026-3041, in 0.0.32 at the latest)
    "python-multipart": "0.0.31",
    "h11": "0.15.0",  # request smuggling through chunked bodies: CVE-2025-43859 (0.16.0)
    "requests": "2.32.5",  # .netrc leak CVE-2024-47081 (2.32.4), temp file reuse CVE-2026-25645 (2.33.0)
    "urllib3": "2.6.2",  # decompression bombs: CVE-2025-66418, CVE-2025-66471 (2.6.0), CVE-2026-21441 (2.6.3)
    "aiosmtpd": "1.4.5",  # SMTP smuggling: CVE-2024-27305, CVE-2024-34083 (1.4.6)
    "cryptography": "49.0.99",  # PKCS#7 Bleichenbacher oracle: CVE-2026-69247 (50.0.0)
}


def declared() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lines = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    return {(requirement := Requirement(line)).name.lower(): requirement for line in lines}


def test_every_range_starts_past_the_last_release_with_a_known_advisory() -> None:
    requirements = declared()
    admitted = {
        name: last
        for name, last in LAST_AFFECTED.items()
        if name not in requirements or requirements[name].specifier.contains(last, prereleases=True)
    }
    assert admitted == {}, "declared, or floored past the advisory"


def test_the_installed_versions_are_inside_the_ranges() -> None:
    outside = {
        name: version
        for name, requirement in declared().items()
        if not requirement.specifier.contains(version := importlib.metadata.version(name), prereleases=True)
    }
    assert outside == {}
