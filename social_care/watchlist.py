"""The configured brands, products, companies and people as one flat list of watch terms."""

from __future__ import annotations

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
    terms: list[Term] = []
    for brand in config.brands:
        terms.append(_term("brand", brand, brand.name, ""))
        terms.extend(_company(brand, name) for name in brand.companies)
        terms.extend(_term("product", product, brand.name, product.name) for product in brand.products)
        terms.extend(_term("staff", person, brand.name, "") for person in brand.people)
    return terms


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
