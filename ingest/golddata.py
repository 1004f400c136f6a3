"""Labelled examples for the tagger: the sample corpus' gold labels, and curators' labels replacing them.

The gold tables (`corpus/gold/examples.csv`, `answers.csv`) hold the text as written in the sources,
so the tagger trains on them without reading a PDF. For evaluation the gold answers are aligned to
the passages the parser actually produced, by their words: parsed paragraphs and gold answers do not
always coincide (free-form text loses its question labels, paragraphs merge on a page break).
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Collection, Iterable, Mapping, Protocol, Sequence

from ingest.errors import ConfigurationError
from ingest.records import InnovationExample, Passage

# The sample corpus beside the package (a checkout or an editable install): its gold trains the model
# that also tags real PDFs elsewhere.
DEFAULT_GOLD_DIR = Path(__file__).resolve().parents[1] / "corpus" / "gold"
# A corpus may hold a supplement: labelled applications beyond the archive's shape, a corpus of its own
# (sources, PDFs, manifest, gold) in this subfolder, not indexed with the corpus but learnt from and evaluated.
SUPPLEMENT = "supplement"
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class LabelledExample:
    """One innovation example with its sectors and phase: title plus every answer, as one text."""

    application: str  # the group key: no fold trains on an example of the application it tests
    number: int
    title: str
    text: str
    sectors: tuple[str, ...]
    phase: str = ""


@dataclass(frozen=True)
class LabelledPassage:
    """One answer with the jury criteria it speaks to (example 0: the application's «why us»)."""

    application: str
    example: int
    question: str
    text: str
    criteria: tuple[str, ...]

    @property
    def free_form(self) -> bool:
        """Text the form did not tie to a question (the classifier must decide its criteria)."""
        return self.question == "fritekst"


@dataclass(frozen=True)
class TrainingSet:
    """Everything the classifiers learn from; its digest keys the cached model."""

    examples: tuple[LabelledExample, ...] = ()
    passages: tuple[LabelledPassage, ...] = ()
    sources: tuple[str, ...] = field(default=(), compare=False)

    def digest(self) -> str:
        """A content hash: the same labels give the same model, new labels a new one."""
        h = hashlib.sha256()
        for rec in (*self.examples, *self.passages):
            h.update(json.dumps(asdict(rec), ensure_ascii=False, sort_keys=True).encode("utf-8"))
            h.update(b"\x1e")
        return h.hexdigest()

    def with_extra(self, examples: Iterable[LabelledExample] = (),
                   passages: Iterable[LabelledPassage] = (), source: str = "") -> "TrainingSet":
        """This set plus extra labels (curators' corrections): an extra example replaces the one with the same
        (application, number), and extra passages of an example replace all of that example's passages (a
        curator's criteria must not sit beside the gold answers they correct)."""
        extra_ex = tuple(examples)
        extra_p = tuple(passages)
        replaced = {(e.application, e.number) for e in extra_ex}
        replaced_p = {(p.application, p.example) for p in extra_p}
        kept = tuple(e for e in self.examples if (e.application, e.number) not in replaced)
        kept_p = tuple(p for p in self.passages if (p.application, p.example) not in replaced_p)
        return TrainingSet(kept + extra_ex, kept_p + extra_p, self.sources + ((source,) if source else ()))

    def only(self, applications: set[str], keep: bool = True) -> "TrainingSet":
        """The subset of (or, keep=False, all but) the given applications: the folds of a cross-validation."""
        return TrainingSet(
            tuple(e for e in self.examples if (e.application in applications) == keep),
            tuple(p for p in self.passages if (p.application in applications) == keep),
            self.sources,
        )

    @property
    def applications(self) -> tuple[str, ...]:
        return tuple(sorted({e.application for e in self.examples} | {p.application for p in self.passages}))


def _split(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(";") if v.strip())


def _read(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))
    except FileNotFoundError as exc:
        raise ConfigurationError(f"Fant ikke fasitfilen {path}.") from exc


def supplement_gold_dir(gold_dir: Path) -> Path:
    """Where the supplement of the corpus holding `gold_dir` keeps its gold (`corpus/supplement/gold`)."""
    return gold_dir.parent / SUPPLEMENT / "gold"


def load_gold(gold_dir: Path = DEFAULT_GOLD_DIR, supplement: bool = True) -> TrainingSet:
    """The gold labels as a training set; an example's text is its title and answers, in order. With
    `supplement`, the labels of the corpus' supplement too (if it has one), keyed by their path from the
    corpus (`supplement/pdf/2017/x.pdf`)."""
    training = _load_gold_tables(gold_dir, "")
    extra = supplement_gold_dir(gold_dir)
    if supplement and (extra / "examples.csv").exists():
        more = _load_gold_tables(extra, SUPPLEMENT + "/")
        training = TrainingSet(training.examples + more.examples, training.passages + more.passages,
                               training.sources + more.sources)
    return training


def _load_gold_tables(gold_dir: Path, prefix: str) -> TrainingSet:
    answers = _read(gold_dir / "answers.csv")
    rows = _read(gold_dir / "examples.csv")
    by_example: dict[tuple[str, int], list[str]] = {}
    passages = []
    for r in answers:
        key = (prefix + r["file"], int(r["example"]))
        by_example.setdefault(key, []).append(r["text"])
        passages.append(LabelledPassage(key[0], key[1], r["question"], r["text"], _split(r["criteria"])))
    examples = []
    for r in rows:
        key = (prefix + r["file"], int(r["example"]))
        examples.append(LabelledExample(key[0], key[1], r["title"], "\n\n".join(by_example.get(key, [])),
                                        _split(r["sectors"]), r.get("phase", "")))
    return TrainingSet(tuple(examples), tuple(passages), (str(gold_dir),))


class CuratedLabelsLike(Protocol):
    """A curator's labels on one example (`ingest.curation.CuratedLabels` or `Decision`); None: not decided."""

    @property
    def sectors(self) -> tuple[str, ...] | None: ...

    @property
    def criteria(self) -> tuple[str, ...] | None: ...


def training_key(file: str, gold_files: Collection[str]) -> str:
    """The application key a labelled example of `file` (relative to the corpus that was read) has in the gold.

    Gold rows are keyed by the path relative to the sample corpus (`pdf/2016/x.pdf`); a corpus read from a
    subfolder (`corpus/pdf`) names the same file `2016/x.pdf`, which must still replace that gold row."""
    if file in gold_files:
        return file
    longer = [g for g in gold_files if g.endswith("/" + file)]
    return longer[0] if len(longer) == 1 else file


def labelled_example(app_key: str, example: InnovationExample, sectors: Sequence[str],
                     phase: str = "") -> LabelledExample:
    """A curator's labels on an indexed example, as a training example: title and answers as parsed."""
    return LabelledExample(app_key, example.number, example.title, example.text, tuple(sectors), phase)


def curated_training(examples: Iterable[tuple[str, InnovationExample]], labels: Mapping[str, CuratedLabelsLike],
                     gold: TrainingSet = TrainingSet(), source: str = "kurator") -> TrainingSet:
    """Curators' labels as extra training data that replaces the gold rows of the same examples:
    `Tagger.for_index(root, extra=curated_training(...))`.

    `examples` are (application file relative to the corpus, example) pairs whose text is known (the
    index, or applications just read); `labels` maps example ids to what curators set (e.g.
    `ingest.curation.curated_labels()`); only labels a curator actually set count.

    - Sectors: the example becomes a training example with the curator's sectors and its parsed text,
      keyed by (file, number) so that it replaces the gold example; the gold phase is kept (curators do not
      set phases), an example outside the gold has none.
    - Criteria: curators judge criteria per example, the criterion classifier learns from passages.
      For an example with gold answers, those answers are kept with every criterion the curator did not
      choose removed (a criterion the curator removed leaves each of its answers); a criterion the curator
      added is not given to any answer, since nothing says which answer speaks to it. For an example
      outside the gold, only "no criterion" can be pinned to passages honestly: then every passage is
      trained as speaking to none; otherwise its criteria are not used for training (they still count in
      `innosok eval tags --curated`).

    Rows are sorted by (file, number): the same labels on the same texts always give the same model key.
    """
    gold_files = {e.application for e in gold.examples} | {p.application for p in gold.passages}
    phases = {(e.application, e.number): e.phase for e in gold.examples}
    answers: dict[tuple[str, int], list[LabelledPassage]] = {}
    for p in gold.passages:
        answers.setdefault((p.application, p.example), []).append(p)
    chosen: list[LabelledExample] = []
    passages: list[LabelledPassage] = []
    keyed = sorted(((training_key(f, gold_files), ex) for f, ex in examples if ex.id in labels),
                   key=lambda pair: (pair[0], pair[1].number, pair[1].id))
    for key, ex in keyed:
        lab = labels[ex.id]
        if lab.sectors is not None:
            chosen.append(labelled_example(key, ex, lab.sectors, phases.get((key, ex.number), "")))
        if lab.criteria is None:
            continue
        wanted = set(lab.criteria)
        known = answers.get((key, ex.number))
        if known:
            passages += [replace(p, criteria=tuple(c for c in p.criteria if c in wanted)) for p in known]
        elif not wanted:
            passages += [LabelledPassage(key, ex.number, p.question, p.text, ()) for p in ex.passages
                         if p.text.strip()]
    return TrainingSet(tuple(chosen), tuple(passages), (source,))


# -- alignment of gold answers to parsed passages ---------------------------------------------------


def _words(text: str) -> Counter[str]:
    return Counter(w.lower() for w in _WORD.findall(text))


def _overlap(a: Counter[str], b: Counter[str]) -> int:
    return sum((a & b).values())


def align(gold: Sequence[LabelledPassage], passages: Sequence[Passage],
          min_share: float = 0.8) -> list[tuple[LabelledPassage, tuple[Passage, ...]]]:
    """For each gold answer of one example, the parsed passages that carry its text.

    An answer gets every passage of which at least `min_share` of the words (counted with repeats) are
    its own, and every passage that holds at least `min_share` of its words: a paragraph that merged
    two answers counts for both. An answer may get none.
    """
    gold_words = [_words(g.text) for g in gold]
    out: list[list[Passage]] = [[] for _ in gold]
    for p in passages:
        pw = _words(p.text)
        total = sum(pw.values())
        if not total:
            continue
        for i, gw in enumerate(gold_words):
            shared = _overlap(pw, gw)
            if shared >= min_share * total or shared >= min_share * max(1, sum(gw.values())):
                out[i].append(p)
    return [(g, tuple(ps)) for g, ps in zip(gold, out)]
