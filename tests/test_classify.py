"""The rule classifier: categories with reasons, in English and Italian."""

from __future__ import annotations

import pytest

from social_care.classify import RuleClassifier
from social_care.classify.lexicon import available_languages, load_lexicon
from social_care.matching import Match
from social_care.text import tokenize

CLASSIFIER = RuleClassifier({"Velora Pay": "critical"})


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("My watch is not working since the update", "complaint"),
        ("why hasn't my refund arrived yet?", "complaint"),
        ("the app keeps crashing, can you help?", "complaint"),
        ("Do you ship to Switzerland?", "inquiry"),
        ("How do I pair the watch with my phone", "inquiry"),
        ("Is there a student discount", "inquiry"),
        ("Thank you, support was amazing", "praise"),
        ("Love the new update, so smooth", "praise"),
        ("Velora announces its results on Tuesday", "other"),
    ],
)
def test_english_posts_get_their_category(text: str, category: str) -> None:
    assert CLASSIFIER.classify(text).category == category


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Il Velora Pulse non funziona", "complaint"),
        ("l'app si blocca, mi aiutate?", "complaint"),
        ("mai più un ordine da voi", "complaint"),
        ("ordine in ritardo di una settimana, vergogna", "complaint"),
        ("Spedite anche in Svizzera?", "inquiry"),
        ("Come si collega l'orologio al telefono", "inquiry"),
        ("Grazie mille, gentilissimi e velocissimi", "praise"),
        ("Consegna in anticipo, tutto perfetto", "praise"),
        ("Domani la presentazione dei risultati a Milano", "other"),
    ],
)
def test_italian_posts_get_their_category(text: str, category: str) -> None:
    assert CLASSIFIER.classify(text).category == category


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("the support was not helpful at all", "complaint"),
        ("I am not happy with the battery", "complaint"),
        ("non è buono per niente", "complaint"),
        ("not bad at all, works fine", "praise"),
        ("non ho avuto nessun problema, grazie", "praise"),
    ],
)
def test_negation_turns_the_words_after_it(text: str, category: str) -> None:
    assert CLASSIFIER.classify(text).category == category


@pytest.mark.parametrize(
    "text",
    [
        "great, another outage. third this week",
        "thanks for nothing, still waiting for my refund",
        "love being on hold for an hour",
        "fantastico, terzo reso in un mese",
        "grazie di niente, il pacco è ancora perso",
    ],
)
def test_common_sarcasm_is_a_complaint(text: str) -> None:
    assert CLASSIFIER.classify(text).category == "complaint"


def test_a_one_letter_typo_of_a_cue_still_counts() -> None:
    verdict = CLASSIFIER.classify("really dissapointed with the delivery")
    assert verdict.category == "complaint"
    assert any("disappointed" in reason for reason in verdict.reasons)


def test_a_hashtag_with_a_telling_part_counts() -> None:
    assert CLASSIFIER.classify("third delay this week #servicefail").category == "complaint"


def test_a_mild_negative_word_does_not_turn_a_question_about_the_world_into_a_complaint() -> None:
    assert CLASSIFIER.classify("why do fans hate the old logo?").category == "inquiry"
    assert CLASSIFIER.classify("why do I have to pay a fee?").category == "complaint"


def test_a_verdict_explains_itself() -> None:
    verdict = CLASSIFIER.classify("Il pacco non è arrivato, ordine in ritardo di una settimana")
    assert verdict.category == "complaint" and verdict.cluster == "delivery" and verdict.language == "it"
    assert "negative cue 'non e arrivato'" in verdict.reasons
    assert any(reason.startswith("about delivery") for reason in verdict.reasons)
    assert 0.5 < verdict.confidence <= 0.95


@pytest.mark.parametrize(
    ("text", "cluster"),
    [
        ("I was charged twice and want a refund", "billing"),
        ("locked out of my account, password reset never arrives", "account"),
        ("firmware update bricked the watch, error on boot", "technical_fault"),
        ("how do I reset the router", "how_to"),
    ],
)
def test_complaints_and_inquiries_get_a_problem_cluster(text: str, cluster: str) -> None:
    assert CLASSIFIER.classify(text).cluster == cluster


def test_language_is_detected_or_taken_from_the_platform() -> None:
    assert CLASSIFIER.classify("the app is broken again and I am fed up").language == "en"
    assert CLASSIFIER.classify("ho un problema con la app").language == "it"
    assert CLASSIFIER.classify("ok", language="it").language == "it"
    assert CLASSIFIER.classify("12345 !!!").language == "und"


def test_reach_urgency_directness_and_product_tier_raise_priority() -> None:
    pay = Match("Velora Pay", "product", "Velora", "Velora Pay", "Velora Pay", 0, 10, 100.0)
    assert CLASSIFIER.classify("my order is late").priority == "normal"
    assert CLASSIFIER.classify("my order is late, urgent").priority == "high"
    assert CLASSIFIER.classify("my order is late", followers=50_000).priority == "high"
    assert CLASSIFIER.classify("Velora Pay charged me twice", matches=[pay]).priority == "high"
    assert CLASSIFIER.classify("Thanks!", followers=50_000).priority == "low"
    assert "addresses the brand directly" in CLASSIFIER.classify("it is broken", direct=True).reasons


def test_sentiment_leans_with_the_cues() -> None:
    assert CLASSIFIER.classify("terrible, broken, useless").sentiment < 0
    assert CLASSIFIER.classify("love it, amazing").sentiment > 0


def test_a_retweet_is_classified_but_flagged_as_not_a_mention() -> None:
    verdict = CLASSIFIER.classify("RT @bob: the Velora app is broken again")
    assert verdict.retweet and verdict.category == "complaint"
    assert not CLASSIFIER.classify("the Velora app is broken again").retweet


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Just got the new watch, so cool!", "praise"),
        ("I wish I had one of those", "praise"),
        ("Picked up the new phone today!", "other"),
        ("isn't the new app amazing?! love it", "praise"),
        ("is the new app any good?", "inquiry"),
        ("Can you help me set up the new app? It looks great", "inquiry"),
        ("The update broke my watch!", "complaint"),
        ("Nuovo orologio arrivato oggi!", "other"),
        ("Ce l'abbiamo fatta, in bocca al lupo al team", "praise"),
        ("Sono d'accordo, bella idea", "praise"),
        ("L'aggiornamento ha rotto l'orologio!", "complaint"),
    ],
)
def test_excitement_and_enthusiasm_without_a_problem_are_praise(text: str, category: str) -> None:
    assert CLASSIFIER.classify(text).category == category


def test_a_heart_or_a_smiling_face_from_the_older_symbols_counts_as_positive() -> None:
    assert CLASSIFIER.classify("the new watch \u2665").category == "praise"
    assert CLASSIFIER.classify("arrivato il nuovo orologio \u263a").category == "praise"


def test_an_exclamation_stresses_a_positive_mood_but_is_no_praise_alone() -> None:
    assert CLASSIFIER.classify("New store opening in Milan!").category == "other"
    assert "positive cue '!'" in CLASSIFIER.classify("New store opening in Milan, great!").reasons
    assert not any("'!'" in reason for reason in CLASSIFIER.classify("Worst update ever!").reasons)


@pytest.mark.parametrize("language", available_languages())
def test_every_lexicon_loads_with_the_cues_the_rules_need(language: str) -> None:
    lexicon = load_lexicon(language)
    kinds = {cue.kind for cues in lexicon.cues.values() for cue in cues}
    assert {"negative", "positive", "request"} <= kinds
    assert lexicon.stopwords and lexicon.negators and lexicon.question_words
    assert set(lexicon.clusters) and {cue.kind for cues in lexicon.clusters.values() for cue in cues} == {
        "technical_fault",
        "not_working",
        "how_to",
        "delivery",
        "billing",
        "account",
    }


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("not the old plugin - the new app looks great", "praise"),
        ("No, the support was excellent", "praise"),
        ("the app is not working, great", "complaint"),
        ("preso il nuovo, non quello vecchio: fantastico", "praise"),
        ("non funziona, bravi", "complaint"),
    ],
)
def test_negation_stops_at_the_end_of_its_clause(text: str, category: str) -> None:
    assert CLASSIFIER.classify(text).category == category


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("the agent havent been helpful", "complaint"),
        ("the new app aint great", "complaint"),
        ("l'app nuova mica è bella", "complaint"),
        ("neppure un problema con la consegna, grazie", "praise"),
    ],
)
def test_negators_written_without_apostrophe_or_colloquially_still_turn(text: str, category: str) -> None:
    assert CLASSIFIER.classify(text).category == category


@pytest.mark.parametrize("text", ["not only fast but also friendly", "non solo veloce ma anche gentile"])
def test_not_only_adds_and_does_not_turn(text: str) -> None:
    assert CLASSIFIER.classify(text).category == "praise"


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("no doubt the best phone I have had", "praise"),
        ("no wonder everyone loves the new app", "praise"),
        ("in and out of the store, no line, no hassle", "praise"),
        ("it arrived without a hitch", "praise"),
        ("no signal since the update", "complaint"),
        ("senza dubbio il migliore", "praise"),
        ("consegna senza intoppi", "praise"),
        ("nessuna risposta da giorni", "complaint"),
    ],
)
def test_only_a_lack_that_is_a_failure_counts_against_a_post(text: str, category: str) -> None:
    assert CLASSIFIER.classify(text).category == category


def test_a_lack_word_ending_its_sentence_lacks_nothing() -> None:
    for text, word in [("I asked: No. Cable only.", "cable"), ("Risposta: nessuna. Cavo solo.", "cavo")]:
        assert not any(word in reason for reason in CLASSIFIER.classify(text).reasons)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("filming the launch with the new phone", "other"),
        ("packing the new laptop for the trip", "other"),
        ("a talk about telling stories on the web", "other"),
        ("la partita di ieri sul nuovo telefono", "other"),
        ("sono curioso di provare la nuova app", "other"),
    ],
)
def test_a_common_word_is_not_read_as_a_typo_of_a_cue(text: str, category: str) -> None:
    assert CLASSIFIER.classify(text).category == category


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("the support was deficient", "complaint"),
        ("negozio sconsigliato, personale scortese", "complaint"),
        ("cliente scontento del servizio", "complaint"),
    ],
)
def test_a_word_that_looks_like_its_opposite_keeps_its_own_meaning(text: str, category: str) -> None:
    assert CLASSIFIER.classify(text).category == category


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("really interesting talk on the new app", "praise"),
        ("the new version is much better", "praise"),
        ("a little envy of everyone with the new watch", "praise"),
        ("the service could be better", "complaint"),
        ("presentazione davvero interessante", "praise"),
        ("la nuova versione è molto meglio", "praise"),
        ("il servizio potrebbe andare meglio", "complaint"),
    ],
)
def test_interest_and_preference_are_praise_and_could_be_better_is_not(text: str, category: str) -> None:
    assert CLASSIFIER.classify(text).category == category


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("the new camera is damn good", "praise"),
        ("seriously smart design", "praise"),
        ("seriously, the app is broken", "complaint"),
        ("two hours late. thanks", "complaint"),
        ("the keynote tomorrow should be great", "praise"),
        ("la presentazione di domani dovrebbe essere fantastica", "praise"),
        ("the app should be fixed by now", "complaint"),
        ("once again great service from the team", "praise"),
        ("ancora una volta ottimo servizio", "praise"),
        ("once again the parcel is late", "complaint"),
    ],
)
def test_a_mild_negative_word_right_before_a_positive_one_is_a_degree_word(text: str, category: str) -> None:
    assert CLASSIFIER.classify(text).category == category


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("How to get the most out of your new phone: ten tips", "other"),
        ("how much I love the new app", "praise"),
        ("how do I reset my password", "inquiry"),
        ("quanto mi piace la nuova app", "praise"),
        ("come si resetta la password", "inquiry"),
    ],
)
def test_a_headline_or_an_exclamation_is_not_a_question(text: str, category: str) -> None:
    assert CLASSIFIER.classify(text).category == category


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("where is the nearest shop", "inquiry"),
        ("@velora what would a second strap cost", "inquiry"),
        ("Thanks. How long does the battery last", "inquiry"),
        ("dove sono finiti i miei pacchi", "inquiry"),
        ("I know where is the shop", "other"),
        ("so che dove sono i negozi", "other"),
    ],
)
def test_a_sentence_opening_like_a_question_is_one_without_a_question_mark(text: str, category: str) -> None:
    assert CLASSIFIER.classify(text).category == category


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("a new guide to help you plan your trip", "other"),
        ("I need someone to help me with my booking", "inquiry"),
        ("help, the app will not open", "inquiry"),
    ],
)
def test_help_offered_is_not_help_asked_for(text: str, category: str) -> None:
    assert CLASSIFIER.classify(text).category == category


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("new watch, what's not to love", "praise"),
        ("a camera like no other", "praise"),
        ("support couldn't be better", "praise"),
        ("this app never disappoints", "praise"),
        ("l'assistenza non potrebbe andare meglio", "praise"),
        ("un servizio come nessun altro", "praise"),
        ("questa app non delude mai", "praise"),
        ("never had a problem with this watch", "praise"),
        ("mai avuto problemi con questo orologio", "praise"),
    ],
)
def test_praise_said_through_a_negation_is_praise(text: str, category: str) -> None:
    assert CLASSIFIER.classify(text).category == category


@pytest.mark.parametrize(
    "text",
    [
        "my order number is 1234, kind regards",
        "the order still has not arrived. Best regards, Anna",
        "il numero dell'ordine è 1234, buona giornata",
    ],
)
def test_a_sign_off_is_not_praise(text: str) -> None:
    assert CLASSIFIER.classify(text).category != "praise"


@pytest.mark.parametrize(
    "text", ["dropping by the store later", "shameless plug: our new podcast", "non stop flight"]
)
def test_idioms_made_of_complaint_words_are_no_complaint(text: str) -> None:
    assert CLASSIFIER.classify(text).category != "complaint"


@pytest.mark.parametrize(
    "text",
    [
        "you kept us waiting at the desk, you need to hire more staff",
        "the flight was pushed back again",
        "charging twice is illegal",
        "ci avete fatto aspettare al banco, dovete assumere più personale",
        "il volo è stato posticipato di nuovo",
        "addebitare due volte è illegale",
    ],
)
def test_being_kept_waiting_understaffing_and_illegal_practices_are_complaints(text: str) -> None:
    assert CLASSIFIER.classify(text).category == "complaint"


@pytest.mark.parametrize(
    "text",
    [
        "the new app works like a charm, great value",
        "snappy, responsive and convenient",
        "che figata la nuova app, funziona alla grande",
        "app fluida e intuitiva",
    ],
)
def test_everyday_words_of_product_praise_count(text: str) -> None:
    assert CLASSIFIER.classify(text).category == "praise"


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("I really like the new app", "praise"),
        ("I don't like the new app", "complaint"),
        ("the support team is killing it", "praise"),
        ("mi piace la nuova app", "praise"),
        ("non mi piace la nuova app", "complaint"),
        ("sono affezionato a questa app", "praise"),
    ],
)
def test_liking_and_not_liking(text: str, category: str) -> None:
    assert CLASSIFIER.classify(text).category == category


@pytest.mark.parametrize(
    "text",
    ["so hyped for the launch tomorrow", "eager to try the new watch", "emozionato per il lancio di domani"],
)
def test_excitement_before_a_launch_is_praise(text: str) -> None:
    assert CLASSIFIER.classify(text).category == "praise"


def test_a_long_posts_cues_are_found_at_the_words_where_they_stand() -> None:
    """A post past a few thousand characters finds its cues' words without counting from its start
    for each one, and finds the same words."""
    filler = "the weather was fine and we walked along the river " * 400
    text = f"{filler}my phone is not working {filler}thank you"
    tokens = tokenize(text)
    hits = {(position, size) for position, size, _ in load_lexicon("en").read(tokens).hits}
    working = tokens.words.index("working")
    assert (working - 1, 2) in hits, "'not working' starts at 'not'"
    thank = len(tokens.words) - 2
    assert tokens.words[thank] == "thank" and any(position == thank for position, _ in hits)
    assert RuleClassifier().classify(text).category == "complaint"
