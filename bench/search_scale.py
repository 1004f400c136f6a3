"""Search latency at the archive's size and at 10k and 50k examples made by recombining the corpus.

Run from the repository root:  `.venv/bin/python bench/search_scale.py`  (also part of `make bench`).
Prints a table and writes bench/results/search_scale.json. Not a test: nothing here asserts a speed target.

What is timed (time.perf_counter, after a warm-up on other words):
- search: `Library.search(question, facets=True, limit=10)` — BM25F, facet counts for every filter, marked
  snippets from the best passages and the reasons for every hit — for every question in eval/questions.toml
  on the archive, and for every fourth question (20) on the large indexes. Each timing is a new query: the
  index's cache of query runs is emptied first (the per-generation facts, facet keys and filter documents,
  stay: they are built once per commit, by the first search, which is reported as "first search");
- page 2: the same question right after, with offset=10: what paging, a filter click or another sort costs
  once the query ran (the cached run is reused);
- baseline (with --baseline REF): the same search with ingest/searchindex.py as it is at git ref REF, on the
  same index, interleaved question by question; "same" counts the questions whose first page (ids, scores,
  snippets, reasons), total, facet counts and suggestion are identical to the baseline's;
- similar: `Library.similar(example_id, limit=5)` (more-like-this) for 30 (archive) or 20 (10k) examples.

The large indexes are built once: 10k synthetic examples are written and measured, then 40k more are added
to the same index and measured again at 50k. Each synthetic example takes its title from one corpus example
and its answers from two or three others (so the vocabulary is the corpus's, the documents are new), and its
application (municipality, year, status) from a random corpus application. The seed is fixed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
import types
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `python bench/search_scale.py` puts bench/ first on the path

from bench.run import percentile  # noqa: E402
from ingest.pipeline import ingest  # noqa: E402
from ingest.records import Application, InnovationExample, Passage  # noqa: E402
from ingest.searchindex import SearchIndex, plan_query  # noqa: E402
from search_app.api import Library  # noqa: E402

CORPUS = ROOT / "corpus"
QUESTIONS = ROOT / "eval" / "questions.toml"
RESULTS = ROOT / "bench" / "results" / "search_scale.json"
SEED = 20240917
BATCH = 2_000  # applications per write batch (one commit each)
WARMUP = ("arbeid", "prosjekt og tjeneste", "digital")  # not timed, not questions: loads analyzer and caches


def stats(times: list[float]) -> dict[str, Any]:
    return {"p50_ms": percentile(times, 50), "p95_ms": percentile(times, 95), "n": len(times),
            "mean_ms": statistics.fmean(times)}


def timed(fn: Callable[[Any], Any], inputs: list[Any], repeats: int) -> dict[str, Any]:
    """p50/p95 in ms over every input × repeats, after a warm-up on the first three inputs."""
    for x in inputs[:3]:
        fn(x)
    times = []
    for _ in range(repeats):
        for x in inputs:
            started = time.perf_counter()
            fn(x)
            times.append((time.perf_counter() - started) * 1000)
    return stats(times)


def ms(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    out = fn()
    return (time.perf_counter() - started) * 1000, out


def baseline_index(ref: str) -> Any:
    """The SearchIndex class of ingest/searchindex.py at git ref `ref`, loaded beside the current one."""
    source = subprocess.run(["git", "show", f"{ref}:ingest/searchindex.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    module = types.ModuleType("bench_baseline_searchindex")
    module.__file__ = f"{ref}:ingest/searchindex.py"
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, module.__file__, "exec"), module.__dict__)  # noqa: S102 - the repository's own code
    return module.SearchIndex


def comparable(result: Any) -> tuple[Any, ...]:
    """Everything a search returns, comparable across the two modules' classes."""
    return result.total, result.facets, result.suggestion, [dataclasses.astuple(h) for h in result.hits]


def corpus_records(index_root: Path) -> list[Application]:
    """Every indexed application of the corpus with its examples, as records."""
    index = SearchIndex.open(index_root)
    try:
        seen: dict[str, Application] = {}
        for fields in index.all_examples():
            if fields["application_id"] not in seen:
                _, app = index.example(fields["id"])
                seen[app.id] = app
        return list(seen.values())
    finally:
        index.close()


def synthetic(apps: list[Application], count: int, start: int, rng: random.Random) -> list[Application]:
    """`count` one-example applications recombined from the corpus; ids are "syn<n>" (stable per seed)."""
    examples = [ex for app in apps for ex in app.examples if ex.sections]
    out = []
    for n in range(start, start + count):
        app = rng.choice(apps)
        donors = rng.sample(examples, rng.randint(2, 3))
        app_id = f"syn{n:07d}"
        ex_id = f"{app_id}-1"
        sections = tuple(s for d in donors for s in rng.sample(d.sections, max(1, len(d.sections) // len(donors))))
        passages = tuple(
            replace(p, id=f"{ex_id}-{i}", example_id=ex_id, ordinal=i)
            for i, p in enumerate(p for d in donors for p in d.passages if any(p.text in s.text for s in sections))
        )
        example = InnovationExample(
            id=ex_id, application_id=app_id, number=1, title=rng.choice(examples).title, sections=sections,
            passages=passages or tuple(Passage(f"{ex_id}-0", ex_id, s.question, s.text, 1, 0) for s in sections[:1]),
            tags=donors[0].tags,
        )
        out.append(replace(app, id=app_id, file=f"synthetic/{app_id}.pdf", sha256=app_id, examples=(example,)))
    return out


def write(root: Path, apps: list[Application]) -> float:
    """Add the applications to the index at `root` (creating it the first time); seconds taken."""
    started = time.perf_counter()
    if SearchIndex.current_generation(root) is None:
        index = SearchIndex.create_generation(root)
        index.activate(root)
    else:
        index = SearchIndex.open(root)
    for i in range(0, len(apps), BATCH):
        with index.batch() as batch:
            for app in apps[i:i + BATCH]:
                batch.add(app)
    index.close()
    return time.perf_counter() - started


def measure(
    root: Path, questions: list[str], repeats: int, similar: int, rng: random.Random, baseline: Any = None,
) -> dict[str, Any]:
    lib = Library(root)
    base = None
    if baseline is not None:
        base = Library(root)
        base._index.close()
        base._index = baseline.open(root)
    try:
        plan_query(" ".join(WARMUP))  # loads the analyzer's data, so "first search" times the index alone
        first_ms, first = ms(lambda: lib.search("", facets=True, limit=1))  # builds the per-generation facts
        row: dict[str, Any] = {"examples": first.total, "questions": len(questions), "first_search_ms": first_ms}
        for text in WARMUP:
            for library in (lib, base) if base is not None else (lib,):
                library.search(text, facets=True, limit=10)
        new: list[float] = []
        page2: list[float] = []
        old: list[float] = []
        same = 0
        for _ in range(repeats):
            for i, text in enumerate(questions):
                if base is not None and i % 2:  # alternate who goes first
                    old_ms, old_result = ms(lambda: base.search(text, facets=True, limit=10))
                lib._index.clear_query_cache()
                new_ms, result = ms(lambda: lib.search(text, facets=True, limit=10))
                page2.append(ms(lambda: lib.search(text, facets=True, limit=10, offset=10))[0])
                if base is not None and not i % 2:
                    old_ms, old_result = ms(lambda: base.search(text, facets=True, limit=10))
                new.append(new_ms)
                if base is not None:
                    old.append(old_ms)
                    same += comparable(result) == comparable(old_result)
        row["search"] = stats(new)
        row["page2"] = stats(page2)
        if base is not None:
            row["baseline"] = stats(old)
            row["same_results"] = {"same": same, "compared": len(old)}
        if similar:
            ids = [h.example_id for h in lib.search("velferdsteknologi bolig skole kultur", limit=500).hits]
            sample = rng.sample(ids, min(similar, len(ids)))
            row["similar"] = timed(lambda x: lib.similar(x, limit=5), sample, max(1, repeats - 1))
            if base is not None:
                row["similar_baseline"] = timed(lambda x: base.similar(x, limit=5), sample, max(1, repeats - 1))
                same_similar = [comparable(lib.similar(x, limit=5)) == comparable(base.similar(x, limit=5))
                                for x in sample]
                row["similar_same"] = {"same": sum(same_similar), "compared": len(sample)}
        return row
    finally:
        lib.close()
        if base is not None:
            base.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,50000", help="synthetic index sizes, ascending (default: 10000,50000)")
    parser.add_argument("--repeats", type=int, default=3, help="timings per question on the archive (default: 3)")
    parser.add_argument("--scale-repeats", type=int, default=1, help="timings per question at 10k/50k (default: 1)")
    parser.add_argument("--similar-at", default="archive,10000", help="where to time similar (default: archive,10000)")
    parser.add_argument("--baseline", metavar="REF",
                        help="also time ingest/searchindex.py as it is at this git ref (e.g. HEAD, a commit) on the "
                             "same indexes and check that its results are the same")
    parser.add_argument("--keep", metavar="DIR",
                        help="build the indexes in DIR and keep them; indexes already there are reused (delete DIR "
                             "after changing the corpus, the ingest or the schema)")
    parser.add_argument("--out", default=str(RESULTS), help="JSON results file")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    similar_at = set(args.similar_at.split(","))
    questions = [q["text"] for q in tomllib.loads(QUESTIONS.read_text(encoding="utf-8"))["questions"]]
    baseline = baseline_index(args.baseline) if args.baseline else None
    rng = random.Random(SEED)
    rows: list[dict[str, Any]] = []
    builds: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="innosok-scale-") as tmp:
        work = Path(args.keep) if args.keep else Path(tmp)
        archive = work / "archive"
        started = time.perf_counter()
        if SearchIndex.current_generation(archive) is None:
            ingest(CORPUS, archive, rebuild=True, progress=False)
            builds.append({"index": "archive", "seconds": time.perf_counter() - started,
                           "what": "innosok ingest corpus/"})
        row = measure(archive, questions, args.repeats, 30 if "archive" in similar_at else 0, rng, baseline)
        rows.append({"index": "archive", **row})
        print(f"archive: {row['examples']} examples measured", flush=True)
        apps = corpus_records(archive)
        big = Path(tmp) / "synthetic"
        have = 0
        for size in sizes:
            new = synthetic(apps, size - have, have, rng)  # also when reused: the same seed gives the same index
            kept = work / f"synthetic-{size}"
            if args.keep and SearchIndex.current_generation(kept) is not None:
                shutil.rmtree(big, ignore_errors=True)
                shutil.copytree(kept, big)
            else:
                seconds = write(big, new)
                builds.append({"index": f"{size}", "added": size - have, "seconds": seconds,
                               "docs_per_s": (size - have) / seconds})
                print(f"{size}: wrote {size - have} examples in {seconds:.0f} s", flush=True)
                if args.keep:
                    shutil.copytree(big, kept)
            have = size
            row = measure(big, questions[::4], args.scale_repeats, 20 if str(size) in similar_at else 0, rng, baseline)
            rows.append({"index": f"{size}", **row})

    def pair(t: dict[str, Any] | None) -> str:
        return f"{t['p50_ms']:>9.1f}ms {t['p95_ms']:>9.1f}ms" if t else f"{'–':>11} {'–':>11}"

    def same(r: dict[str, Any] | None) -> str:
        return f"{r['same']:>3}/{r['compared']:<3}" if r else f"{'–':>3}/{'–':<3}"

    table = [f"{'index':>10} {'examples':>9} {'search p50':>11} {'search p95':>11} {'page 2 p50':>11} "
             f"{'page 2 p95':>11} {'before p50':>11} {'before p95':>11} {'same':>7} {'similar p50':>11} "
             f"{'similar p95':>11} {'before p50':>11} {'before p95':>11} {'same':>7} {'first search':>12}"]
    for r in rows:
        table.append(f"{r['index']:>10} {r['examples']:>9} {pair(r['search'])} {pair(r['page2'])} "
                     f"{pair(r.get('baseline'))} {same(r.get('same_results'))} {pair(r.get('similar'))} "
                     f"{pair(r.get('similar_baseline'))} {same(r.get('similar_same'))} {r['first_search_ms']:>10.0f}ms")
    table.append("")
    if args.baseline:
        table.append(f"before: ingest/searchindex.py at {args.baseline}; same: searches (similar: examples) whose "
                     "first page, total, facets and suggestion are identical to before")
    table += [f"build {b['index']}: {b['seconds']:.1f} s" + (f" ({b['added']} examples, {b['docs_per_s']:.0f}/s)"
                                                              if "added" in b else f" ({b['what']})") for b in builds]
    print("\n".join(table))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cpus": __import__("os").cpu_count()},
        "settings": {"sizes": sizes, "repeats": args.repeats, "scale_repeats": args.scale_repeats,
                     "questions": len(questions), "seed": SEED, "baseline": args.baseline},
        "rows": rows, "builds": builds, "table": table,
    }, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
