"""How good are the tags? Cross-validation against the sample corpus' gold labels (`innosok eval tags`).

The folds split by application: the model that tags an application never saw any example of it in
training (siblings in one application share words and authors). The corpus PDFs are read and parsed
as in an ingest, so the numbers include what parsing loses; the gold answers are aligned to the parsed
passages by their words (`golddata.align`).

Criterion tags are scored per parsed passage, against the criteria of the gold answers it carries (a
paragraph that merged two answers must carry the criteria of both), on:
- free-form passages: passages holding an answer whose question is `fritekst` (text the form did not
  tie to a question: the classifier decides), and
- all passages: every passage of an example that holds a gold answer (form answers carry their
  question's criterion).
The applications' «why us» answers are not passages of an example and are not scored.

`evaluate_curated` (`innosok eval tags --curated`) scores against the curators' labels instead: the
training set is the gold with the curators' labels replacing gold rows (as at ingest), the scored items
are the curated examples (sectors and criteria per example, each kind only where a curator set it).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from ingest.curation import curated_labels, default_store_path
from ingest.enrich import enrich
from ingest.errors import ConfigurationError, FileProblemError
from ingest.extract import ExtractLimits, extract, sha256_file
from ingest.golddata import (DEFAULT_GOLD_DIR, SUPPLEMENT, LabelledPassage, TrainingSet, align, curated_training,
                             load_gold, training_key)
from ingest.manifest import load_manifest
from ingest.parse import parse
from ingest.pipeline import discover
from ingest.records import Application
from ingest.register import Register
from ingest.tagging import Tagger, models_for
from ingest.taxonomy import Taxonomy, load_taxonomy

DEFAULT_FOLDS = 5


@dataclass(frozen=True)
class LabelScore:
    """Precision, recall and F1 of one label."""

    label: str
    tp: int
    fp: int
    fn: int
    precision: float
    recall: float
    f1: float

    @property
    def support(self) -> int:
        return self.tp + self.fn


@dataclass(frozen=True)
class Scores:
    """Per-label scores and their micro and macro averages for one kind of tag on one set of items."""

    name: str
    items: int
    labels: tuple[LabelScore, ...]
    micro_precision: float
    micro_recall: float
    micro_f1: float
    macro_precision: float
    macro_recall: float
    macro_f1: float


@dataclass(frozen=True)
class Deal:
    """The headline figures of one deal of the applications into folds (`eval tags --repeats`)."""

    seed: int
    sector_micro_f1: float
    sector_macro_f1: float
    criterion_free_micro_f1: float
    criterion_all_micro_f1: float
    phase_accuracy: float


@dataclass(frozen=True)
class Part:
    """The headline figures of the first deal on one part of the corpus: the archive-shaped sample or its
    supplement of labelled applications (`corpus/supplement/`)."""

    name: str
    applications: int
    examples: int
    free_passages: int
    sector_micro_f1: float
    sector_macro_f1: float
    criterion_free_micro_f1: float
    criterion_all_micro_f1: float
    phase_accuracy: float


@dataclass(frozen=True)
class TagEvaluation:
    """The result of one cross-validation run."""

    folds: int
    applications: int
    examples: int
    skipped: tuple[str, ...]  # files that could not be read (e.g. scans), with the reason
    unaligned: int  # gold answers that no parsed passage carries (their criteria go unscored)
    sector: Scores
    criterion_free: Scores
    criterion_all: Scores
    phase: Scores
    phase_accuracy: float
    sector_thresholds: tuple[float, ...]  # per fold, as learnt from that fold's training labels
    fold_settings: tuple[dict[str, float], ...]  # per fold: everything training learnt (`tagging.Settings`)
    deals: tuple[Deal, ...]  # the first is the one reported above; more with --repeats
    parts: tuple[Part, ...]  # the first deal on the sample and on its supplement, when there is one
    seconds: float

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2)


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def score(name: str, labels: Sequence[str], pairs: Sequence[tuple[Iterable[str], Iterable[str]]]) -> Scores:
    """Scores over (gold labels, predicted labels) pairs. Macro averages the labels seen in gold or predictions."""
    counts = {lab: [0, 0, 0] for lab in labels}
    for gold, pred in pairs:
        g, p = set(gold), set(pred)
        for lab in g | p:
            c = counts.setdefault(lab, [0, 0, 0])
            c[0 if lab in g and lab in p else (1 if lab in p else 2)] += 1
    rows = []
    for lab, (tp, fp, fn) in counts.items():
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        rows.append(LabelScore(lab, tp, fp, fn, round(prec, 4), round(rec, 4), round(_f1(prec, rec), 4)))
    tp, fp, fn = (sum(c[i] for c in counts.values()) for i in range(3))
    mp = tp / (tp + fp) if tp + fp else 0.0
    mr = tp / (tp + fn) if tp + fn else 0.0
    seen = [r for r in rows if r.tp + r.fp + r.fn]
    n = max(1, len(seen))
    return Scores(
        name, len(pairs), tuple(rows), round(mp, 4), round(mr, 4), round(_f1(mp, mr), 4),
        round(sum(r.precision for r in seen) / n, 4), round(sum(r.recall for r in seen) / n, 4),
        round(sum(r.f1 for r in seen) / n, 4),
    )


def read_corpus(corpus_dir: Path, application_ids: set[str] | None = None) -> tuple[list[Application], list[str]]:
    """Every PDF of the corpus extracted, parsed and enriched (untagged); unreadable files with reason.
    With `application_ids`, only the files with those ids (an application's id is the start of its
    file's SHA-256, ingest/enrich.py): the rest need not be read."""
    manifest = load_manifest(corpus_dir)
    register = Register.load()
    apps, skipped = [], []
    for path in discover(corpus_dir):
        rel = path.relative_to(corpus_dir).as_posix()
        if application_ids is not None and sha256_file(path)[:12] not in application_ids:
            continue
        try:
            doc = extract(path, ExtractLimits())
            apps.append(enrich(doc, parse(doc), rel, manifest.get(rel), register))
        except FileProblemError as exc:
            skipped.append(f"{rel}: {exc.kind}")
    return apps, skipped


def read_corpus_and_supplement(corpus_dir: Path) -> tuple[list[Application], list[str]]:
    """`read_corpus`, plus the corpus' supplement (a corpus of its own, `golddata.SUPPLEMENT`) when it has one,
    its files named from this corpus (`supplement/pdf/...`) as its gold is keyed (`golddata.load_gold`)."""
    apps, skipped = read_corpus(corpus_dir)
    supplement = corpus_dir / SUPPLEMENT
    if (supplement / "manifest.csv").exists():
        more, more_skipped = read_corpus(supplement)
        apps += [replace(a, file=f"{SUPPLEMENT}/{a.file}") for a in more]
        skipped += [f"{SUPPLEMENT}/{s}" for s in more_skipped]
    return apps, skipped


def assign_folds(files: Sequence[str], k: int, seed: int = 0) -> list[set[str]]:
    """Applications into k folds by a hash of their file name (and `seed`, for another deal): stable, and blind
    to their labels."""
    salt = f"{seed}:" if seed else ""
    ordered = sorted(files, key=lambda f: hashlib.sha256((salt + f).encode("utf-8")).hexdigest())
    folds: list[set[str]] = [set() for _ in range(k)]
    for i, f in enumerate(ordered):
        folds[i % k].add(f)
    return folds


def cv_splits(gold: TrainingSet, files: Sequence[str], k: int,
              seed: int = 0) -> Iterator[tuple[set[str], TrainingSet]]:
    """(applications to test, what the model may learn from) per fold: never a label of a tested application."""
    for test in assign_folds(files, k, seed):
        yield test, gold.only(test, keep=False)


Pairs = list[tuple[tuple[str, ...], tuple[str, ...]]]  # (gold labels, predicted labels) per scored item


@dataclass(frozen=True)
class _Run:
    """What one cross-validation (one deal of the applications into folds) gave."""

    sector: Pairs
    phase: Pairs
    free: Pairs
    every: Pairs
    unaligned: int
    settings: tuple[dict[str, float], ...]
    files: dict[str, list[str]]  # per kind of pairs above, the application file of each pair

    def part(self, name: str, keep: Callable[[str], bool]) -> Part:
        def only(kind: str) -> Pairs:
            return [p for p, f in zip(getattr(self, kind), self.files[kind]) if keep(f)]

        sector = score("sector", (), only("sector"))
        return Part(name, len({f for f in self.files["sector"] if keep(f)}), sector.items, len(only("free")),
                    sector.micro_f1, sector.macro_f1, score("free", (), only("free")).micro_f1,
                    score("all", (), only("every")).micro_f1, _accuracy(only("phase")))


def _cross_validate(apps: Sequence[Application], gold: TrainingSet, folds: int, seed: int, tax: Taxonomy,
                    progress: Callable[[str], None] | None) -> _Run:
    gold_examples = {(e.application, e.number): e for e in gold.examples}
    gold_answers: dict[tuple[str, int], list[LabelledPassage]] = {}
    for p in gold.passages:
        if p.example > 0:
            gold_answers.setdefault((p.application, p.example), []).append(p)
    sector: Pairs = []
    phase: Pairs = []
    free: Pairs = []
    every: Pairs = []
    unaligned = 0
    settings: list[dict[str, float]] = []
    files: dict[str, list[str]] = {"sector": [], "phase": [], "free": [], "every": []}
    for n, (test, training) in enumerate(cv_splits(gold, [a.file for a in apps], folds, seed), 1):
        if progress:
            deal = f" (deling {seed + 1})" if seed else ""
            progress(f"Fold {n} av {folds}{deal}: trener på {len(apps) - len(test)} søknader, tester på {len(test)}")
        models = models_for(training, None, tax)
        settings.append(asdict(models.settings))
        tagger = Tagger(models, tax)
        for app in (a for a in apps if a.file in test):
            for ex in tagger(app).examples:
                g = gold_examples.get((app.file, ex.number))
                if g is None:
                    continue
                sector.append((g.sectors, ex.labels("sector")))
                phase.append(((g.phase,) if g.phase else (), ex.labels("phase")))
                files["sector"].append(app.file)
                files["phase"].append(app.file)
                aligned = align(gold_answers.get((app.file, ex.number), []), ex.passages)
                unaligned += sum(1 for _, ps in aligned if not ps)
                for passage in ex.passages:
                    answers = [g for g, ps in aligned if passage in ps]
                    if not answers:
                        continue  # text no gold answer holds (a 2015 summary): nothing to score against
                    wanted = tuple(sorted({c for g in answers for c in g.criteria}))
                    every.append((wanted, passage.criteria))
                    files["every"].append(app.file)
                    if any(g.free_form for g in answers):
                        free.append((wanted, passage.criteria))
                        files["free"].append(app.file)
    return _Run(sector, phase, free, every, unaligned, tuple(settings), files)


def _accuracy(pairs: Pairs) -> float:
    return round(sum(1 for g, p in pairs if set(g) == set(p)) / max(1, len(pairs)), 4)


def evaluate(corpus_dir: Path, folds: int = DEFAULT_FOLDS, gold: TrainingSet | None = None,
             progress: Callable[[str], None] | None = None, repeats: int = 1) -> TagEvaluation:
    """Group k-fold cross-validation of the tagger over the corpus and its gold labels; with `repeats` > 1 it is
    run again with the applications dealt into other folds, to show how far the figures move with the deal."""
    started = time.perf_counter()
    if folds < 2:
        raise ConfigurationError("Kryssvalideringen trenger minst 2 fold.")
    if repeats < 1:
        raise ConfigurationError("Antall gjentakelser må være minst 1.")
    gold_dir = corpus_dir / "gold"
    if gold is None:
        if not (gold_dir / "examples.csv").exists():
            raise ConfigurationError(
                f"Fant ingen fasit i {gold_dir}. Evalueringen trenger eksempelkorpuset med fasit (corpus/gold).")
        gold = load_gold(gold_dir)
    tax = load_taxonomy()
    apps, skipped = read_corpus_and_supplement(corpus_dir)
    gold_files = {e.application for e in gold.examples}
    apps = [a for a in apps if a.file in gold_files]
    if len(apps) < folds:
        raise ConfigurationError(f"For få søknader med fasit ({len(apps)}) til {folds} fold.")
    runs = [_cross_validate(apps, gold, folds, seed, tax, progress) for seed in range(repeats)]
    crit, sectors = tax.ids("criterion"), tax.ids("sector")
    first = runs[0]
    deals = []
    for seed, run in enumerate(runs):
        sector = score("sector", sectors, run.sector)
        deals.append(Deal(seed, sector.micro_f1, sector.macro_f1, score("free", crit, run.free).micro_f1,
                          score("all", crit, run.every).micro_f1, _accuracy(run.phase)))
    return TagEvaluation(
        folds=folds, applications=len(apps), examples=len(first.sector), skipped=tuple(skipped),
        unaligned=first.unaligned,
        sector=score("sector", sectors, first.sector),
        criterion_free=score("criterion (free-form passages)", crit, first.free),
        criterion_all=score("criterion (all passages)", crit, first.every),
        phase=score("phase", tax.ids("phase"), first.phase), phase_accuracy=_accuracy(first.phase),
        sector_thresholds=tuple(fs["sector_threshold"] for fs in first.settings), fold_settings=first.settings,
        deals=tuple(deals),
        parts=tuple(first.part(name, keep) for name, keep in (
            ("utvalget", lambda f: not f.startswith(SUPPLEMENT + "/")),
            ("tillegget", lambda f: f.startswith(SUPPLEMENT + "/"))) if any(keep(f) for f in first.files["sector"])),
        seconds=round(time.perf_counter() - started, 1),
    )


def format_scores(s: Scores, names: Callable[[str], str] | None = None) -> str:
    """A plain-text table of one Scores (for the terminal)."""
    w = 58
    lines = [f"{'etikett':<{w}} {'presisjon':>9} {'dekning':>8} {'F1':>6} {'antall':>7}"]
    for r in sorted(s.labels, key=lambda r: r.label):
        name = names(r.label) if names else r.label
        lines.append(f"{name[:w]:<{w}} {r.precision:>9.3f} {r.recall:>8.3f} {r.f1:>6.3f} {r.support:>7}")
    lines.append(f"{'mikro':<{w}} {s.micro_precision:>9.3f} {s.micro_recall:>8.3f} {s.micro_f1:>6.3f}")
    lines.append(f"{'makro (etiketter i fasit eller svar)':<{w}} {s.macro_precision:>9.3f} {s.macro_recall:>8.3f} "
                 f"{s.macro_f1:>6.3f}")
    return "\n".join(lines)


# -- against the curators' labels -------------------------------------------------------------------

NO_STORE = ("Fant ingen kureringsdatabase i {path}. Kuratorenes merking lagres der når noen kurerer på siden "
            "Kurering; oppgi riktig fil med --curation eller INNOSOK_CURATION.")
NO_CURATED_LABELS = ("Kuratorene har ikke satt sektorer eller kriterier på noe eksempel ennå, så det er ingenting å "
                     "måle merkingen mot. (Vedtak som bare anbefaler et eksempel eller har et notat, teller ikke.)")


@dataclass(frozen=True)
class CuratedItem:
    """One curated example: what the curators set (None: left to the tagger) and what the tagger said."""

    example_id: str
    file: str
    number: int
    title: str
    curated_sectors: tuple[str, ...] | None
    predicted_sectors: tuple[str, ...]
    curated_criteria: tuple[str, ...] | None
    predicted_criteria: tuple[str, ...]


@dataclass(frozen=True)
class CuratedEvaluation:
    """Cross-validation against the curators' labels."""

    folds: int
    store: str
    applications: int  # applications holding curated examples (the ones tested)
    examples: int  # curated examples found in the corpus and scored
    not_found: tuple[str, ...]  # curated example ids no PDF of the corpus has (another corpus, a changed file)
    skipped: tuple[str, ...]
    sector: Scores  # per example, where a curator set the sectors
    criterion: Scores  # per example, where a curator set the criteria
    items: tuple[CuratedItem, ...]
    seconds: float

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2)


def evaluate_curated(corpus_dir: Path, store: Path | None = None, folds: int = DEFAULT_FOLDS,
                     gold_dir: Path | None = None, progress: Callable[[str], None] | None = None) -> CuratedEvaluation:
    """Group k-fold cross-validation of the tagger against the curators' labels.

    The model of a fold learns what an ingest's model learns — the gold (`gold_dir`, else the corpus'
    own gold/, else the sample corpus' gold) with the curators' labels replacing gold rows
    (`golddata.curated_training`, texts from the PDFs read here) — minus every application of the fold:
    the folds are the applications holding curated examples, so no model sees a sibling of an example it
    is scored on. Each curated example is scored per example on the kinds a curator set.
    """
    started = time.perf_counter()
    if folds < 2:
        raise ConfigurationError("Kryssvalideringen trenger minst 2 fold.")
    path = Path(store) if store is not None else default_store_path()
    if not path.exists():
        raise ConfigurationError(NO_STORE.format(path=path))
    labels = curated_labels(path)
    if not labels:
        raise ConfigurationError(NO_CURATED_LABELS)
    if gold_dir is None:
        gold_dir = corpus_dir / "gold" if (corpus_dir / "gold" / "examples.csv").exists() else DEFAULT_GOLD_DIR
    gold = load_gold(gold_dir) if (gold_dir / "examples.csv").exists() else TrainingSet()
    wanted_apps = {example_id.rsplit("-", 1)[0] for example_id in labels}
    apps, skipped = read_corpus(corpus_dir, wanted_apps)
    pairs = [(a.file, ex) for a in apps for ex in a.examples if ex.id in labels]
    found = {ex.id for _, ex in pairs}
    not_found = tuple(sorted(set(labels) - found))
    if not pairs:
        raise ConfigurationError(
            f"Ingen av de {len(labels)} eksemplene kuratorene har merket, finnes i {corpus_dir}. Kjør evalueringen "
            "på korpuset de ble kurert i (--corpus).")
    tested = sorted({a.file for a in apps if any(ex.id in found for ex in a.examples)})
    if len(tested) < folds:
        raise ConfigurationError(
            f"Kuratorene har merket eksempler i {len(tested)} søknader; det er for få til {folds} fold. "
            f"Bruk --folds med et tall fra 2 til {len(tested)}." if len(tested) >= 2 else
            "Kuratorene har merket eksempler i bare én søknad; kryssvalideringen trenger minst to.")
    extra = curated_training(pairs, labels, gold)
    full = gold.with_extra(extra.examples, extra.passages, "kurator")
    gold_files = {e.application for e in gold.examples} | {p.application for p in gold.passages}
    key = {f: training_key(f, gold_files) for f in tested}  # the fold drops the application under its gold name too
    tax = load_taxonomy()
    items: list[CuratedItem] = []
    for n, test in enumerate(assign_folds(tested, folds), 1):
        if progress:
            progress(f"Fold {n} av {folds}: tester {len(test)} {'søknad' if len(test) == 1 else 'søknader'} "
                     "med kuratormerking")
        training = full.only({key[f] for f in test} | set(test), keep=False)
        if not training.examples:
            raise ConfigurationError(f"Det er ingenting å trene på i fold {n}: det finnes ingen fasit, og søknadene "
                                     "utenfor folden har ingen eksempler der kuratorene har satt sektorer.")
        tagger = Tagger(models_for(training, None, tax), tax)
        for app in (a for a in apps if a.file in test):
            for ex in tagger(app).examples:
                lab = labels.get(ex.id)
                if lab is None:
                    continue
                items.append(CuratedItem(ex.id, app.file, ex.number, ex.title, lab.sectors, ex.labels("sector"),
                                         lab.criteria, ex.labels("criterion")))
    items.sort(key=lambda i: (i.file, i.number))
    return CuratedEvaluation(
        folds=folds, store=str(path), applications=len(tested), examples=len(items), not_found=not_found,
        skipped=tuple(skipped),
        sector=score("sector", tax.ids("sector"),
                     [(i.curated_sectors, i.predicted_sectors) for i in items if i.curated_sectors is not None]),
        criterion=score("criterion", tax.ids("criterion"),
                        [(i.curated_criteria, i.predicted_criteria) for i in items if i.curated_criteria is not None]),
        items=tuple(items), seconds=round(time.perf_counter() - started, 1),
    )
