"""Curators' labels feed the tagger: they replace gold rows in training, a new model re-tags the whole
index on the next ingest (also files unchanged on disk), and `innosok eval tags --curated` scores the
tagger against them. Real sample PDFs, a real index and a real SQLite store; the gold is cut down to
the five applications read, so each training takes seconds."""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conftest import CORPUS, copy_sample
from ingest import tagging
from ingest.curation import CurationStore, Decision, curated_labels
from ingest.golddata import LabelledPassage, curated_training, load_gold, training_key
from ingest.pipeline import MODEL_CHANGED, TAGGER_KEY_FILE, IngestReport, ingest, recorded_tagger_key
from ingest.records import InnovationExample, Passage, Section, from_dict
from ingest.searchindex import SearchIndex
from ingest.tag_eval import NO_CURATED_LABELS
from search_app.cli import main

SMALL = ("pdf/2015/2015-asker.pdf", "pdf/2016/2016-bergen.pdf", "pdf/2017/2017-stjordal.pdf",
         "pdf/2018/2018-molde.pdf", "pdf/2019/2019-kristiansand.pdf")
RELABELLED = ("pdf/2016/2016-bergen.pdf", 2)  # gold: helse;oppvekst — the curator says kultur
RECRITERIA = ("pdf/2017/2017-stjordal.pdf", 1)  # the curator keeps only nyhet
RECOMMENDED = ("pdf/2018/2018-molde.pdf", 1)  # recommended only: no label, not training data


def _snapshot(index_root: Path) -> dict[tuple[str, int], tuple[str, InnovationExample]]:
    """(file, number) -> (example id, example record) as the index holds them."""
    index = SearchIndex.open(index_root)
    try:
        out = {}
        for fields in index.all_examples():
            ex = from_dict(InnovationExample, json.loads(fields["payload"]))
            out[(fields["file"], ex.number)] = (ex.id, ex)
        return out
    finally:
        index.close()


def _key(index_root: Path) -> str | None:
    index = SearchIndex.open(index_root)
    try:
        return recorded_tagger_key(index)
    finally:
        index.close()


@dataclass(frozen=True)
class Scenario:
    corpus: Path
    gold: Path
    index: Path
    store: Path
    ids: dict[tuple[str, int], str]
    key_before: str | None
    before: dict[tuple[str, int], tuple[str, InnovationExample]]
    curated_run: IngestReport
    key_after: str | None
    after: dict[tuple[str, int], tuple[str, InnovationExample]]
    quiet_run: IngestReport
    key_quiet: str | None


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    """Ingest five sample PDFs, curate three examples, ingest again (nothing changed on disk), and again."""
    base = tmp_path_factory.mktemp("curated-training")
    corpus = copy_sample(base / "corpus", SMALL)
    gold = corpus / "gold"
    gold.mkdir()
    for name in ("examples.csv", "answers.csv"):
        with (CORPUS / "gold" / name).open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            fields, rows = reader.fieldnames, [r for r in reader if r["file"] in SMALL]
        with (gold / name).open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=fields or [])
            writer.writeheader()
            writer.writerows(rows)
    index, store = base / "index", base / "kurering.sqlite"

    first = ingest(corpus, index, progress=False, curation=store, gold_dir=gold)
    assert not first.problems and first.examples == 9
    before = _snapshot(index)
    key_before = _key(index)
    ids = {k: v[0] for k, v in before.items()}

    curators = CurationStore(store)
    curators.save(Decision(ids[RELABELLED], sectors=("kultur",)), user="kari", expected_version=0)
    curators.save(Decision(ids[RECRITERIA], criteria=("nyhet",)), user="kari", expected_version=0)
    curators.save(Decision(ids[RECOMMENDED], recommended=True, note="Godt eksempel"), user="kari",
                  expected_version=0)

    curated_run = ingest(corpus, index, progress=False, curation=store, gold_dir=gold)
    key_after = _key(index)
    after = _snapshot(index)
    quiet_run = ingest(corpus, index, progress=False, curation=store, gold_dir=gold)
    return Scenario(corpus, gold, index, store, ids, key_before, before, curated_run, key_after, after, quiet_run,
                    _key(index))


# -- (a) the training set and the model key -----------------------------------------------------------


def test_a_curated_sector_label_replaces_the_gold_row_and_changes_the_model(scenario: Scenario) -> None:
    gold = load_gold(scenario.gold)
    examples = [(file, ex) for (file, _), (_, ex) in scenario.before.items()]
    extra = curated_training(examples, curated_labels(scenario.store), gold)
    assert [(e.application, e.number, e.sectors) for e in extra.examples] == [(*RELABELLED, ("kultur",))]
    assert extra.examples[0].phase == "i_bruk"  # the gold phase stays: curators do not set phases
    assert extra.examples[0].text == scenario.before[RELABELLED][1].text  # the text as the index holds it

    training = gold.with_extra(extra.examples, extra.passages, "kurator")
    assert len(training.examples) == len(gold.examples)  # replaced, not added beside
    rows = [e for e in training.examples if (e.application, e.number) == RELABELLED]
    assert [e.sectors for e in rows] == [("kultur",)]

    # criteria: the gold answers of the example stay, with every criterion the curator did not keep removed
    def answers(ts: Any) -> list[LabelledPassage]:
        return [p for p in ts.passages if (p.application, p.example) == RECRITERIA]

    assert len(answers(training)) == len(answers(gold)) and len(training.passages) == len(gold.passages)
    assert any(set(p.criteria) - {"nyhet"} for p in answers(gold))
    assert all(set(p.criteria) <= {"nyhet"} for p in answers(training))
    assert any(p.criteria == ("nyhet",) for p in answers(training))

    gold_only = tagging.Tagger.for_index(scenario.index, gold_dir=scenario.gold)
    with_curators = tagging.Tagger.for_index(scenario.index, extra=extra, gold_dir=scenario.gold)
    assert gold_only.models is not None and with_curators.models is not None
    assert with_curators.models.key != gold_only.models.key
    assert scenario.key_before == gold_only.models.key  # what tagged the index before and after curating
    assert scenario.key_after == with_curators.models.key


def test_only_labels_a_curator_set_count_and_keys_follow_the_gold() -> None:
    section = Section("fritekst", "", "Vi gjorde noe nytt.")
    passages = (Passage("0123456789ab-1-p01", "0123456789ab-1", "fritekst", "Vi gjorde noe nytt.", 1, 1),)
    ex = InnovationExample("0123456789ab-1", "0123456789ab", 1, "Tittel", (section,), passages)
    none = curated_training([("2016/x.pdf", ex)], {ex.id: Decision(ex.id, criteria=())})
    assert none.examples == () and [p.criteria for p in none.passages] == [()]  # "no criterion" pins to every passage
    some = curated_training([("2016/x.pdf", ex)], {ex.id: Decision(ex.id, criteria=("nyhet",))})
    assert some.passages == ()  # which passage speaks to «nyhet» is unknown: not invented
    assert curated_training([("2016/x.pdf", ex)], {ex.id: Decision(ex.id, recommended=True)}).examples == ()
    assert training_key("2016/x.pdf", {"pdf/2016/x.pdf", "pdf/2016/y.pdf"}) == "pdf/2016/x.pdf"
    assert training_key("pdf/2016/x.pdf", {"pdf/2016/x.pdf"}) == "pdf/2016/x.pdf"
    assert training_key("annet/x.pdf", {"pdf/2016/x.pdf"}) == "annet/x.pdf"


# -- (b) the next ingest re-tags the whole index ------------------------------------------------------


def test_a_new_model_re_tags_files_unchanged_on_disk(scenario: Scenario) -> None:
    run = scenario.curated_run
    assert MODEL_CHANGED in run.notes
    assert sorted(run.retagged) == sorted(SMALL)  # every file read again, though none changed
    assert (run.added, run.changed, run.removed, run.unchanged) == ((), (), (), len(SMALL))
    assert scenario.key_before and scenario.key_after and scenario.key_after != scenario.key_before

    # the curated example carries the curator's sectors; uncurated ones carry the new model's tags
    curated = scenario.after[RELABELLED][1]
    assert [(t.label, t.source) for t in curated.tags if t.kind == "sector"] == [("kultur", "kurator")]
    untouched = [k for k in scenario.before if k not in (RELABELLED, RECRITERIA)]

    def confidences(snapshot: Any, key: tuple[str, int]) -> list[tuple[str, str, float]]:
        return [(t.kind, t.label, t.confidence) for t in snapshot[key][1].tags]

    assert any(confidences(scenario.before, k) != confidences(scenario.after, k) for k in untouched)
    assert scenario.after[RECOMMENDED][1].recommended  # decisions are still applied on top

    quiet = scenario.quiet_run  # same labels, same texts: the same model, nothing read again
    assert quiet.retagged == () and MODEL_CHANGED not in quiet.notes and quiet.unchanged == len(SMALL)
    assert scenario.key_quiet == scenario.key_after


def test_an_index_without_a_recorded_model_is_tagged_again(scenario: Scenario, tmp_path: Path) -> None:
    index = tmp_path / "index"
    shutil.copytree(scenario.index, index)
    gen = SearchIndex.current_generation(index)
    assert gen is not None
    (gen / TAGGER_KEY_FILE).unlink()  # as an index built before the key was recorded
    report = ingest(scenario.corpus, index, progress=False, curation=scenario.store, gold_dir=scenario.gold)
    assert MODEL_CHANGED in report.notes and sorted(report.retagged) == sorted(SMALL)
    assert _key(index) == scenario.key_after


# -- (c, d) innosok eval tags --curated ---------------------------------------------------------------


def test_eval_tags_against_the_curators(scenario: Scenario, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["eval", "tags", "--curated", "--curation", str(scenario.store), "--corpus", str(scenario.corpus),
            "--folds", "2"]
    assert main([*args, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["folds"], data["applications"], data["examples"]) == (2, 2, 2)
    by_id = {i["example_id"]: i for i in data["items"]}
    assert set(by_id) == {scenario.ids[RELABELLED], scenario.ids[RECRITERIA]}  # «recommended» alone is no label
    relabelled = by_id[scenario.ids[RELABELLED]]
    assert relabelled["curated_sectors"] == ["kultur"] and relabelled["curated_criteria"] is None
    assert relabelled["predicted_sectors"]
    assert by_id[scenario.ids[RECRITERIA]]["curated_criteria"] == ["nyhet"]
    assert data["sector"]["items"] == 1 and data["criterion"]["items"] == 1 and data["not_found"] == []
    assert {r["label"] for r in data["sector"]["labels"] if r["tp"] + r["fn"]} == {"kultur"}

    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Emneord mot kuratorenes merking: 2-delt kryssvalidering" in out
    assert "Sektorer (per eksempel): 1 eksempel\n" in out and "Kriterier (per eksempel): 1 eksempel\n" in out
    assert scenario.ids[RELABELLED] in out and "sektorer: kultur →" in out

    assert main([*args, "--folds", "3"]) == 2  # two curated applications cannot make three folds
    assert "for få til 3 fold" in capsys.readouterr().err


def test_eval_tags_curated_says_when_there_is_nothing_to_score(scenario: Scenario, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "kurering.sqlite"
    args = ["eval", "tags", "--curated", "--curation", str(store), "--corpus", str(scenario.corpus)]
    assert main(args) == 2
    assert "Fant ingen kureringsdatabase" in capsys.readouterr().err
    CurationStore(store).save(Decision(scenario.ids[RELABELLED], recommended=True, note="Fint"), user="kari",
                              expected_version=0)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert NO_CURATED_LABELS in err and "Traceback" not in err
