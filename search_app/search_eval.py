"""Search quality on the judged questions in `eval/`: the project's search against a plain Whoosh baseline.

Both systems index the same example documents in temporary folders in one run, so the difference is what
the Norwegian analysis and the query handling add. Metrics (graded judgments 1–3, unlisted = 0):

- nDCG@10 with gain 2^grade − 1 and a log2 discount; the ideal ranking is built from every judgment,
  including examples that could not be indexed (a scan without text counts against both systems);
- recall@20: share of the judged examples (grade ≥ 1) among the first 20 results;
- MRR: 1 / rank of the first judged example (0 when none is in the first 20).
"""

from __future__ import annotations

import math
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from ingest.errors import ConfigurationError
from ingest.searchindex import PlainIndex, SearchIndex
from search_app.api import Library

DEPTH = 20
SYSTEMS = ("baseline", "innosok")


@dataclass(frozen=True)
class Question:
    """One judged search question: grades keyed by example id once resolved against an index."""

    id: str
    text: str
    language: str
    judgments: dict[str, int]  # "<year>/<year>-<slug>#<n>" -> grade
    note: str = ""


@dataclass(frozen=True)
class Scores:
    """The three metrics for one system over a set of questions (means)."""

    ndcg10: float
    recall20: float
    mrr: float
    questions: int

    def as_dict(self) -> dict[str, float]:
        return {"ndcg@10": self.ndcg10, "recall@20": self.recall20, "mrr": self.mrr, "questions": self.questions}


@dataclass(frozen=True)
class QuestionResult:
    """One question's ranked example ids and metrics for one system."""

    question: str
    system: str
    ranked: tuple[str, ...]
    ndcg10: float
    recall20: float
    rr: float


@dataclass(frozen=True)
class SearchEvalReport:
    """Scores per system, overall and per question language, and every question's result."""

    overall: dict[str, Scores]
    by_language: dict[str, dict[str, Scores]]
    results: tuple[QuestionResult, ...]
    examples_indexed: int
    unresolved: tuple[str, ...] = ()  # judged keys with no example in the index (e.g. scans)
    seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "overall": {s: v.as_dict() for s, v in self.overall.items()},
            "by_language": {lang: {s: v.as_dict() for s, v in d.items()} for lang, d in self.by_language.items()},
            "examples_indexed": self.examples_indexed,
            "unresolved_judgments": list(self.unresolved),
            "seconds": self.seconds,
            "questions": [
                {"id": r.question, "system": r.system, "ndcg@10": r.ndcg10, "recall@20": r.recall20, "rr": r.rr,
                 "top10": list(r.ranked[:10])}
                for r in self.results
            ],
        }

    def table(self) -> str:
        """The side-by-side table printed by `innosok eval search`."""
        lines = [f"{'':24}{'baseline':>10}{'innosøk':>10}{'diff':>9}"]
        rows: list[tuple[str, dict[str, Scores]]] = [("alle", self.overall)]
        rows += [(lang, d) for lang, d in sorted(self.by_language.items())]
        for label, scores in rows:
            n = scores["innosok"].questions
            lines.append(f"{label} ({n} spørsmål)")
            for metric, attr in (("nDCG@10", "ndcg10"), ("recall@20", "recall20"), ("MRR", "mrr")):
                a, b = getattr(scores["baseline"], attr), getattr(scores["innosok"], attr)
                lines.append(f"  {metric:22}{a:>10.3f}{b:>10.3f}{b - a:>+9.3f}")
        return "\n".join(lines)


def load_questions(path: Path) -> tuple[Question, ...]:
    """The judged questions from a questions.toml (format: eval/README.md)."""
    if not path.is_file():
        raise ConfigurationError(f"Fant ikke spørsmålsfilen {path}.")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"Spørsmålsfilen {path} er ikke gyldig TOML: {exc}") from exc
    return tuple(
        Question(id=q["id"], text=q["text"], language=q.get("language", ""),
                 judgments={k: int(v) for k, v in q.get("judgments", {}).items()}, note=q.get("note", ""))
        for q in data.get("questions", [])
    )


def judgment_key(file: str, example_id: str) -> str:
    """"pdf/2016/2016-drammen.pdf" + "…-1" → "2016/2016-drammen#1" (the key format of the judgments)."""
    stem = file.removeprefix("pdf/").removesuffix(".pdf")
    return f"{stem}#{example_id.rsplit('-', 1)[1]}"


def ndcg(ranked: Iterable[str], grades: dict[str, int], k: int = 10) -> float:
    """nDCG@k with exponential gain; the ideal uses every judgment."""
    dcg = sum((2 ** grades.get(doc, 0) - 1) / math.log2(i + 2) for i, doc in enumerate(list(ranked)[:k]))
    ideal = sorted(grades.values(), reverse=True)[:k]
    idcg = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall(ranked: Iterable[str], grades: dict[str, int], k: int = DEPTH) -> float:
    relevant = {d for d, g in grades.items() if g > 0}
    return len(relevant & set(list(ranked)[:k])) / len(relevant) if relevant else 0.0


def reciprocal_rank(ranked: Iterable[str], grades: dict[str, int]) -> float:
    for i, doc in enumerate(ranked):
        if grades.get(doc, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def _mean(results: list[QuestionResult]) -> Scores:
    n = len(results)
    if not n:
        return Scores(0.0, 0.0, 0.0, 0)
    return Scores(sum(r.ndcg10 for r in results) / n, sum(r.recall20 for r in results) / n,
                  sum(r.rr for r in results) / n, n)


def score_systems(
    questions: tuple[Question, ...],
    systems: dict[str, Callable[[str], list[str]]],
    key_to_id: dict[str, str],
) -> tuple[dict[str, Scores], dict[str, dict[str, Scores]], tuple[QuestionResult, ...], tuple[str, ...]]:
    """Run every question through every system; grades are re-keyed from judgment keys to example ids."""
    unresolved: set[str] = set()
    results: list[QuestionResult] = []
    for q in questions:
        grades: dict[str, int] = {}
        for key, grade in q.judgments.items():
            if key in key_to_id:
                grades[key_to_id[key]] = grade
            else:
                unresolved.add(key)
                grades[f"unindexed:{key}"] = grade  # stays in the ideal ranking, can never be found
        for name, run in systems.items():
            ranked = tuple(run(q.text))
            results.append(QuestionResult(q.id, name, ranked, ndcg(ranked, grades), recall(ranked, grades),
                                          reciprocal_rank(ranked, grades)))
    overall = {name: _mean([r for r in results if r.system == name]) for name in systems}
    language = {q.id: q.language for q in questions}
    by_language = {
        lang: {name: _mean([r for r in results if r.system == name and language[r.question] == lang])
               for name in systems}
        for lang in sorted({q.language for q in questions if q.language})
    }
    return overall, by_language, tuple(results), tuple(sorted(unresolved))


def evaluate_search(
    questions_path: Path,
    corpus_dir: Path,
    *,
    index_root: Path | None = None,
    progress: Callable[[str], None] = lambda _msg: None,
) -> SearchEvalReport:
    """Build the project's index of `corpus_dir` (unless `index_root` is given) and the baseline over the same
    example documents, both in temporary folders, and score both on the questions."""
    import time

    questions = load_questions(questions_path)
    seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="innosok-eval-") as tmp:
        if index_root is None:
            from ingest.pipeline import ingest

            progress(f"Bygger Innosøk-indeksen av {corpus_dir} …")
            started = time.perf_counter()
            index_root = Path(tmp) / "innosok"
            ingest(corpus_dir, index_root, rebuild=True, progress=False)
            seconds["build_innosok"] = time.perf_counter() - started
        lib = Library(index_root)
        docs = SearchIndex.open(index_root).all_examples()
        key_to_id = {judgment_key(d["file"], d["id"]): d["id"] for d in docs}
        progress("Bygger grunnlinjen (StandardAnalyzer) over de samme eksemplene …")
        started = time.perf_counter()
        plain = PlainIndex.build(Path(tmp) / "baseline", [(d["id"], d["title"], d["body"]) for d in docs])
        seconds["build_baseline"] = time.perf_counter() - started
        systems: dict[str, Callable[[str], list[str]]] = {
            "baseline": lambda text: plain.search(text, limit=DEPTH),
            "innosok": lambda text: [h.example_id for h in lib.search(text, limit=DEPTH).hits],
        }
        started = time.perf_counter()
        overall, by_language, results, unresolved = score_systems(questions, systems, key_to_id)
        seconds["questions"] = time.perf_counter() - started
        plain.close()
        lib.close()
    return SearchEvalReport(overall=overall, by_language=by_language, results=results,
                            examples_indexed=len(docs), unresolved=unresolved, seconds=seconds)
