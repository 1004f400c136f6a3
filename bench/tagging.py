"""Tagging throughput: pages per second on one core, the model loaded once per batch.

Run from the repository root:  `.venv/bin/python bench/tagging.py`  (also part of `make bench`).
Prints a table and writes bench/results/tagging.json. Not a test: nothing here asserts a speed target.

What is measured:
- train: `TagModels.train` on the gold labels of the sample corpus (what the first ingest after a change
  of labels pays once; later batches load the cached model);
- per run, in a fresh child process pinned to one CPU (numpy/BLAS and the embedding model limited to one
  thread), with the untagged applications of the sample corpus (read and parsed beforehand, not timed):
  - load: `Tagger.for_index(index)` reading the cached model from disk (once per batch);
  - tag: the one tagger applied to every application, as `ingest` does: pages/s = pages / seconds;
  - twice: «cold», every sentence vector computed by the embedding model (new PDFs), and «cached», the
    vectors read from the shipped file of the sample corpus (a re-tag after the model changed).
  The first run of a process also pays spaCy's and the lexicon's first use; that is part of a batch, so
  it is included. Median of the runs.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # before numpy loads: one core
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import pickle  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `python bench/tagging.py` puts bench/ first on the path

CORPUS = ROOT / "corpus"
RESULTS = ROOT / "bench" / "results" / "tagging.json"


def pin_one_core() -> int | None:
    """Run this process on one CPU (Linux); the CPU number, or None where affinity is not available."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return cpu


def child(apps_file: Path, index: Path, mode: str) -> dict[str, Any]:
    """One batch: load the model once, tag every application with it (vectors «cold» or «cached»)."""
    cpu = pin_one_core()
    with apps_file.open("rb") as fh:
        apps = pickle.load(fh)
    from ingest.embedding import Embedder, VectorCache
    from ingest.tagging import Tagger

    embedder = Embedder(cache=VectorCache(None), seed={} if mode == "cold" else None)
    started = time.perf_counter()
    tagger = Tagger.for_index(index, embedder=embedder)
    load = time.perf_counter() - started
    started = time.perf_counter()
    tagged = [tagger(app) for app in apps]
    seconds = time.perf_counter() - started
    pages = sum(a.page_count for a in apps)
    return {"mode": mode, "cpu": cpu, "load_s": load, "tag_s": seconds, "pages": pages, "applications": len(apps),
            "vectors_computed": embedder.computed,
            "examples": sum(len(a.examples) for a in tagged), "tags": sum(len(e.tags) for a in tagged for e in a.examples),
            "pages_per_s": pages / seconds if seconds else 0.0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="child processes to time (default: 3)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="JSON results file")
    parser.add_argument("--child", nargs=3, metavar=("APPS", "INDEX", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(Path(args.child[0]), Path(args.child[1]), args.child[2])))
        return 0

    from ingest.golddata import load_gold
    from ingest.tag_eval import read_corpus
    from ingest.tagging import MODELS_FOLDER, TagModels, Tagger, model_key
    from ingest.taxonomy import load_taxonomy

    apps, skipped = read_corpus(CORPUS)
    gold = load_gold(CORPUS / "gold")
    with tempfile.TemporaryDirectory(prefix="innosok-bench-tags-") as tmp:
        index = Path(tmp) / "index"
        started = time.perf_counter()
        models = TagModels.train(gold)
        train = time.perf_counter() - started
        assert models.key == model_key(gold, load_taxonomy())
        models.save(index / MODELS_FOLDER / f"tagger-{models.key[:16]}")
        assert Tagger.for_index(index).models is not None
        apps_file = Path(tmp) / "apps.pickle"
        with apps_file.open("wb") as fh:
            pickle.dump(apps, fh)
        runs = []
        for mode in ("cached", "cold"):
            for _ in range(args.runs if mode == "cached" else 1):  # a cold run takes minutes: once
                out = subprocess.run([sys.executable, __file__, "--child", str(apps_file), str(index), mode],
                                     check=True, capture_output=True, text=True, cwd=ROOT)
                runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    median = {mode: {k: statistics.median(r[k] for r in runs if r["mode"] == mode)
                     for k in ("load_s", "tag_s", "pages_per_s")} for mode in ("cached", "cold")}
    first = runs[0]
    table = [
        ("train (gold, once per change of labels)", f"{train:.1f} s"),
        ("model load (once per batch)", f"{median['cached']['load_s']:.2f} s"),
        ("tag the sample corpus, vectors cached", f"{median['cached']['tag_s']:.2f} s for {first['pages']} pages, "
                                                  f"{first['applications']} applications, {first['examples']} examples"),
        ("tagging pages/s (one core), vectors cached", f"{median['cached']['pages_per_s']:.1f}"),
        ("tag the sample corpus, vectors computed", f"{median['cold']['tag_s']:.2f} s "
                                                   f"({runs[-1]['vectors_computed']} texts embedded)"),
        ("tagging pages/s (one core), vectors computed", f"{median['cold']['pages_per_s']:.1f}"),
        ("cached / computed (speed ratio)", f"{median['cached']['pages_per_s'] / median['cold']['pages_per_s']:.1f}×"),
    ]
    width = max(len(k) for k, _ in table)
    print("\n".join(f"{k:<{width}}  {v}" for k, v in table))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count()},
        "train_s": train, "runs": runs, "median": median, "skipped": skipped, "table": table,
    }, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"\nResults: {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
