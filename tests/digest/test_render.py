"""A digest as one mail: the subject says the day, both parts say the figures, strangers' text stays text."""

from __future__ import annotations

from dataclasses import replace

import pytest

from social_care.digest.model import Digest
from social_care.digest.preview import inline_images
from social_care.digest.render import render_digest
from social_care.mail import Mail, MailTemplates
from social_care.resources import bundled
from tests.digest.days import (
    HOSTILE,
    IMG,
    PUBLIC_URL,
    SCRIPT,
    TEMPLATE,
    a_brand_day,
    a_digest,
    a_quiet_brand_day,
    post,
)
from tests.digest.reading import read

POSTS = {f"https://x.com/fan{number}/status/{1000 + number}" for number in (1, 2, 3)}


@pytest.fixture(scope="module")
def templates() -> MailTemplates:
    return MailTemplates(bundled("templates") / "mail")


def render(digest: Digest, templates: MailTemplates) -> Mail:
    return render_digest(digest, templates)


def test_the_subject_says_the_day_in_one_line(templates: MailTemplates) -> None:
    mail = render(a_digest(), templates)
    assert (
        mail.subject == "Velora · Thu 3 Dec: 214 mentions (+18%), 41 complaints, SLA 87% (floor 90%: missed)"
    )


def test_the_italian_subject_says_the_same_in_italian(templates: MailTemplates) -> None:
    mail = render(a_digest(language="it"), templates)
    assert (
        mail.subject == "Velora · gio 3 dic: 214 menzioni (+18%), 41 reclami, SLA 87% (soglia 90%: mancata)"
    )


def test_with_several_brands_the_subject_names_the_first_and_counts_the_rest(
    templates: MailTemplates,
) -> None:
    two = render(a_digest(a_brand_day(), a_brand_day("Orbis")), templates)
    three = render(
        a_digest(a_brand_day(), a_brand_day("Orbis"), a_brand_day("Nimbo"), language="it"), templates
    )
    assert two.subject.startswith("Velora · Thu 3 Dec: 214 mentions") and two.subject.endswith(
        ", and 1 more brand"
    )
    assert three.subject.endswith(", e altri 2 marchi")
    assert "Orbis" in two.text and "Orbis" in two.html


def test_a_quiet_day_is_short_says_so_and_draws_nothing(templates: MailTemplates) -> None:
    mail = render(a_digest(a_quiet_brand_day()), templates)
    busy = render(a_digest(), templates)

    assert mail.subject == "Velora · Thu 3 Dec: no mentions"
    assert mail.images == ()
    assert read(mail.html).named("img") == []
    assert "No mentions on Thu 3 Dec. The day before: 3; the 7-day mean: 4.1." in mail.text
    assert "No mentions on Thu 3 Dec." in read(mail.html).seen()
    assert "Reputation" not in mail.text.split("CARE")[0].split("No mentions")[1]
    assert len(mail.text) < len(busy.text) / 3 and len(mail.html) < len(busy.html) / 3
    assert "Open at the end of the day: 2" in mail.text


def test_each_busy_brand_has_its_two_charts_named_by_content_id(templates: MailTemplates) -> None:
    mail = render(a_digest(a_brand_day(), a_quiet_brand_day("Orbis"), a_brand_day("Nimbo")), templates)
    images = read(mail.html).named("img")

    assert [image.content_id for image in mail.images] == [
        "trend-1.20261203@digest.social-care",
        "hours-1.20261203@digest.social-care",
        "trend-3.20261203@digest.social-care",
        "hours-3.20261203@digest.social-care",
    ]
    assert [tag.attributes["src"] for tag in images] == [f"cid:{image.content_id}" for image in mail.images]
    for tag, image in zip(images, mail.images, strict=True):
        assert tag.attributes["alt"] == image.alt
        assert tag.attributes["width"] == "560" and tag.attributes["height"] in {"190", "150"}


def test_the_html_fetches_nothing_and_links_only_to_the_desk_and_the_posts(templates: MailTemplates) -> None:
    page = read(render(a_digest(), templates).html)

    assert {tag.name for tag in page.tags}.isdisjoint({"script", "link", "style", "iframe", "object", "form"})
    assert page.handlers() == []
    for address in page.addresses():
        assert address.startswith(("cid:", f"{PUBLIC_URL}/")) or address in POSTS, address
    assert {tag.attributes["href"] for tag in page.named("a")} >= POSTS | {f"{PUBLIC_URL}/queue"}
    assert all("url(" not in style and "@import" not in style for style in page.styles())


def test_hostile_text_is_escaped_in_the_html_and_kept_as_written_in_the_text(
    templates: MailTemplates,
) -> None:
    mail = render(a_digest(), templates)

    for hostile in HOSTILE:
        assert hostile in mail.text
        assert hostile in read(mail.html).seen()
    assert "<script" not in mail.html and "<img src=x" not in mail.html and "<b>Bold" not in mail.html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in mail.html
    assert "&lt;img src=x onerror=alert(1)&gt;" in mail.html
    assert "49" not in mail.text.replace("+49", "")  # {{ 7*7 }} stays text, never evaluated
    assert [tag.name for tag in read(mail.html).tags].count("img") == len(mail.images)


def test_a_post_link_that_is_not_a_web_address_is_left_out(templates: MailTemplates) -> None:
    brand = a_brand_day()
    sly = replace(
        post(1, "hi", author="x", category="complaint", followers=1), post_url="javascript:alert(1)"
    )
    brand = replace(brand, reputation=replace(brand.reputation, most_reached_negative=[sly]))
    mail = render(a_digest(brand), templates)
    assert "javascript:" not in mail.html and "javascript:" not in mail.text


def test_both_parts_carry_the_figures_the_comparisons_and_the_links(templates: MailTemplates) -> None:
    mail = render(a_digest(), templates)
    seen = read(mail.html).seen()

    for part in (mail.text, seen):
        assert "Needs attention today" in part or "NEEDS ATTENTION TODAY" in part
        assert "SC-000011" in part and "overdue by 2 h 00 min" in part
        assert "Automatic replies are paused" in part and "reddit-main" in part and "x-velora" in part
        assert "13:20 to 16:05, peak 14:00\u201315:00 with 17 complaints" in part
        assert "87%" in part and "95.2%" in part and "62.5%" in part
        assert "2 h 35 min" in part and "3 d 4 h" in part
        assert "Band " + TEMPLATE in part and "48,200 followers" in part
    assert "- X: 150 (+25% vs day before, +27% vs 7-day mean)" in mail.text
    assert "- complaints, acknowledged: 87%, 87 of 100 in time (floor 90%: MISSED)" in mail.text
    assert f"Case SC-000001: {PUBLIC_URL}/cases/1" in mail.text
    assert "MISSED" in seen and "MET" in seen
    assert "Made at 07:00 on Fri 4 Dec, times in Europe/Rome." in mail.text


def test_the_italian_digest_speaks_italian_with_its_numbers(templates: MailTemplates) -> None:
    mail = render(a_digest(language="it"), templates)
    seen = read(mail.html).seen()

    assert read(mail.html).named("html")[0].attributes["lang"] == "it"
    for part in (mail.text, seen):
        assert "Da guardare oggi" in part or "DA GUARDARE OGGI" in part
        assert "95,2%" in part and "48.200 follower" in part and "scaduto da 2 h 00 min" in part
        assert "Velora Ring" in part and SCRIPT in part and IMG in part
    assert "Indice di reputazione negli ultimi 30 giorni" in mail.images[0].alt
    assert "Preparato alle 07:00 di ven 4 dic, orari in Europe/Rome." in mail.text


def test_the_preview_inlines_every_chart_and_keeps_no_cid(templates: MailTemplates) -> None:
    mail = render(a_digest(), templates)
    page = read(inline_images(mail))
    sources = [tag.attributes["src"] for tag in page.named("img")]
    assert len(sources) == 2 and all(source.startswith("data:image/png;base64,") for source in sources)
    assert "cid:" not in inline_images(mail)


def test_three_busy_brands_stay_under_the_size_gmail_clips_at(templates: MailTemplates) -> None:
    mail = render(a_digest(a_brand_day(), a_brand_day("Orbis"), a_brand_day("Nimbo")), templates)
    assert len(mail.html.encode()) < 102 * 1024


def test_a_digest_without_brands_is_refused(templates: MailTemplates) -> None:
    with pytest.raises(ValueError, match="at least one brand"):
        render(replace(a_digest(), brands=[]), templates)
