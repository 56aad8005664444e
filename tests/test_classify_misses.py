"""The rules' systematic misses on real posts, each a behaviour in English and in Italian."""

from __future__ import annotations

import pytest

from social_care.classify import RuleClassifier
from social_care.matching import Match

CLASSIFIER = RuleClassifier()
VELORA = Match("Velora", "brand", "Velora", "Velora", "Velora", 0, 6, 100.0)


@pytest.mark.parametrize(
    "text",
    [
        "can someone help, my order never came",
        "@velora_help my watch is a paperweight since Monday. Any ETA?",
        "still logging me out of the app. Anyone?",
        "qualcuno mi aiuta? il pacco non è mai arrivato",
        "il mio orologio non registra più il sonno, potete aiutarmi?",
        "il Pulse si scollega ogni 10 minuti. Soluzioni?",
    ],
)
def test_a_question_or_a_plea_for_help_reporting_a_failure_is_a_complaint(text: str) -> None:
    assert CLASSIFIER.classify(text).category == "complaint"


@pytest.mark.parametrize(
    "text",
    [
        "I forgot my password, how do I reset it?",
        "Can't find the option to cancel my subscription, how do I do it?",
        "can I use the watch without a phone?",
        "ho dimenticato la password, come la reimposto?",
        "non trovo l'opzione per disdire l'abbonamento, come faccio?",
        "si può usare l'orologio senza smartphone?",
    ],
)
def test_an_inquiry_naming_the_writers_own_trouble_stays_an_inquiry(text: str) -> None:
    assert CLASSIFIER.classify(text).category == "inquiry"


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("@HappyHelpDesk my parcel is late again", "complaint"),
        ("@GreatSupport_Team I was charged twice", "complaint"),
        ("@HappyHelpDesk my new watch arrived", "other"),
        ("@SuperAssistenza il pacco è di nuovo in ritardo", "complaint"),
        ("@AssistenzaTop mi avete addebitato due volte", "complaint"),
        ("@SuperAssistenza ordine arrivato oggi", "other"),
    ],
)
def test_a_handle_names_an_account_and_is_no_cue(text: str, category: str) -> None:
    assert CLASSIFIER.classify(text).category == category


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("third delay this week #fail", "complaint"),
        ("new store in Milan #HappyHolidays", "other"),
        ("terzo ritardo della settimana #vergogna", "complaint"),
        ("nuovo negozio a Milano #BuoneFeste", "other"),
    ],
)
def test_a_hashtag_of_several_words_names_a_topic_while_one_word_is_a_comment(
    text: str, category: str
) -> None:
    assert CLASSIFIER.classify(text).category == category


@pytest.mark.parametrize(
    "text",
    [
        "New store opening in Milan!",
        "Still no answer from support!",
        "Nuovo negozio aperto a Milano!",
        "Sabato sera festa in spiaggia, vi aspettiamo!",
    ],
)
def test_an_exclamation_alone_is_not_praise(text: str) -> None:
    assert CLASSIFIER.classify(text).category != "praise"


@pytest.mark.parametrize(
    "text",
    [
        "the room was not clean",
        "the bathroom was too small and the carpet too old",
        "camera non pulita",
        "stanza troppo vecchia",
        "scarsa professionalità alla reception",
        "personale poco gentile",
    ],
)
def test_negation_and_degree_words_reach_words_the_lexicon_lacks(text: str) -> None:
    assert CLASSIFIER.classify(text).category == "complaint"


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("noisy room and stained sheets", "complaint"),
        ("spotless room, great location", "praise"),
        ("camera rumorosa e cattivo odore in bagno", "complaint"),
        ("posizione centrale e colazione varia", "praise"),
        ("stanza spaziosa e silenziosa, personale cordiale", "praise"),
        ("bagno sporco e muffa sul soffitto", "complaint"),
    ],
)
def test_review_and_hospitality_words_count_both_ways(text: str, category: str) -> None:
    assert CLASSIFIER.classify(text).category == category


@pytest.mark.parametrize(
    "text",
    [
        "There is a new repair corner in the Milan store from Monday",
        "There are new opening times for the holidays",
        "Da lunedì c'è un'area riparazioni nel negozio di Milano",
        "Ci sono nuovi orari per le feste",
        "In negozio si può provare il nuovo orologio",
    ],
)
def test_a_statement_of_what_there_is_is_not_a_question(text: str) -> None:
    assert CLASSIFIER.classify(text).category == "other"


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("the new menu is unintuitive", "complaint"),
        ("the staff were unfriendly", "complaint"),
        ("il letto era scomodissimo", "complaint"),
        ("cliente insoddisfatto del servizio", "complaint"),
        ("pago sempre in contanti al ritiro", "other"),
    ],
)
def test_a_typo_never_turns_a_word_into_its_opposite(text: str, category: str) -> None:
    assert CLASSIFIER.classify(text).category == category


@pytest.mark.parametrize(
    "text",
    ["Monday again, and everything is broken", "Lunedì di nuovo, ed è tutto rotto"],
)
def test_negative_chatter_that_names_no_one_is_no_complaint_against_us(text: str) -> None:
    assert CLASSIFIER.classify(text, matches=[]).category == "other"
    assert CLASSIFIER.classify(text, matches=[VELORA]).category == "complaint"
    assert CLASSIFIER.classify(text, matches=[], direct=True).category == "complaint"
    assert CLASSIFIER.classify(f"@velora {text}", matches=[]).category == "complaint"
    assert CLASSIFIER.classify(text).category == "complaint"  # nobody looked for watched terms


@pytest.mark.parametrize("text", ["your app is broken again", "la vostra app è di nuovo rotta"])
def test_a_complaint_spoken_to_someone_names_its_target(text: str) -> None:
    assert CLASSIFIER.classify(text, matches=[]).category == "complaint"


@pytest.mark.parametrize(
    "text",
    [
        "the refund for the double charge just landed. Thank you, that was quick!",
        "zero issues in two years, battery still great",
        "rimborso ricevuto, grazie per aver risolto",
        "dopo l'aggiornamento regge da 4 ore senza disconnessioni, grazie",
    ],
)
def test_a_problem_solved_or_absent_is_praise(text: str) -> None:
    assert CLASSIFIER.classify(text).category == "praise"


def test_the_cues_a_model_learns_from_keep_their_names() -> None:
    read = CLASSIFIER.read("@HappyHelpDesk why hasn't my refund arrived? urgent, please")
    signals = read.signals()
    assert list(signals) == ["negative", "positive", "request", "urgent", "question", "personal"]
    assert signals["negative"] >= 2 and signals["positive"] == 0
    assert signals["question"] == 1.0 and signals["personal"] == 1.0 and signals["urgent"] == 1


@pytest.mark.parametrize(
    ("text", "personal"),
    [
        ("@USAirways flight delayed again", False),
        ("iPhone screen cracked, any idea?", False),
        ("I dropped my iPhone", True),
        ("@USAirways they lost us", True),
        ("@AssistenzaNoi il pacco è in ritardo", False),
    ],
)
def test_a_name_or_a_brand_is_not_the_writer_speaking(text: str, personal: bool) -> None:
    assert CLASSIFIER.read(text).personal is personal


@pytest.mark.parametrize("text", ["my 5 hour flight and no food?", "il mio volo, ancora nessuna notizia?"])
def test_a_lack_asked_about_with_no_is_still_a_failure(text: str) -> None:
    assert CLASSIFIER.classify(text).category == "complaint"


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("\U0001f389 New store opening in Milan", "other"),
        ("\U0001f525 OFFERTA LAMPO \U0001f525 Pulse a 99 euro", "other"),
        ("love the new app \U0001f389", "praise"),
        ("ordered a black one, received a pink one \U0001f610", "complaint"),
    ],
)
def test_a_celebrating_emoji_stresses_a_mood_and_a_flat_face_is_displeasure(text: str, category: str) -> None:
    assert CLASSIFIER.classify(text).category == category


@pytest.mark.parametrize(
    "text",
    ["the view from the terrace is unreal, highly recommend", "la vista dalla terrazza è stupenda"],
)
def test_praise_that_names_no_one_is_no_praise_of_us(text: str) -> None:
    assert CLASSIFIER.classify(text, matches=[]).category == "other"
    assert CLASSIFIER.classify(text, matches=[VELORA]).category == "praise"
    assert CLASSIFIER.classify(text).category == "praise"


@pytest.mark.parametrize(
    "text",
    ["Selling my Velora Pulse 2, great condition, DM me", "Vendo Velora Pulse 2 usato, perfetto, scrivetemi"],
)
def test_an_offer_for_sale_is_no_case(text: str) -> None:
    assert CLASSIFIER.classify(text).category == "other"


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Velora results: no listing this year. https://example.com/velora-results", "other"),
        ("How Velora builds its watches in Italy https://example.com/podcast", "other"),
        ("is my Velora router hacked?? https://example.com/redirect", "complaint"),
        ("@velora is this offer real? https://example.com/offer", "inquiry"),
    ],
)
def test_a_link_passed_on_without_a_word_of_the_writers_own_is_news(text: str, category: str) -> None:
    assert CLASSIFIER.classify(text, matches=[VELORA]).category == category
