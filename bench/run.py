"""Innosøk benchmark: ingest throughput, extraction speed (pypdf vs pypdfium2) and search latency.

Run from the repository root:  `make bench`  (or `.venv/bin/python bench/run.py`).
Prints a table and writes bench/results/latest.json. Not a test: nothing here asserts a speed target.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `python bench/run.py` puts bench/ first on the path, not the repo root

import pypdf  # noqa: E402
import pypdfium2  # noqa: E402

from ingest.errors import FileProblemError  # noqa: E402
from ingest.extract import read_pdf  # noqa: E402
from ingest.pipeline import discover, ingest  # noqa: E402
from search_app.api import Library  # noqa: E402

CORPUS = ROOT / "corpus"
QUESTIONS = ROOT / "eval" / "questions.toml"
RESULTS = ROOT / "bench" / "results" / "latest.json"

SEARCH_VARIANTS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("search", "no filter", {}),
    ("search_years", "years=(2017, 2018)", {"years": (2017, 2018)}),
    ("search_municipality", 'municipality="Nordre Follo"', {"municipality": "Nordre Follo"}),
)


def percentile(values: list[float], pct: float) -> float:
    """Linear-interpolated percentile (same as numpy's default) of a non-empty list."""
    data = sorted(values)
    if len(data) == 1:
        return data[0]
    pos = (len(data) - 1) * pct / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


# --- 1. ingest end to end -------------------------------------------------------------------------


def bench_ingest(runs: int, keep: Path) -> dict[str, Any]:
    """Ingest the corpus `runs` times, each into a fresh index; the last index is built at `keep`."""
    files = len(discover(CORPUS))
    rows = []
    for i in range(runs):
        if i == runs - 1:
            target = keep
            report = ingest(CORPUS, target, rebuild=True, progress=False)
        else:
            with tempfile.TemporaryDirectory(prefix="innosok-bench-") as tmp:
                report = ingest(CORPUS, Path(tmp) / "index", rebuild=True, progress=False)
        seconds = max(report.seconds, 1e-9)
        rows.append({
            "seconds": report.seconds,
            "pages": report.pages,
            "files": files,
            "indexed": len(report.added) + len(report.changed),
            "examples": report.examples,
            "problems": len(report.problems),
            "pages_per_s": report.pages / seconds,
            "files_per_s": files / seconds,
        })
    last = rows[-1]
    return {
        "runs": rows,
        "seconds_median": statistics.median(r["seconds"] for r in rows),
        "pages_per_s_median": statistics.median(r["pages_per_s"] for r in rows),
        "files_per_s_median": statistics.median(r["files_per_s"] for r in rows),
        "files": files,
        "pages": last["pages"],
        "indexed": last["indexed"],
        "examples": last["examples"],
        "problems": last["problems"],
    }


# --- 2. extraction alone --------------------------------------------------------------------------


def _pypdf_pages(path: Path) -> int:
    return len(read_pdf(path).pages)


def _pdfium_pages(path: Path) -> int:
    doc = pypdfium2.PdfDocument(str(path))
    try:
        n = 0
        for page in doc:
            textpage = page.get_textpage()
            textpage.get_text_range()
            textpage.close()
            page.close()
            n += 1
        return n
    finally:
        doc.close()


def _timed_pass(reader, paths: list[Path]) -> tuple[float, int]:
    pages = 0
    started = time.perf_counter()
    for path in paths:
        pages += reader(path)
    return time.perf_counter() - started, pages


def bench_extract(passes: int) -> dict[str, Any]:
    """pypdf via read_pdf (in-process, as ingest uses it minus the fork) vs raw pypdfium2 text, same files."""
    paths: list[Path] = []
    skipped: list[str] = []
    for path in discover(CORPUS):  # selection pass, also warms the OS file cache and imports
        try:
            read_pdf(path)
        except FileProblemError as exc:
            skipped.append(f"{path.relative_to(CORPUS).as_posix()} ({exc.kind})")
            continue
        paths.append(path)
    _pdfium_pages(paths[0])  # warm pdfium once

    results: dict[str, Any] = {"files": len(paths), "skipped": skipped}
    for name, reader in (("pypdf", _pypdf_pages), ("pypdfium2", _pdfium_pages)):
        timings = []
        pages = 0
        for _ in range(passes):
            seconds, pages = _timed_pass(reader, paths)
            timings.append(seconds)
        median = statistics.median(timings)
        results[name] = {
            "pass_seconds": timings,
            "seconds_median": median,
            "pages": pages,
            "pages_per_s_median": pages / median,
        }
    results["ratio_pypdfium2_over_pypdf"] = (
        results["pypdfium2"]["pages_per_s_median"] / results["pypdf"]["pages_per_s_median"]
    )
    return results


# --- 3. search latency ----------------------------------------------------------------------------


def load_questions() -> list[str]:
    with QUESTIONS.open("rb") as fh:
        data = tomllib.load(fh)
    return [q["text"] for q in data.get("questions", []) if q.get("text")]


def bench_search(index_root: Path, questions: list[str], repeats: int) -> dict[str, Any]:
    library = Library(index_root)
    results: dict[str, Any] = {"questions": len(questions), "repeats": repeats}
    try:
        for key, note, kwargs in SEARCH_VARIANTS:
            for text in questions:  # warm-up: one run of every query
                library.search(text, limit=10, **kwargs)
            timings_ms: list[float] = []
            hits = 0
            for text in questions:
                for _ in range(repeats):
                    library.clear_query_cache()  # each timing a new question, not a page of one already run
                    started = time.perf_counter()
                    result = library.search(text, limit=10, **kwargs)
                    timings_ms.append((time.perf_counter() - started) * 1000.0)
                hits += len(result.hits)
            results[key] = {
                "filter": note,
                "timings": len(timings_ms),
                "p50_ms": percentile(timings_ms, 50),
                "p95_ms": percentile(timings_ms, 95),
                "max_ms": max(timings_ms),
                "mean_hits_per_query": hits / len(questions),
            }
    finally:
        library.close()
    return results


# --- report ---------------------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "cpu_count": os.cpu_count(),
        "pypdf": pypdf.__version__,
        "pypdfium2": pypdfium2.version.PYPDFIUM_INFO.version,
        "pdfium": str(pypdfium2.version.PDFIUM_INFO),
    }
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        info["git_commit"] = commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        info["git_commit"] = None
    return info


def table_rows(res: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    ing, ext, srch = res["ingest"], res["extract"], res["search"]
    n_ing, n_ext = len(ing["runs"]), len(ext["pypdf"]["pass_seconds"])
    rows = [
        ("ingest pages/s", f"{ing['pages_per_s_median']:.1f}", "pages/s",
         f"median of {n_ing}; {ing['pages']} pages indexed, fresh index, fork per file"),
        ("ingest files/s", f"{ing['files_per_s_median']:.1f}", "files/s",
         f"median of {n_ing}; {ing['files']} files ({ing['indexed']} indexed, {ing['problems']} problems)"),
        ("ingest time", f"{ing['seconds_median']:.2f}", "s",
         f"median of {n_ing}; {ing['examples']} examples"),
        ("extract pypdf (read_pdf)", f"{ext['pypdf']['pages_per_s_median']:.1f}", "pages/s",
         f"median of {n_ext}; {ext['files']} text PDFs, {ext['pypdf']['pages']} pages, in-process"),
        ("extract pypdfium2", f"{ext['pypdfium2']['pages_per_s_median']:.1f}", "pages/s",
         f"median of {n_ext}; same files; speed-of-light reference"),
        ("extract ratio pdfium/pypdf", f"{ext['ratio_pypdfium2_over_pypdf']:.1f}", "x",
         f"{len(ext['skipped'])} files skipped (no text layer)"),
    ]
    for key, note, _ in SEARCH_VARIANTS:
        s = srch[key]
        detail = f"{srch['questions']} questions x {srch['repeats']}, limit=10 + highlights"
        if note != "no filter":
            detail = f"{note}; {s['mean_hits_per_query']:.1f} hits/query avg"
        rows.append((f"{key.replace('_', ' ')} p50", f"{s['p50_ms']:.2f}", "ms", detail))
        rows.append((f"{key.replace('_', ' ')} p95", f"{s['p95_ms']:.2f}", "ms", f"{s['timings']} timings"))
    return rows


def print_table(rows: list[tuple[str, str, str, str]]) -> None:
    header = ("measure", "value", "unit", "note")
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(3)]
    line = f"{{:<{widths[0]}}}  {{:>{widths[1]}}}  {{:<{widths[2]}}}  {{}}"
    print(line.format(*header))
    print(line.format("-" * widths[0], "-" * widths[1], "-" * widths[2], "-" * 4))
    for row in rows:
        print(line.format(*row))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ingest-runs", type=int, default=3, help="ingest repetitions (default 3)")
    parser.add_argument("--extract-passes", type=int, default=3, help="extraction passes per reader (default 3)")
    parser.add_argument("--query-repeats", type=int, default=5, help="timed runs per query (default 5)")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"JSON output (default {RESULTS.relative_to(ROOT)})")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    timestamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    questions = load_questions()
    with tempfile.TemporaryDirectory(prefix="innosok-bench-") as tmp:
        index_root = Path(tmp) / "index"
        print(f"[1/3] ingest x{args.ingest_runs} ...", file=sys.stderr, flush=True)
        ingest_res = bench_ingest(args.ingest_runs, index_root)
        print(f"[2/3] extraction x{args.extract_passes} (pypdf, pypdfium2) ...", file=sys.stderr, flush=True)
        extract_res = bench_extract(args.extract_passes)
        print(f"[3/3] search: {len(questions)} questions x{args.query_repeats} x{len(SEARCH_VARIANTS)} ...",
              file=sys.stderr, flush=True)
        search_res = bench_search(index_root, questions, args.query_repeats)

    results = {
        "timestamp": timestamp,
        "machine": machine_info(),
        "settings": {
            "corpus": str(CORPUS.relative_to(ROOT)),
            "questions": str(QUESTIONS.relative_to(ROOT)),
            "ingest_runs": args.ingest_runs,
            "extract_passes": args.extract_passes,
            "query_repeats": args.query_repeats,
        },
        "ingest": ingest_res,
        "extract": extract_res,
        "search": search_res,
        "total_seconds": time.perf_counter() - started,
    }
    rows = table_rows(results)
    results["table"] = [dict(zip(("measure", "value", "unit", "note"), r)) for r in rows]

    m = results["machine"]
    print(f"Innosøk benchmark  {timestamp}  python {m['python']}  {m['cpu_count']} CPUs  {m['platform']}")
    print()
    print_table(rows)
    print()
    out = args.out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    shown = out.relative_to(ROOT) if out.is_relative_to(ROOT) else out
    print(f"Total {results['total_seconds']:.0f} s. Results written to {shown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
