"""Checks that span sections: names that must refer to something, secrets that must exist.

They run on the raw parsed TOML, tolerating wrong shapes (those are reported by
the typed models), so that every problem in the file is reported in one go.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import ValidationError

from social_care.config.problems import Problem, problems_from_validation
from social_care.config.secrets import read_secret, secret_available

MIN_SECRET_KEY_LENGTH = 32
_MAKE_KEY = "python -c 'import secrets; print(secrets.token_urlsafe(32))' makes one"

Raw = Mapping[str, Any]


def check_references(raw: Raw, *, file: str, environ: Mapping[str, str]) -> list[Problem]:
    checker = _Checker(raw, file, environ)
    checker.unique_names()
    checker.sources()
    checker.people_and_teams()
    checker.routing()
    checker.sla()
    checker.saved_replies()
    checker.digest()
    checker.service_secrets()
    return checker.problems


# Lists whose entries are referred to by one key, which must therefore name one entry only.
_NAMED_BY = {
    "brands": "name",
    "sources": "id",
    "teams": "name",
    "employees": "email",
    "routing": "name",
    "calendars": "name",
    "sla": "name",
}


def _items(raw: Raw, section: str) -> Iterator[tuple[int, Raw]]:
    value = raw.get(section)
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, Mapping):
                yield index, item


def _names(raw: Raw, section: str, key: str = "name") -> set[str]:
    return {item[key] for _, item in _items(raw, section) if isinstance(item.get(key), str)}


def _strings(value: object) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


class _Checker:
    def __init__(self, raw: Raw, file: str, environ: Mapping[str, str]) -> None:
        self.raw = raw
        self.file = file
        self.environ = environ
        self.problems: list[Problem] = []

    def report(self, key: str, expected: str, found: str) -> None:
        self.problems.append(Problem(self.file, key, expected, found))

    def unique_names(self) -> None:
        for section, key in _NAMED_BY.items():
            first: dict[str, int] = {}
            for index, item in _items(self.raw, section):
                value = item.get(key)
                if not isinstance(value, str):
                    continue
                folded = value.casefold() if key == "email" else value
                if folded in first:
                    self.report(
                        f"{section}[{index}].{key}",
                        f"a unique {key} ({section}[{first[folded]}] has it already)",
                        repr(value),
                    )
                else:
                    first[folded] = index

    def refers(self, key: str, value: object, known: set[str], what: str) -> None:
        if isinstance(value, str) and value not in known:
            choices = ", ".join(sorted(known)) or f"none defined yet in [[{what}]]"
            self.report(key, f"the name of one of the {what} ({choices})", repr(value))

    def secret(self, key: str, name: object) -> None:
        if isinstance(name, str) and (why := secret_available(name, self.environ)):
            self.report(key, f"a secret in environment variable {name}", why)

    def strong_key(self, key: str, name: object) -> None:
        """The key signs sessions and survey links: a short one can be guessed offline from any cookie."""
        if not isinstance(name, str) or secret_available(name, self.environ):
            return
        length = len(read_secret(name, self.environ).get_secret_value())
        if length < MIN_SECRET_KEY_LENGTH:
            expected = f"a random key of at least {MIN_SECRET_KEY_LENGTH} characters in {name} ({_MAKE_KEY})"
            self.report(key, expected, f"{length} characters")

    def public_https(self, url: object) -> None:
        """In production the session cookie must be Secure, and customers' survey links must reach us."""
        if not isinstance(url, str) or not url.startswith("https://"):
            self.report("service.public_url", "the https:// address people and customers reach", repr(url))

    def sources(self) -> None:
        from connectors import registry

        brands = _names(self.raw, "brands")
        for index, source in _items(self.raw, "sources"):
            key = f"sources[{index}]"
            self.refers(f"{key}.brand", source.get("brand"), brands, "brands")
            platform = source.get("platform")
            if isinstance(platform, str) and platform not in registry.PLATFORMS:
                known = ", ".join(sorted(registry.PLATFORMS))
                self.report(f"{key}.platform", f"one of {known}", repr(platform))
            elif isinstance(platform, str):
                self.connector_settings(key, source, registry.connector_class(platform))

    def connector_settings(self, key: str, source: Raw, connector: Any) -> None:
        options = source.get("options", {})
        try:
            connector.Options.model_validate(options)
        except ValidationError as error:
            self.problems.extend(
                problems_from_validation(
                    error, file=self.file, model=connector.Options, prefix=(*_path(key), "options")
                )
            )
        self.watch_lists(key, source, connector)
        credentials = source.get("credentials", {})
        if not isinstance(credentials, Mapping):
            return
        for name in connector.credentials:
            if name not in credentials:
                self.report(
                    f"{key}.credentials.{name}",
                    f"the environment variable holding the {connector.platform} {name}",
                    "nothing",
                )
            elif source.get("enabled", True) is not False:
                self.secret(f"{key}.credentials.{name}", credentials[name])

    def watch_lists(self, key: str, source: Raw, connector: Any) -> None:
        watch = source.get("watch", {})
        if not isinstance(watch, Mapping):
            return
        for name in ("queries", "subreddits", "feeds"):
            if watch.get(name) and name not in connector.watch_lists:
                used = ", ".join(sorted(connector.watch_lists)) or "none of them"
                self.report(
                    f"{key}.watch.{name}",
                    f"no {name} on a {connector.platform} source, which reads {used}",
                    repr(watch[name]),
                )

    def people_and_teams(self) -> None:
        teams = _names(self.raw, "teams")
        sources = _names(self.raw, "sources", "id")
        emails = _names(self.raw, "employees", "email")
        for index, employee in _items(self.raw, "employees"):
            for position, team in enumerate(_strings(employee.get("teams"))):
                self.refers(f"employees[{index}].teams[{position}]", team, teams, "teams")
            for position, account in enumerate(_strings(employee.get("accounts"))):
                self.refers(f"employees[{index}].accounts[{position}]", account, sources, "sources")
        for index, team_table in _items(self.raw, "teams"):
            if team_table.get("supervisor"):
                self.refers(f"teams[{index}].supervisor", team_table["supervisor"], emails, "employees")

    def routing(self) -> None:
        teams = _names(self.raw, "teams")
        brands = _names(self.raw, "brands")
        products = {
            product["name"]
            for _, brand in _items(self.raw, "brands")
            for product in brand.get("products", [])
            if isinstance(product, Mapping) and isinstance(product.get("name"), str)
        }
        for index, rule in _items(self.raw, "routing"):
            key = f"routing[{index}]"
            self.refers(f"{key}.team", rule.get("team"), teams, "teams")
            when = rule.get("when")
            if isinstance(when, Mapping):
                for position, brand in enumerate(_strings(when.get("brands"))):
                    self.refers(f"{key}.when.brands[{position}]", brand, brands, "brands")
                for position, product in enumerate(_strings(when.get("products"))):
                    self.refers(f"{key}.when.products[{position}]", product, products, "products")

    def sla(self) -> None:
        calendars = _names(self.raw, "calendars") | {"24/7"}
        for index, policy in _items(self.raw, "sla"):
            self.refers(f"sla[{index}].calendar", policy.get("calendar"), calendars, "calendars")

    def saved_replies(self) -> None:
        teams = _names(self.raw, "teams")
        for index, reply in _items(self.raw, "saved_replies"):
            for position, team in enumerate(_strings(reply.get("teams"))):
                self.refers(f"saved_replies[{index}].teams[{position}]", team, teams, "teams")

    def digest(self) -> None:
        """A recipient's scope names configured brands and teams; one address gets one digest a day."""
        section = self.raw.get("digest")
        recipients = section.get("recipients") if isinstance(section, Mapping) else None
        if not isinstance(recipients, list):
            return
        brands, teams = _names(self.raw, "brands"), _names(self.raw, "teams")
        first: dict[str, int] = {}
        for index, recipient in enumerate(recipients):
            key = f"digest.recipients[{index}]"
            if isinstance(recipient, Mapping):
                for position, brand in enumerate(_strings(recipient.get("brands"))):
                    self.refers(f"{key}.brands[{position}]", brand, brands, "brands")
                for position, team in enumerate(_strings(recipient.get("teams"))):
                    self.refers(f"{key}.teams[{position}]", team, teams, "teams")
                key, email = f"{key}.email", recipient.get("email")
            else:
                email = recipient
            if not isinstance(email, str):
                continue
            if email.casefold() in first:
                earlier = f"digest.recipients[{first[email.casefold()]}]"
                self.report(key, f"each address once ({earlier} has it already)", repr(email))
            else:
                first[email.casefold()] = index

    def service_secrets(self) -> None:
        service = self.raw.get("service")
        service = service if isinstance(service, Mapping) else {}
        if service.get("environment") == "production":
            name = service.get("secret_key_env", "SOCIAL_CARE_SECRET_KEY")
            self.secret("service.secret_key_env", name)
            self.strong_key("service.secret_key_env", name)
            self.public_https(service.get("public_url", ""))
        smtp = self.raw.get("smtp")
        if isinstance(smtp, Mapping):
            for name in ("username_env", "password_env"):
                self.secret(f"smtp.{name}", smtp.get(name))


def _path(key: str) -> tuple[str | int, ...]:
    section, index = key.rstrip("]").split("[")
    return (section, int(index))
