"""The configured brands, products, companies and people as one flat list of watch terms."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from social_care.config.models import Brand, Config, WatchTerm


@dataclass(frozen=True)
class Term:
    """One thing to watch for, with every written form that names it."""

    kind: str
    name: str
    brand: str
    product: str
    forms: tuple[str, ...]
    exclusions: tuple[str, ...]
    fuzzy_threshold: float


def watch_terms(config: Config) -> list[Term]:
    return [term for brand in config.brands for term in brand_terms(brand)]


def brand_terms(brand: Brand) -> list[Term]:
    """The brand itself, its company names, its products and its key people."""
    return [
        _term("brand", brand, brand.name, ""),
        *(_company(brand, name) for name in brand.companies),
        *(_term("product", product, brand.name, product.name) for product in brand.products),
        *(_term("staff", person, brand.name, "") for person in brand.people),
    ]


def product_tiers(config: Config) -> dict[str, str]:
    """Each configured product's tier, which raises the priority of posts about it."""
    return {product.name: product.tier for brand in config.brands for product in brand.products}


def own_handles(config: Config) -> set[str]:
    """Our accounts and our staff's, folded and without "@": never cases, never auto-replied to."""
    handles = {source.account for source in config.sources}
    handles.update(handle for brand in config.brands for handle in brand.handles)
    handles.update(handle for person in config.employees for handle in person.handles)
    return {name for handle in handles if (name := bare_handle(handle))}


HANDLE_PREFIXES = ("@", "/u/", "u/")


def bare_handle(handle: str) -> str:
    """An account name as every platform's posts name it: folded, without "@" (X), "u/" or "/u/" (Reddit).

    Our own, our staff's and blocked accounts are written either way in the
    configuration, and authors arrive either way from the connectors; both sides
    go through here before they are compared. Only case is folded: ``acme_care``
    and ``AcmeCare`` are two different accounts.
    """
    name = unicodedata.normalize("NFKC", handle.strip()).casefold()
    for prefix in HANDLE_PREFIXES:
        if name.startswith(prefix):
            return name.removeprefix(prefix)
    return name


def _term(kind: str, spec: WatchTerm, brand: str, product: str) -> Term:
    forms = (spec.name, *spec.aliases, *spec.handles, *spec.hashtags)
    return Term(
        kind=kind,
        name=spec.name,
        brand=brand,
        product=product,
        forms=tuple(dict.fromkeys(form for form in forms if form.strip())),
        exclusions=tuple(spec.exclusions),
        fuzzy_threshold=spec.fuzzy_threshold,
    )


def _company(brand: Brand, name: str) -> Term:
    return Term("company", name, brand.name, "", (name,), tuple(brand.exclusions), 100.0)
