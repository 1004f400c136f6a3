"""Labelled examples for the tagger: the sample corpus' gold labels, and (later) curators' labels.

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
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from ingest.errors import ConfigurationError
from ingest.records import InnovationExample, Passage

# The sample corpus beside the package (a checkout or an editable install): its gold trains the model
# that also tags real PDFs elsewhere.
DEFAULT_GOLD_DIR = Path(__file__).resolve().parents[1] / "corpus" / "gold"
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
        """This set plus extra labels (curators' corrections); an extra example replaces a gold one."""
        extra_ex = tuple(examples)
        replaced = {(e.application, e.number) for e in extra_ex}
        kept = tuple(e for e in self.examples if (e.application, e.number) not in replaced)
        return TrainingSet(kept + extra_ex, self.passages + tuple(passages),
                           self.sources + ((source,) if source else ()))

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


def load_gold(gold_dir: Path = DEFAULT_GOLD_DIR) -> TrainingSet:
    """The gold labels as a training set; an example's text is its title and answers, in order."""
    answers = _read(gold_dir / "answers.csv")
    rows = _read(gold_dir / "examples.csv")
    by_example: dict[tuple[str, int], list[str]] = {}
    passages = []
    for r in answers:
        key = (r["file"], int(r["example"]))
        by_example.setdefault(key, []).append(r["text"])
        passages.append(LabelledPassage(r["file"], key[1], r["question"], r["text"], _split(r["criteria"])))
    examples = []
    for r in rows:
        key = (r["file"], int(r["example"]))
        examples.append(LabelledExample(r["file"], key[1], r["title"], "\n\n".join(by_example.get(key, [])),
                                        _split(r["sectors"]), r.get("phase", "")))
    return TrainingSet(tuple(examples), tuple(passages), (str(gold_dir),))


def labelled_example(app_key: str, example: InnovationExample, sectors: Sequence[str],
                     phase: str = "") -> LabelledExample:
    """A curator's labels on an indexed example, as a training example (the hook for the curation store)."""
    return LabelledExample(app_key, example.number, example.title, example.text, tuple(sectors), phase)


def curated_training(examples: Iterable[InnovationExample], sectors: Mapping[str, Sequence[str]],
                     source: str = "kurator") -> TrainingSet:
    """Curators' sector labels (example id → sector ids, e.g. from `ingest.curation.curated_labels()`) on
    indexed examples, as extra training data: `Tagger.for_index(root, extra=curated_training(...))`."""
    chosen = tuple(labelled_example(ex.application_id, ex, sectors[ex.id]) for ex in examples if ex.id in sectors)
    return TrainingSet(chosen, (), (source,))


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
