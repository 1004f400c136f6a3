"""Search quality: the judged questions in eval/ against a plain Whoosh baseline, cross-language search,
merged municipalities, similar innovations, search by description, "mente du", snippets and reasons.

Most tests run on the real temporary index of the sample corpus; a few on a small index written from records
to pin down one mechanism at a time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ingest.records import Application, InnovationExample, Municipality, Passage, Section
from ingest.searchindex import MARK_END, MARK_START, SearchIndex
from search_app.api import Library
from search_app.cli import main
from search_app.search_eval import evaluate_search, judgment_key, load_questions, ndcg, recall, reciprocal_rank

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ROOT / "eval" / "questions.toml"


@pytest.fixture(scope="module")
def lib(corpus_index: tuple[Path, Any]) -> Library:
    return Library(corpus_index[0])


@pytest.fixture(scope="module")
def report(corpus_index: tuple[Path, Any]) -> Any:
    return evaluate_search(QUESTIONS, ROOT / "corpus", index_root=corpus_index[0])


@pytest.fixture(scope="module")
def key_to_id(corpus_index: tuple[Path, Any]) -> dict[str, str]:
    index = SearchIndex.open(corpus_index[0])
    return {judgment_key(d["file"], d["id"]): d["id"] for d in index.all_examples()}


# --- the metrics themselves --------------------------------------------------------------------------


def test_metrics_on_hand_computed_rankings() -> None:
    grades = {"a": 3, "b": 1, "c": 2}
    assert ndcg(["a", "c", "b"], grades) == pytest.approx(1.0)
    assert ndcg(["x", "y"], grades) == 0.0
    assert 0.0 < ndcg(["b", "a"], grades) < ndcg(["a", "b"], grades) < 1.0
    assert recall(["a", "x", "c"], grades) == pytest.approx(2 / 3)
    assert reciprocal_rank(["x", "y", "b"], grades) == pytest.approx(1 / 3)
    assert reciprocal_rank(["x"], grades) == 0.0


def test_judgment_keys_map_to_index_ids(key_to_id: dict[str, str]) -> None:
    assert judgment_key("pdf/2016/2016-drammen.pdf", "0123456789ab-2") == "2016/2016-drammen#2"
    judged = {k for q in load_questions(QUESTIONS) for k in q.judgments}
    missing = judged - set(key_to_id)
    # only examples that cannot be indexed (scans without a text layer) may be missing
    assert len(missing) <= 6, missing


# --- the numbers the issue asks for ---------------------------------------------------------------------


def test_innosok_beats_the_plain_baseline_on_the_development_questions(report: Any) -> None:
    ours, base = report.overall["innosok"], report.overall["baseline"]
    assert ours.questions == len(load_questions(QUESTIONS))
    assert ours.ndcg10 >= 0.75
    assert ours.ndcg10 >= base.ndcg10 + 0.10
    assert ours.recall20 > base.recall20 and ours.mrr >= base.mrr
    assert "nDCG@10" in report.table() and "baseline" in report.table()


def test_nynorsk_questions_gain_most(report: Any) -> None:
    nn = report.by_language["nn"]
    assert nn["innosok"].ndcg10 >= nn["baseline"].ndcg10 + 0.2


@pytest.mark.parametrize(("question_language", "answer_language"), [("nn", "nb"), ("nb", "nn")])
def test_questions_find_answers_written_in_the_other_standard(
    lib: Library, key_to_id: dict[str, str], corpus_index: tuple[Path, Any],
    question_language: str, answer_language: str,
) -> None:
    language = {d["id"]: d["language"] for d in SearchIndex.open(corpus_index[0]).all_examples()}
    asked = found = 0
    for q in load_questions(QUESTIONS):
        if q.language != question_language:
            continue
        targets = {key_to_id[k] for k, g in q.judgments.items()
                   if g >= 2 and k in key_to_id and language[key_to_id[k]] == answer_language}
        if targets:
            asked += 1
            found += bool(targets & {h.example_id for h in lib.search(q.text, limit=10).hits})
    assert asked >= 10
    assert found / asked >= 0.8


def test_issue_examples(lib: Library, key_to_id: dict[str, str]) -> None:
    q01 = next(q for q in load_questions(QUESTIONS) if q.id == "q01")  # the same need, asked in nynorsk
    welfare = {key_to_id[k] for k in q01.judgments if k in key_to_id}
    top = lib.search("velferdsteknologi i hjemmetenesta", limit=5).hits
    assert sum(h.example_id in welfare for h in top) >= 4
    assert lib.search("bostedsløse ungdom bolig", limit=1).hits[0].title == "Ungdomsbolig for bostedsløse unge"
    titles = [h.title.lower() for h in lib.search("skule programmering", limit=3).hits]
    assert all("programmering" in t or "teknologiskulen" in t for t in titles)


@pytest.mark.parametrize(("query", "predecessors"), [
    ("Nordre Follo", {"Ski kommune", "Oppegård kommune"}),
    ("Øygarden kommune flyktningar", {"Fjell kommune"}),
    ("ungdomen i Bjørnafjorden", {"Os kommune"}),
])
def test_a_merged_municipality_in_the_query_finds_its_predecessors(
    lib: Library, query: str, predecessors: set[str],
) -> None:
    hits = lib.search(query, limit=5).hits
    assert hits[0].municipality in predecessors
    assert any("i dag" in r or "kommunen" in r for r in hits[0].reasons)


# --- snippets, reasons, suggestions ------------------------------------------------------------------------


def test_hits_carry_marked_snippets_and_reasons(lib: Library) -> None:
    hit = lib.search("tilsyn natt sensor", limit=1).hits[0]
    assert MARK_START in hit.snippet and MARK_END in hit.snippet
    marked = [w.split(MARK_END)[0].lower() for w in hit.snippet.split(MARK_START)[1:]]
    assert any("natt" in w or "tilsyn" in w or "sensor" in w for w in marked)
    assert hit.reasons and all(isinstance(r, str) and r for r in hit.reasons)


def test_a_word_only_inside_compounds_is_explained(tmp_path: Path) -> None:
    index = _small_index(tmp_path)
    hit = index.search("natt").hits[0]
    assert hit.example_id == "bbbbbbbbbbbb-1"
    assert f"{MARK_START}Nattilsyn{MARK_END}" in hit.snippet or f"{MARK_START}nattilsyn{MARK_END}" in hit.snippet


def test_did_you_mean_uses_the_index_vocabulary(lib: Library) -> None:
    assert lib.suggestion("velferdsteknlogi") == "velferdsteknologi"
    assert lib.suggestion("bostedslose ungdom") == "bostedsløse ungdom"
    assert lib.suggestion("velferdsteknologi") == ""  # nothing to correct
    result = lib.search("innbyggerpannel")
    assert result.suggestion == "innbyggerpanel"
    assert lib.search("xqzvy").suggestion == ""


# --- similar innovations and search by description ---------------------------------------------------


def test_similar_innovations_come_from_other_applications(lib: Library, key_to_id: dict[str, str]) -> None:
    q01 = next(q for q in load_questions(QUESTIONS) if q.id == "q01")
    welfare = {key_to_id[k] for k, g in q01.judgments.items() if g >= 2 and k in key_to_id}
    source = key_to_id["2016/2016-drammen#1"]
    result = lib.similar(source, limit=5)
    own_app = lib.show(source).application.id
    assert result.hits and all(h.application_id != own_app for h in result.hits)
    assert sum(h.example_id in welfare for h in result.hits) >= 3
    assert any(r.startswith("felles ord") for r in result.hits[0].reasons)


def test_similar_to_an_unknown_example_is_a_clear_error(lib: Library) -> None:
    from ingest.errors import RecordNotFoundError

    with pytest.raises(RecordNotFoundError, match="Fant ikke"):
        lib.similar("000000000000-9")


def test_search_by_description(lib: Library, key_to_id: dict[str, str]) -> None:
    q04 = next(q for q in load_questions(QUESTIONS) if q.id == "q04")
    best = {key_to_id[k] for k, g in q04.judgments.items() if g == 3 and k in key_to_id}
    top3 = {h.example_id for h in lib.by_description(q04.text, limit=3).hits}
    assert len(best & top3) >= 2
    assert lib.by_description("og i på").hits == ()


# --- the command ----------------------------------------------------------------------------------------


def test_eval_search_command(
    corpus_index: tuple[Path, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    few = tmp_path / "questions.toml"  # three of the judged questions keep the command's test short
    blocks = QUESTIONS.read_text(encoding="utf-8").split("[[questions]]")
    few.write_text("[[questions]]".join(blocks[:4]), encoding="utf-8")
    args = ["eval", "search", "--index", str(corpus_index[0]), "--questions", str(few)]
    assert main([*args, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data["overall"]) == {"baseline", "innosok"}
    assert len(data["questions"]) == 2 * 3
    assert all(0.0 <= q["ndcg@10"] <= 1.0 and len(q["top10"]) <= 10 for q in data["questions"])
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "nDCG@10" in out and "recall@20" in out and "MRR" in out and "baseline" in out


def test_eval_search_reports_a_missing_questions_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "search", "--questions", str(tmp_path / "nope.toml")]) == 2
    assert "Fant ikke spørsmålsfilen" in capsys.readouterr().err


# --- a small index written from records -----------------------------------------------------------------


def _example(app_id: str, title: str, paragraphs: list[str]) -> InnovationExample:
    ex_id = f"{app_id}-1"
    return InnovationExample(
        id=ex_id, application_id=app_id, number=1, title=title,
        sections=(Section("beskrivelse", "Beskrivelse", "\n\n".join(paragraphs)),),
        passages=tuple(Passage(f"{ex_id}-p{i}", ex_id, "beskrivelse", p, 1, i) for i, p in enumerate(paragraphs)),
    )


def _small_index(tmp_path: Path) -> SearchIndex:
    docs = [
        ("aaaaaaaaaaaa", "Voss kommune", "nn", "Digital heimeteneste", [
            "Heimetenesta nyttar nettbrett i kvardagen.", "Brukarane får betre oppfølging."]),
        ("bbbbbbbbbbbb", "Bærum kommune", "nb", "Tryggere netter", [
            "Nattilsyn med sensorer erstatter fysiske besøk.", "Ansatte sparer tid."]),
        ("cccccccccccc", "Asker kommune", "nb", "Skolebibliotek", ["Biblioteket er åpent for elever."]),
    ]
    index = SearchIndex.create_generation(tmp_path / "index")
    with index.batch() as batch:
        for app_id, name, language, title, paragraphs in docs:
            batch.add(Application(
                id=app_id, file=f"pdf/2017/{app_id}.pdf", sha256=app_id * 5, year=2017, form="2016-2019",
                municipality=Municipality(written=name, name=name.removesuffix(" kommune")), language=language,
                examples=(_example(app_id, title, paragraphs),),
            ))
    return index


def test_bokmal_query_finds_nynorsk_text_and_the_reverse(tmp_path: Path) -> None:
    index = _small_index(tmp_path)
    assert index.search("hjemmetjenesten").hits[0].example_id == "aaaaaaaaaaaa-1"
    assert index.search("skulebiblioteket").hits[0].example_id == "cccccccccccc-1"


def test_a_phrase_must_match_in_order(tmp_path: Path) -> None:
    index = _small_index(tmp_path)
    assert [h.example_id for h in index.search('"fysiske besøk"').hits] == ["bbbbbbbbbbbb-1"]
    assert index.search('"besøk fysiske"').hits == ()
