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
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from ingest.enrich import enrich
from ingest.errors import ConfigurationError, FileProblemError
from ingest.extract import ExtractLimits, extract
from ingest.golddata import LabelledPassage, TrainingSet, align, load_gold
from ingest.manifest import load_manifest
from ingest.parse import parse
from ingest.pipeline import discover
from ingest.records import Application
from ingest.register import Register
from ingest.tagging import Tagger, models_for
from ingest.taxonomy import load_taxonomy

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


def read_corpus(corpus_dir: Path) -> tuple[list[Application], list[str]]:
    """Every PDF of the corpus extracted, parsed and enriched (untagged); unreadable files with reason."""
    manifest = load_manifest(corpus_dir)
    register = Register.load()
    apps, skipped = [], []
    for path in discover(corpus_dir):
        rel = path.relative_to(corpus_dir).as_posix()
        try:
            doc = extract(path, ExtractLimits())
            apps.append(enrich(doc, parse(doc), rel, manifest.get(rel), register))
        except FileProblemError as exc:
            skipped.append(f"{rel}: {exc.kind}")
    return apps, skipped


def assign_folds(files: Sequence[str], k: int) -> list[set[str]]:
    """Applications into k folds by a hash of their file name: stable, and blind to their labels."""
    ordered = sorted(files, key=lambda f: hashlib.sha256(f.encode("utf-8")).hexdigest())
    folds: list[set[str]] = [set() for _ in range(k)]
    for i, f in enumerate(ordered):
        folds[i % k].add(f)
    return folds


def cv_splits(gold: TrainingSet, files: Sequence[str], k: int) -> Iterator[tuple[set[str], TrainingSet]]:
    """(applications to test, what the model may learn from) per fold: never a label of a tested application."""
    for test in assign_folds(files, k):
        yield test, gold.only(test, keep=False)


def evaluate(corpus_dir: Path, folds: int = DEFAULT_FOLDS, gold: TrainingSet | None = None,
             progress: Callable[[str], None] | None = None) -> TagEvaluation:
    """Group k-fold cross-validation of the tagger over the corpus and its gold labels."""
    started = time.perf_counter()
    if folds < 2:
        raise ConfigurationError("Kryssvalideringen trenger minst 2 fold.")
    gold_dir = corpus_dir / "gold"
    if gold is None:
        if not (gold_dir / "examples.csv").exists():
            raise ConfigurationError(
                f"Fant ingen fasit i {gold_dir}. Evalueringen trenger eksempelkorpuset med fasit (corpus/gold).")
        gold = load_gold(gold_dir)
    tax = load_taxonomy()
    apps, skipped = read_corpus(corpus_dir)
    gold_files = {e.application for e in gold.examples}
    apps = [a for a in apps if a.file in gold_files]
    if len(apps) < folds:
        raise ConfigurationError(f"For få søknader med fasit ({len(apps)}) til {folds} fold.")
    gold_examples = {(e.application, e.number): e for e in gold.examples}
    gold_answers: dict[tuple[str, int], list[LabelledPassage]] = {}
    for p in gold.passages:
        if p.example > 0:
            gold_answers.setdefault((p.application, p.example), []).append(p)

    sector_pairs: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
    phase_pairs: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
    free_pairs: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
    all_pairs: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
    unaligned = 0
    examples = 0
    for n, (test, training) in enumerate(cv_splits(gold, [a.file for a in apps], folds), 1):
        if progress:
            progress(f"Fold {n} av {folds}: trener på {len(apps) - len(test)} søknader, tester på {len(test)}")
        tagger = Tagger(models_for(training, None, tax), tax)
        for app in (a for a in apps if a.file in test):
            for ex in tagger(app).examples:
                g = gold_examples.get((app.file, ex.number))
                if g is None:
                    continue
                examples += 1
                sector_pairs.append((g.sectors, ex.labels("sector")))
                phase_pairs.append(((g.phase,) if g.phase else (), ex.labels("phase")))
                aligned = align(gold_answers.get((app.file, ex.number), []), ex.passages)
                unaligned += sum(1 for _, ps in aligned if not ps)
                for passage in ex.passages:
                    answers = [g for g, ps in aligned if passage in ps]
                    if not answers:
                        continue  # text no gold answer holds (a 2015 summary): nothing to score against
                    wanted = tuple(sorted({c for g in answers for c in g.criteria}))
                    all_pairs.append((wanted, passage.criteria))
                    if any(g.free_form for g in answers):
                        free_pairs.append((wanted, passage.criteria))
    crit = tax.ids("criterion")
    phase = score("phase", tax.ids("phase"), phase_pairs)
    correct = sum(1 for g, p in phase_pairs if set(g) == set(p))
    return TagEvaluation(
        folds=folds, applications=len(apps), examples=examples, skipped=tuple(skipped), unaligned=unaligned,
        sector=score("sector", tax.ids("sector"), sector_pairs),
        criterion_free=score("criterion (free-form passages)", crit, free_pairs),
        criterion_all=score("criterion (all passages)", crit, all_pairs),
        phase=phase, phase_accuracy=round(correct / max(1, len(phase_pairs)), 4),
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
