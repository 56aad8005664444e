"""The configuration file: validated on load, every problem reported at once."""

from __future__ import annotations

import re
import socket
import textwrap
from datetime import time
from pathlib import Path

import pytest

from social_care.config import ConfigError, config_warnings, load_config
from social_care.config.secrets import MissingSecret, read_secret
from social_care.config.warnings import plausible_account_name
from social_care.resources import example_config

BROKEN = textwrap.dedent(
    """
    [[brands]]
    name = "Velora"

    [[sources]]
    id = "demo"
    platform = "demo"
    brand = "Velora"
    poll_interval_seconds = "often"
    colour = "blue"
    credentials = { token = "MISSING_TOKEN_FOR_TEST" }

    [smtp]
    password_env = "SOCIAL_CARE_TEST_SMTP_PASSWORD"

    [[teams]]
    name = "care"

    [[routing]]
    name = "all"
    team = "nobody"
    """
)


def problems_of(path: Path, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load_config(path, environ or {})
    return [str(problem) for problem in raised.value.problems]


def test_the_example_configuration_is_valid_without_any_secret() -> None:
    config = load_config(example_config(), {})
    assert [source.id for source in config.sources if source.enabled] == ["demo"]


def test_a_broken_file_reports_every_problem_with_file_key_expected_and_found(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(BROKEN, encoding="utf-8")
    problems = problems_of(path)
    assert any(
        f"{path}: sources[0].poll_interval_seconds: expected a whole number, found 'often'" in p
        for p in problems
    )
    assert any("sources[0].colour: expected one of" in p and "found an unknown key" in p for p in problems)
    assert any(
        "smtp.password_env" in p
        and "SOCIAL_CARE_TEST_SMTP_PASSWORD (or SOCIAL_CARE_TEST_SMTP_PASSWORD_FILE) is not set" in p
        for p in problems
    )
    assert any(
        "routing[0].team: expected the name of one of the teams (care), found 'nobody'" in p for p in problems
    )


def test_an_unknown_key_suggests_the_closest_known_one(tmp_path: Path) -> None:
    path = tmp_path / "typo.toml"
    path.write_text(BROKEN.replace('colour = "blue"', "pol_interval_seconds = 5"), encoding="utf-8")
    assert any("did you mean 'poll_interval_seconds'?" in p for p in problems_of(path))


def test_a_bad_time_zone_is_named(tmp_path: Path) -> None:
    path = tmp_path / "zone.toml"
    text = (
        example_config()
        .read_text(encoding="utf-8")
        .replace('timezone = "Europe/Rome"', 'timezone = "Mars/Olympus"', 1)
    )
    path.write_text(text, encoding="utf-8")
    assert problems_of(path) == [
        f"{path}: service.timezone: expected an IANA time zone such as 'Europe/Rome', found 'Mars/Olympus'"
    ]


def test_invalid_toml_says_where(tmp_path: Path) -> None:
    path = tmp_path / "syntax.toml"
    path.write_text("[service\n", encoding="utf-8")
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}: expected valid TOML, found") and "line 1" in problem


def test_a_file_that_is_not_utf8_is_a_problem_naming_where(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('[service]\ntimezone = "Europe/Zürich"\n'.encode("latin-1"))
    assert problems_of(path) == [
        f"{path}: expected UTF-8 text (TOML files are UTF-8), found byte 0xfc at line 2, column 21, "
        "which is not UTF-8"
    ]


def test_toml_nested_too_deeply_to_read_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "deep.toml"
    path.write_text("a = " + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    assert problems_of(path) == [
        f"{path}: expected valid TOML, found arrays or tables nested too deeply to read"
    ]


def test_a_missing_file_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    assert problems_of(tmp_path / "nowhere.toml") == [
        f"{tmp_path / 'nowhere.toml'}: expected a configuration file, found no such file"
    ]


def test_a_trusted_proxy_must_be_an_address_or_a_network(tmp_path: Path) -> None:
    path = tmp_path / "proxies.toml"
    example = example_config().read_text(encoding="utf-8")
    path.write_text(
        example.replace("trusted_proxies = []", 'trusted_proxies = ["10.0.0.5", "10.0.1.0/24", "proxy.lan"]'),
        encoding="utf-8",
    )
    [problem] = problems_of(path)
    assert problem == (
        f"{path}: service.trusted_proxies[2]: expected an IP address or network such as '10.0.0.5' or "
        "'10.0.0.0/24', found 'proxy.lan'"
    )


def test_an_api_address_is_https_or_http_to_this_machine_only(tmp_path: Path) -> None:
    path = tmp_path / "addresses.toml"
    example = example_config().read_text(encoding="utf-8")
    lines = example.splitlines(keepends=True)
    x_source, reddit_source = (lines.index(f'id = "{name}"\n') for name in ("x-velora", "reddit"))
    addresses = iter(["http://api.x.example", "https://proxy.example/reddit"])
    for index, line in enumerate(lines):
        if line == 'api_base_url = ""\n' and index > x_source:
            lines[index] = f'api_base_url = "{next(addresses, "http://127.0.0.1:8080")}"\n'
        if line == '  auth_url = ""\n' and index > reddit_source:
            lines[index] = '  auth_url = "http://auth.example"\n'
    path.write_text("".join(lines), encoding="utf-8")
    expected = "expected an https:// address (http:// only for this machine: localhost, 127.0.0.1, ::1)"
    assert problems_of(path) == [
        f"{path}: sources[1].api_base_url: {expected}, found 'http://api.x.example'",
        f"{path}: sources[2].options.auth_url: {expected}, found 'http://auth.example'",
    ]


def test_production_refuses_to_run_without_a_secret_key(tmp_path: Path) -> None:
    path = tmp_path / "prod.toml"
    text = (
        example_config()
        .read_text(encoding="utf-8")
        .replace('environment = "development"', 'environment = "production"')
    )
    path.write_text(text, encoding="utf-8")
    assert any("service.secret_key_env" in p and "SOCIAL_CARE_SECRET_KEY" in p for p in problems_of(path))
    path.write_text(text.replace("http://127.0.0.1:8000", "https://care.velora.example"), encoding="utf-8")
    assert load_config(path, {"SOCIAL_CARE_SECRET_KEY": "k" * 40}).service.environment == "production"


def test_production_refuses_a_public_address_without_https(tmp_path: Path) -> None:
    """The session cookie is Secure only behind https, and survey links must not point at a loopback."""
    path = tmp_path / "prod.toml"
    text = (
        example_config()
        .read_text(encoding="utf-8")
        .replace('environment = "development"', 'environment = "production"')
    )
    path.write_text(text, encoding="utf-8")
    [problem] = problems_of(path, {"SOCIAL_CARE_SECRET_KEY": "k" * 40})
    assert "service.public_url" in problem and "https://" in problem and "http://127.0.0.1:8000" in problem


def test_production_refuses_a_secret_key_short_enough_to_guess_without_showing_it(tmp_path: Path) -> None:
    path = tmp_path / "prod.toml"
    text = (
        example_config()
        .read_text(encoding="utf-8")
        .replace('environment = "development"', 'environment = "production"')
    )
    path.write_text(text.replace("http://127.0.0.1:8000", "https://care.velora.example"), encoding="utf-8")
    [problem] = problems_of(path, {"SOCIAL_CARE_SECRET_KEY": "changeme"})
    assert "service.secret_key_env" in problem and "at least 32 characters" in problem
    assert "found 8 characters" in problem and "changeme" not in problem


def test_connector_options_are_checked_by_the_connector(tmp_path: Path) -> None:
    path = tmp_path / "options.toml"
    text = (
        example_config().read_text(encoding="utf-8").replace("per_minute = 4.0", "per_minute = -1\nspeed = 3")
    )
    path.write_text(text, encoding="utf-8")
    problems = problems_of(path)
    assert any("sources[0].options.per_minute: expected greater than 0, found -1" in p for p in problems)
    assert any("sources[0].options.speed" in p and "unknown key" in p for p in problems)


def test_a_secret_comes_from_the_environment_or_a_file(tmp_path: Path) -> None:
    assert read_secret("TOKEN", {"TOKEN": "abc"}).get_secret_value() == "abc"
    secret_file = tmp_path / "token"
    secret_file.write_text("from-file\n", encoding="utf-8")
    assert read_secret("TOKEN", {"TOKEN_FILE": str(secret_file)}).get_secret_value() == "from-file"
    with pytest.raises(MissingSecret, match=r"TOKEN_FILE names .* which cannot be read"):
        read_secret("TOKEN", {"TOKEN_FILE": str(tmp_path / "absent")})


def test_a_secret_never_shows_in_its_representation() -> None:
    secret = read_secret("TOKEN", {"TOKEN": "hunter2-very-secret"})
    assert "hunter2" not in repr(secret) and "hunter2" not in str(secret)


def test_every_setting_is_documented_in_the_example(tmp_path: Path) -> None:
    """Each key of every section model appears in the shipped example file."""
    from pydantic import BaseModel

    from social_care.config.models import Config
    from social_care.config.problems import _model_in

    text = example_config().read_text(encoding="utf-8")
    missing = []

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, field in model.model_fields.items():
            if (
                f"{name} =" not in text
                and f"[{prefix}{name}]" not in text
                and f"[[{prefix}{name}]]" not in text
            ):
                missing.append(prefix + name)
            inner = _model_in(field.annotation)
            if inner is not None:
                walk(inner, f"{prefix}{name}.")

    walk(Config, "")
    assert missing == []


def test_alert_and_survey_settings_out_of_range_are_reported_with_their_keys(tmp_path: Path) -> None:
    text = example_config().read_text(encoding="utf-8")
    for setting, wrong in (("warn_at_fraction = 0.8", "1.5"), ("link_valid_days = 14", "0")):
        assert setting in text
        text = text.replace(setting, f"{setting.split(' = ')[0]} = {wrong}")
    path = tmp_path / "social-care.toml"
    path.write_text(text, "utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(path, environ={})
    assert [str(problem) for problem in error.value.problems] == [
        f"{path}: sla_alerts.warn_at_fraction: expected less than 1, found 1.5",
        f"{path}: csat.link_valid_days: expected greater than or equal to 1, found 0",
    ]


def test_two_entries_under_one_name_are_reported_where_the_second_stands(tmp_path: Path) -> None:
    path = tmp_path / "twins.toml"
    twin_source = '\n[[sources]]\nid = "demo"\nplatform = "demo"\nbrand = "Velora"\n'
    twin_person = '\n[[employees]]\nemail = "CHIARA.CONTI@velora.example"\nname = "Chiara again"\n'
    text = example_config().read_text(encoding="utf-8")
    path.write_text(text + twin_source + twin_person, encoding="utf-8")
    sources = text.count("[[sources]]")
    employees = text.count("[[employees]]")
    problems = problems_of(path)
    assert any(
        p.startswith(f"{path}: sources[{sources}].id: expected a unique id (sources[0] has it")
        and p.endswith("found 'demo'")
        for p in problems
    ), problems
    assert any(
        p.startswith(f"{path}: employees[{employees}].email: expected a unique email") for p in problems
    )


def test_a_watch_list_the_platform_does_not_read_is_refused_not_ignored(tmp_path: Path) -> None:
    path = tmp_path / "lists.toml"
    text = example_config().read_text(encoding="utf-8")
    path.write_text(text.replace("queries = []", 'queries = ["velora lang:it"]', 1), encoding="utf-8")
    [problem] = problems_of(path)
    assert problem == (
        f"{path}: sources[0].watch.queries: expected no queries on a demo source, which reads none of them,"
        " found ['velora lang:it']"
    )


# Warnings: valid settings that will not do what the person who wrote them expects.

MINIMAL_X = textwrap.dedent(
    """
    [[brands]]
    name = "Acme"

    [[sources]]
    id = "x-main"
    platform = "x"
    brand = "Acme"
    account = "@acme"

      [sources.credentials]
      bearer_token = "X_BEARER_TOKEN"
      consumer_key = "X_CONSUMER_KEY"
      consumer_secret = "X_CONSUMER_SECRET"
      access_token = "X_ACCESS_TOKEN"
      access_token_secret = "X_ACCESS_TOKEN_SECRET"

    [smtp]
    enabled = false
    """
)
X_SECRETS = {name: "set" for name in re.findall(r'"(X_[A-Z_]+)"', MINIMAL_X)}


def minimal_x(*source_lines: str) -> str:
    """An X source as a newcomer writes it (only what is required, mail off), plus ``source_lines``."""
    return MINIMAL_X.replace(
        'account = "@acme"\n', 'account = "@acme"\n' + "".join(f"{line}\n" for line in source_lines)
    )


def warnings_of(path: Path, text: str, environ: dict[str, str] | None = None) -> list[str]:
    path.write_text(text, encoding="utf-8")
    config = load_config(path, X_SECRETS if environ is None else environ)
    return [str(warning) for warning in config_warnings(config, file=str(path))]


def with_mail_server(text: str, port: int) -> str:
    return text.replace("enabled = false\n", f'enabled = true\nhost = "127.0.0.1"\nport = {port}\n')


def free_port() -> int:
    """A loopback port nothing listens on (it was free a moment ago and nobody here takes it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_the_example_configuration_has_no_warnings() -> None:
    assert config_warnings(load_config(example_config(), {}), file="example") == []


def test_a_minimal_x_source_is_warned_that_it_never_replies_and_told_how_to_turn_it_on(
    tmp_path: Path,
) -> None:
    path = tmp_path / "x.toml"
    [warning] = warnings_of(path, minimal_x())
    assert warning.startswith(
        f"{path}: sources[0].auto_reply: expected auto_reply = true for source 'x-main'"
    )
    assert warning.endswith(
        "found no auto_reply, so false (the default): this source never acknowledges anything automatically"
    )


def test_auto_reply_written_false_is_a_choice_and_not_warned_about(tmp_path: Path) -> None:
    assert warnings_of(tmp_path / "x.toml", minimal_x("auto_reply = false")) == []
    assert warnings_of(tmp_path / "x.toml", minimal_x("auto_reply = true")) == []


def test_a_disabled_source_is_not_warned_about_replies_it_would_not_send_anyway(tmp_path: Path) -> None:
    assert warnings_of(tmp_path / "x.toml", minimal_x("enabled = false"), environ={}) == []


def test_a_feed_is_warned_about_only_when_told_to_reply_which_it_never_can(tmp_path: Path) -> None:
    feed = '\n[[sources]]\nid = "alerts"\nplatform = "feed"\nbrand = "Acme"\nauto_reply = false\n'
    path = tmp_path / "feed.toml"
    quiet = minimal_x("auto_reply = true") + feed
    assert warnings_of(path, quiet) == []
    [warning] = warnings_of(path, quiet.replace("auto_reply = false", "auto_reply = true"))
    assert warning == (
        f"{path}: sources[1].auto_reply: expected auto_reply = false: feed sources are never answered"
        " automatically, found true on source 'alerts'"
    )


def test_mail_switched_on_with_nothing_listening_is_warned_about_naming_host_and_port(tmp_path: Path) -> None:
    port = free_port()
    path = tmp_path / "mail.toml"
    [warning] = warnings_of(path, with_mail_server(minimal_x("auto_reply = true"), port))
    assert warning.startswith(
        f"{path}: smtp.enabled: expected a mail server accepting connections at 127.0.0.1:{port},"
        " or enabled = false, found connection refused"
    )
    assert warning.endswith("mails wait in the mail outbox until the server answers")


def test_mail_switched_on_with_a_server_listening_is_not_warned_about(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        text = with_mail_server(minimal_x("auto_reply = true"), server.getsockname()[1])
        assert warnings_of(tmp_path / "mail.toml", text) == []


def test_names_that_cannot_be_an_account_are_warned_about_where_they_stand(tmp_path: Path) -> None:
    path = tmp_path / "names.toml"
    text = minimal_x("auto_reply = true").replace('account = "@acme"', 'account = "https://x.com/acme"')
    text = text.replace('name = "Acme"\n', 'name = "Acme"\nhandles = ["#acme", "@acme_help"]\n', 1)
    text += textwrap.dedent(
        """
        [[employees]]
        email = "ada@acme.example"
        name = "Ada"
        handles = ["acme care", "@ada"]

        [acknowledgement]
        blocked_handles = ["@", "troll_42", "r/trolls"]
        """
    )
    warnings = warnings_of(path, text)
    assert [warning.split(": expected")[0] for warning in warnings] == [
        f"{path}: sources[0].account",
        f"{path}: brands[0].handles[0]",
        f"{path}: employees[0].handles[0]",
        f"{path}: acknowledgement.blocked_handles[0]",
        f"{path}: acknowledgement.blocked_handles[2]",
    ]
    assert warnings[0] == (
        f"{path}: sources[0].account: expected an account name such as @acme or u/acme_care"
        " (no spaces, '/', ':' or address), found 'https://x.com/acme', which no author's handle can match"
    )


@pytest.mark.parametrize(
    "name",
    [
        "@acme",
        "acme_care",
        "u/acme_care",
        "/u/Acme_Care",
        "U/acme-care",
        "acme.bsky.social",
        "@acme@mastodon.social",
    ],
)
def test_names_written_in_a_platforms_own_way_are_not_warned_about(name: str) -> None:
    assert plausible_account_name(name)


@pytest.mark.parametrize(
    "name",
    ["https://x.com/acme", "acme care", "acme/care", "x.com:acme", "@", "u/", "---", "#acme", "@@acme"],
)
def test_names_no_author_can_have_are_recognised(name: str) -> None:
    assert not plausible_account_name(name)


# The daily digest's recipients.

DIGEST_RECIPIENTS = """
[digest]
recipients = [
  "chiara.conti@velora.example",
  { email = "direzione@velora.example", brands = ["Velora", "Orbis"], teams = ["care-it", "care-fr"] },
  { email = "Chiara.Conti@velora.example", language = "it" },
]
"""


def with_digest(tmp_path: Path, section: str) -> Path:
    """The example with its [digest] section replaced by ``section``."""
    text = example_config().read_text(encoding="utf-8")
    start = text.index("[digest]")
    end = text.index("\n# ---", start)
    path = tmp_path / "digest.toml"
    path.write_text(text[:start] + section.strip() + "\n" + text[end:], encoding="utf-8")
    return path


def test_a_digest_recipient_naming_an_unknown_brand_or_team_is_told_which_exist(tmp_path: Path) -> None:
    path = with_digest(tmp_path, DIGEST_RECIPIENTS)
    problems = problems_of(path)
    assert (
        f"{path}: digest.recipients[1].brands[1]: expected the name of one of the brands (Velora),"
        " found 'Orbis'" in problems
    )
    assert (
        f"{path}: digest.recipients[1].teams[1]: expected the name of one of the teams"
        " (care-en, care-it, payments), found 'care-fr'" in problems
    )


def test_an_address_listed_twice_among_the_recipients_is_a_problem_whatever_its_case(tmp_path: Path) -> None:
    problems = problems_of(with_digest(tmp_path, DIGEST_RECIPIENTS))
    assert any(
        p.endswith(
            "digest.recipients[2].email: expected each address once (digest.recipients[0] has it already),"
            " found 'Chiara.Conti@velora.example'"
        )
        for p in problems
    ), problems


def test_plain_addresses_and_tables_mix_and_take_the_sections_defaults(tmp_path: Path) -> None:
    section = """
    [digest]
    recipients = ["a@velora.example", { email = "b@velora.example", timezone = "America/New_York" }]
    send_at = 07:15:00
    timezone = "Europe/Rome"
    language = "it"
    """
    people = load_config(with_digest(tmp_path, textwrap.dedent(section)), {}).digest.people()
    assert [(p.email, p.timezone, p.send_at, p.language) for p in people] == [
        ("a@velora.example", "Europe/Rome", time(7, 15), "it"),
        ("b@velora.example", "America/New_York", time(7, 15), "it"),
    ]
    assert people[0].brands == [] and people[0].send_on_quiet_days is True


def test_the_old_digest_keys_still_load(tmp_path: Path) -> None:
    section = """
    [digest]
    enabled = true
    recipients = ["chiara.conti@velora.example"]
    send_at = 08:00:00
    timezone = "Europe/Rome"
    language = "en"
    """
    config = load_config(with_digest(tmp_path, textwrap.dedent(section)), {})
    [person] = config.digest.people()
    assert (person.email, person.timezone, person.send_at) == (
        "chiara.conti@velora.example",
        "Europe/Rome",
        time(8),
    )


def test_a_saved_reply_must_be_a_template_for_a_configured_team(tmp_path: Path) -> None:
    path = tmp_path / "saved.toml"
    text = example_config().read_text(encoding="utf-8") + textwrap.dedent(
        """
        [[saved_replies]]
        name = "Broken"
        teams = ["care-fr"]
        text = "Hi {{ name "
        """
    )
    path.write_text(text, encoding="utf-8")
    problems = problems_of(path)
    assert any("saved_replies[3].text" in p and "a Jinja template" in p for p in problems), problems
    assert any("saved_replies[3].teams[0]" in p and "care-fr" in p for p in problems), problems
