"""The Norwegian analysis: lexicon (Ordbank lemmas, nynorsk, compounds), the analyzer, the thesaurus, snippets."""

from __future__ import annotations

import pytest

from ingest.analysis import (
    analyze_word, best_snippets, is_stop_word, load_thesaurus, mark, norwegian_analyzer, phrase_terms, words,
)
from ingest.lexicon import lemma, split_compound, to_bokmal


@pytest.mark.parametrize(("word", "parts"), [
    ("hjemmetjenesten", ("hjemme", "tjeneste")),
    ("velferdsteknologi", ("velferd", "teknologi")),
    ("bostedsløse", ("bosted", "løs")),  # a linking s wins over bosted + sløse
    ("innovasjonsprisen", ("innovasjon", "pris")),
    ("arbeidstrening", ("arbeid", "trening")),  # not arbeid + strening
    ("nattilsyn", ("natt", "tilsyn")),  # natt|tilsyn: the third t dropped in writing is restored
    ("heimetenesta", ("hjemme", "tjeneste")),  # nynorsk parts come out in bokmål
    ("innbyggjarpanel", ("innbygger", "panel")),
    ("skulebygg", ("skole", "bygg")),  # skule is a nynorsk word here, not the bokmål verb
    ("bussjåfør", ("buss", "sjåfør")),
])
def test_compounds_split_into_lemmas(word: str, parts: tuple[str, ...]) -> None:
    assert split_compound(word) == parts


@pytest.mark.parametrize("word", [
    "tjenesten", "ansatte", "ungdom", "innbyggerne", "utvikling", "kommunene", "tilsyn", "programmering",
    "samarbeid", "oppfølging", "skolen",
])
def test_plain_words_are_not_split(word: str) -> None:
    assert split_compound(word) == ()


def test_lemma_of_an_unknown_compound_keeps_its_first_parts() -> None:
    assert lemma("innovasjonsprisen") == "innovasjonspris"
    assert lemma("hjemmetjenesten") == "hjemmetjeneste"
    assert lemma("heimetenesta") == "hjemmetjeneste"
    assert lemma("heimeoppfølginga") == "hjemmeoppfølging"  # nynorsk first part brought to bokmål too
    assert lemma("nattilsynet") == "nattilsyn"


@pytest.mark.parametrize(("nynorsk", "bokmal"), [
    ("skule", "skole"), ("tenesta", "tjenesten"), ("kommunar", "kommuner"), ("innbyggjarane", "innbyggerne"),
    ("løysingane", "løsningene"), ("tilbodet", "tilbudet"), ("bebuarane", "beboerne"), ("kvardagsmeistring",
                                                                                        "hverdagsmestring"),
])
def test_nynorsk_and_bokmal_forms_meet(nynorsk: str, bokmal: str) -> None:
    a, b = analyze_word(nynorsk), analyze_word(bokmal)
    assert a is not None and b is not None
    assert a.whole == b.whole


def test_to_bokmal_leaves_bokmal_and_unknown_words_alone() -> None:
    assert to_bokmal("kommunene") == "kommunene"
    assert to_bokmal("xyzzyar") == "xyzzyar"


@pytest.mark.parametrize("word", ["ikkje", "ikke", "korleis", "hvordan", "og", "eit", "frå", "meir"])
def test_stop_words_both_standards(word: str) -> None:
    assert is_stop_word(word)
    assert analyze_word(word) is None


def test_inflections_meet_through_lemma_and_stem() -> None:
    forms = ["søknad", "søknaden", "søknadene", "søknader"]
    assert len({analyze_word(f).whole for f in forms}) == 1  # type: ignore[union-attr]
    assert analyze_word("gikk").whole == analyze_word("gå").whole  # type: ignore[union-attr]


def test_analyzer_keeps_compound_whole_and_adds_parts_at_its_position() -> None:
    text = "Velferdsteknologi i heimetenesta"
    tokens = [(t.text, t.pos, t.startchar, t.endchar)
              for t in norwegian_analyzer()(text, positions=True, chars=True)]
    velferd = analyze_word("velferd").whole  # type: ignore[union-attr]
    teknologi = analyze_word("teknologi").whole  # type: ignore[union-attr]
    whole = analyze_word("velferdsteknologi").whole  # type: ignore[union-attr]
    assert (whole, 0, 0, 17) in tokens
    assert (velferd, 0, 0, 17) in tokens and (teknologi, 0, 0, 17) in tokens
    hjemme_part = analyze_word("hjemme").whole  # type: ignore[union-attr]
    assert any(t[0] == hjemme_part and t[1] == 1 and text[t[2]:t[3]] == "heimetenesta" for t in tokens)
    assert all(t[1] in (0, 1) for t in tokens)  # the stop word "i" takes no position


def test_analyzer_keeps_norwegian_letters_and_folds_case() -> None:
    texts = [t.text for t in norwegian_analyzer()("ØYGARDEN Bærum Ålesund")]
    assert {"øygard", "bærum"} <= set(texts)
    assert any(t.startswith("ålesund") for t in texts)


def test_analyzer_marks_stop_words_when_asked_to_keep_them() -> None:
    tokens = [(t.text, t.stopped) for t in norwegian_analyzer()("ikkje skule", removestops=False)]
    assert ("ikkje", True) in tokens and (analyze_word("skule").whole, False) in tokens  # type: ignore[union-attr]


def test_words_drop_operators_and_normalize_unicode() -> None:
    assert words('"bolig" AND (ungdom) title:skole -x') == ["bolig", "AND", "ungdom", "title", "skole", "x"]
    assert words("a\u030angstrøm") == ["ångstrøm"]  # a + combining ring becomes å


def test_thesaurus_is_data_and_matches_analyzed_queries() -> None:
    thesaurus = load_thesaurus()
    assert len(thesaurus.groups) > 20
    found = thesaurus.expansions(phrase_terms("velferdsteknologi i heimetenesta"))
    members = {m.text for _, _, group in found for m in group}
    assert {"e-helse", "digital hjemmeoppfølging"} <= members
    # a phrase member matches the same words in a query, in nynorsk too
    found = thesaurus.expansions(phrase_terms("digital heimeoppfølging for eldre"))
    assert any(start == 0 and end == 2 for start, end, _ in found)


def test_snippets_prefer_the_passage_with_more_of_the_query_and_mark_compounds() -> None:
    weights = {analyze_word("natt").whole: 1.0, analyze_word("sensor").whole: 1.0}  # type: ignore[union-attr]
    passages = ["Vi har mange brukere.", "Sensoren varsler.", "Nattilsyn med sensor erstatter besøk."]
    best = best_snippets(passages, weights, "[", "]", top=2)
    assert best[0].source == 2
    assert best[0].text == "[Nattilsyn] med [sensor] erstatter besøk."
    assert best[1].source == 1
    assert mark("Ingen treff her", weights, "[", "]") == ""


def test_long_passages_are_cut_around_the_matches() -> None:
    weights = {analyze_word("bolig").whole: 1.0}  # type: ignore[union-attr]
    text = "Innledning " * 60 + "her kommer en bolig for unge " + "avslutning " * 60
    (snippet,) = best_snippets([text], weights, "[", "]", top=1, width=120)
    assert "[bolig]" in snippet.text
    assert snippet.text.startswith("…") and snippet.text.endswith("…")
    assert len(snippet.text) <= 130
