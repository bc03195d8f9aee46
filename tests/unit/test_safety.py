"""The safety layer decides by family, by person and by context; crisis wins."""

from __future__ import annotations

import pytest

from bot.knowledge.chattext import ChatNormalizer
from bot.knowledge.crisis_model import BUCKETS, CrisisModel, features
from bot.knowledge.safety import Concern, Safety
from bot.paths import content_dir


@pytest.fixture(scope="module")
def safety() -> Safety:
    return Safety.load(content_dir())


def test_chat_spelling_becomes_one_normal_form() -> None:
    normal = ChatNormalizer(
        {"k": "ik", "der": "er", "nie": "niet", "wanna": "want to", "kms": "kill myself"},
        {"zelf moord": "zelfmoord", "self harm": "selfharm"},
        ["zelfmoord", "suicide"],
    ).normalize
    assert normal("k wil der nie meer zijn") == "ik wil er niet meer zijn"
    assert normal("Zelf-moord") == "zelfmoord"
    assert normal("zelf moord") == "zelfmoord"
    assert normal("self harm") == "selfharm"
    assert normal("ik wil dooooood!!") == "ik wil dood |"
    assert normal("zelfmoort") == "zelfmoord"  # a typo of a key word
    assert normal("suÏcide") == "suicide"  # accents folded
    assert normal("wanna kms") == "want to kill myself"
    assert normal("ok. dag") == "ok | dag"  # a sentence end is a clause mark


@pytest.mark.parametrize(
    ("message", "family"),
    [
        ("ik wil er niet meer zijn", "death_wish"),
        ("I hope I don't wake up tomorrow", "death_wish"),
        ("ik heb er al een paar keer aan gedacht om er een eind aan te maken", "suicide"),
        ("I've been thinking about killing myself", "suicide"),
        ("ik ben weer aan het krassen", "self_harm"),
        ("I've been cutting myself again", "self_harm"),
        ("dit is mijn afscheidsbrief, zorg goed voor mijn kat als ik er niet meer ben", "farewell"),
        ("iedereen is beter af zonder mij", "hopelessness"),
        ("ik heb mijn slaappillen al weken opgespaard", "plan_method"),
        ("ik weet welke brug hoog genoeg is", "plan_method"),
    ],
)
def test_each_family_is_the_senders_crisis(safety: Safety, message: str, family: str) -> None:
    found = safety.crisis(message)
    assert found is not None
    assert found.concern is Concern.CRISIS
    line = safety.normalizer.normalize(message)
    assert family in {signal.family for signal in safety.lexicon.signals(line)}


def test_a_plan_with_pills_is_a_crisis_before_it_is_a_medicine_question(safety: Safety) -> None:
    assert safety.is_medical("ik heb mijn slaappillen opgespaard")
    assert safety.assess("ik heb mijn slaappillen opgespaard").concern is Concern.CRISIS


@pytest.mark.parametrize(
    "message",
    [
        "mijn vriend zegt dat hij er een eind aan wil maken",
        "my daughter has been cutting herself",
        "een cliënt van mij zei dat ze hoopt niet meer wakker te worden",
    ],
)
def test_someone_elses_crisis_gets_the_reply_for_helping(safety: Safety, message: str) -> None:
    assert safety.assess(message).concern is Concern.CRISIS_OTHER


@pytest.mark.parametrize(
    "message",
    [
        "wat doet 113 eigenlijk?",
        "hoe herken ik suïcidale signalen bij mijn leerlingen",
        "ik las in de krant over een zelfmoord op het spoor",
        "is er een training suïcidepreventie voor huisartsen?",
    ],
)
def test_news_and_prevention_questions_get_information(safety: Safety, message: str) -> None:
    assert safety.assess(message).concern is Concern.INFO


@pytest.mark.parametrize(
    "message",
    [
        "mijn accu is dood",
        "de plant is dood",
        "ik ben doodmoe",
        "ik ga dood van de honger",
        "ik wil niet meer naar die sportclub",
        "this traffic is killing me",
        "ik heb mezelf gesneden bij het koken, pleister erop",
        "we gaan in de zomer van de brug springen om te zwemmen",
        "ik stop ermee. met roken dan he",
    ],
)
def test_everyday_words_are_no_crisis(safety: Safety, message: str) -> None:
    found = safety.crisis(message)
    assert found is None or not found.is_crisis, found


@pytest.mark.parametrize(
    ("message", "topic"),
    [
        ("ik voel me zo eenzaam", "eenzaam"),
        ("ik pieker veel en slaap slecht", "piekeren_slaap"),
        ("I feel so stressed about work", "stress"),
        ("de zorg voor mijn moeder met dementie valt me zwaar", "mantelzorg"),
    ],
)
def test_ordinary_feelings_are_support(safety: Safety, message: str, topic: str) -> None:
    found = safety.assess(message)
    assert found.concern is Concern.SUPPORT
    assert found.topic == topic


def test_a_professionals_question_about_feelings_is_not_their_feeling(safety: Safety) -> None:
    assert safety.feeling("hoe bespreek ik eenzaamheid met een cliënt") is None


def test_a_joke_cancels_words_but_not_a_plan(safety: Safety) -> None:
    assert safety.crisis("haha ik ga me ophangen, de kerstversiering dan he") is None
    found = safety.crisis("haha ik heb al mijn pillen opgespaard, vanavond gebeurt het")
    assert found is not None and found.is_crisis


def test_the_classifier_is_loaded_and_applied_with_numpy_alone(safety: Safety) -> None:
    model = safety.model
    assert model is not None
    assert model.weights.shape == (BUCKETS,)
    assert 0.5 <= model.threshold < 1.0
    line = safety.normalizer.normalize("ik zie het leven niet meer zitten en wil gaan slapen")
    assert model.probability(line) > model.probability("wanneer is het volgende leeratelier")
    assert features("a b") == features("a b")  # a stable hash: the same features every run


def test_a_missing_model_is_no_model(tmp_path: object) -> None:
    from pathlib import Path

    assert CrisisModel.load(Path(str(tmp_path)) / "missing.npz") is None


def _unsubscribe_buttons() -> list[str]:
    """The unsubscribe button under an announcement, in each language and topic, as
    someone who types it instead of tapping it would send it."""
    from bot.yamltext import load_yaml

    texts = []
    for language in ("nl", "en"):
        path = content_dir() / "messages" / language / "broadcast.yaml"
        announce = load_yaml(path.read_text(encoding="utf-8"))["announce"]
        texts += [announce["unsubscribe"].format(topic=t) for t in announce["topics"].values()]
    return texts


@pytest.mark.parametrize(
    "message",
    [
        "ik wil geen berichten meer",
        "I do not want any more messages",
        "k wil gn berichte meer",
        "ik wil de check-in herinnering niet meer",
        "stop sending me messages, I don't want them anymore",
        "hou maar op met die berichten, ik wil ze niet meer",
        "ik wil deze bot niet meer gebruiken",
        "I don't want to hear about the agenda anymore",
        *_unsubscribe_buttons(),
    ],
)
def test_wanting_no_more_messages_is_no_crisis(safety: Safety, message: str) -> None:
    found = safety.crisis(message)
    assert found is None or not found.is_crisis, found


@pytest.mark.parametrize(
    "message",
    [
        "ik wil geen berichten meer, ik wil er gewoon niet meer zijn",
        "ik wil geen berichten meer, ik wil niks meer",  # the classifier reads the wish
        "geen meldingen meer. ik wil geen leven meer",
        "I don't want any more messages, I don't want to be here anymore",
        "no more reminders needed, I have the pills ready",
        "ik wil niks meer",
        "ik wil geen dag meer zo verder",
        "ik wil geen nieuwe dag meer",
        "ik trek het niet meer",
        "ik krijg geen berichten meer van niemand, niemand mist me",  # no request at all
    ],
)
def test_a_wish_beside_a_request_for_no_more_messages_is_a_crisis(
    safety: Safety, message: str
) -> None:
    assert safety.assess(message).concern is Concern.CRISIS


def test_the_classifier_reads_the_message_without_the_request(safety: Safety) -> None:
    line = safety.normalizer.normalize("ik wil geen berichten meer, ik wil niks meer")
    assert safety.lexicon.without_requests(line) == "ik wil niks meer"
    line = safety.normalizer.normalize("ik wil geen berichten meer, ik wil er niet meer zijn")
    assert safety.lexicon.without_requests(line) == "ik wil er niet meer zijn"
    line = safety.normalizer.normalize("ik wil niet meer leven")
    assert safety.lexicon.without_requests(line) == line


def test_a_strain_with_its_cause_stays_a_feeling(safety: Safety) -> None:
    found = safety.assess("ik trek het niet meer met die kapotte lift, drie weken al")
    assert not found.is_crisis


def test_a_building_block_may_have_a_digit_and_an_unknown_one_is_an_error() -> None:
    from bot.knowledge.crisis import expand

    assert expand("a {G5} b", {"G5": "x"}) == "a x b"
    with pytest.raises(ValueError, match="unknown building block"):
        expand("a {GAP2} b", {})
    assert expand("(?:a ){0,3}", {}) == "(?:a ){0,3}"  # a quantifier is no building block


def test_the_crisis_check_of_a_message_runs_once_for_the_middleware_and_the_answerer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    safety = Safety.load(content_dir())  # its own: the memory of recent lines is per object
    looked: list[str] = []
    signals = safety.lexicon.signals

    def counted(line: str) -> object:
        looked.append(line)
        return signals(line)

    monkeypatch.setattr(safety.lexicon, "signals", counted)
    message = "ik wil er niet meer zijn"
    assert safety.is_crisis(message)  # the middleware's question
    assert safety.assess(message).concern is Concern.CRISIS  # the answerer's
    assert len(looked) == 1
    for number in range(100):  # the memory stays small: old lines are looked at again
        safety.crisis(f"vraag {number}")
    safety.crisis(message)
    assert len(looked) == 102


@pytest.mark.parametrize(
    "message",
    [
        "Sorry als dit al eens gevraagd is, maar wanneer is het volgende leeratelier?",
        "Sorry als dit al eens gevraagd is",
        "Sorry if this has been asked before, when is the next leeratelier?",
    ],
)
def test_an_apology_for_asking_is_no_crisis(safety: Safety, message: str) -> None:
    assert not safety.is_crisis(message)


@pytest.mark.parametrize(
    "message",
    [
        "sorry voor alles, jullie zijn beter af zonder mij",
        "sorry voor de moeite, ik wil er niet meer zijn",
        "sorry dat ik stoor maar ik heb mijn pillen opgespaard",
    ],
)
def test_an_apology_beside_a_crisis_is_still_a_crisis(safety: Safety, message: str) -> None:
    assert safety.is_crisis(message)
