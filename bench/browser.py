"""Innosøk browser benchmark: time from submitting a query in a real browser to its results being rendered.

Run from the repository root:  `.venv/bin/python bench/browser.py`  (needs Debian's chromium; `make test`
installs it). Builds an index of corpus/ in a temporary folder (or uses --index), serves the app with
`innosok serve` on a free port, drives headless chromium with Playwright, and types every question of
eval/questions.toml into the search box. One warm-up pass, then --passes timed passes.

A timing starts when Enter is pressed in the search box and stops when the page shows the heading
"N treff for «question»" and has settled (no script run in progress, no greyed-out stale element):
server search + Streamlit rerun + websocket + React rendering, as a user sees it. The time to the
heading alone (results start to show; the filter column is written after the results) is kept too. Measured with
time.perf_counter around Playwright calls, so each timing also holds a few ms of Playwright round trips.

Prints p50/p95/max and writes bench/results/browser.json. Not a test: nothing here asserts a target.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import percentile  # noqa: E402

QUESTIONS = ROOT / "eval" / "questions.toml"
RESULTS = ROOT / "bench" / "results" / "browser.json"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--disable-quic"]
HEADING = """q => [...document.querySelectorAll('h2')].some(h => h.innerText.includes('treff for «' + q + '»'))"""
SETTLED = """() => !document.querySelector('[data-testid="stStatusWidget"]')
    && !document.querySelector('[data-stale="true"]')"""


def questions() -> list[str]:
    data = tomllib.loads(QUESTIONS.read_text(encoding="utf-8"))
    return [q["text"] for q in data["questions"]]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served(index: Path) -> Iterator[str]:
    """`innosok serve` on a free port; yields the base URL, stops the server afterwards."""
    port = _free_port()
    env = {**os.environ, "INNOSOK_CORPUS": str(ROOT / "corpus")}
    proc = subprocess.Popen([sys.executable, "-m", "search_app.cli", "serve", "--port", str(port), "--index", str(index)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://localhost:{port}/_stcore/health", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit("innosok serve did not start")
                time.sleep(0.3)
        yield f"http://localhost:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def run(index: Path, passes: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("Debian's chromium is not installed (apt-get install chromium).")
    texts = questions()
    timings: list[dict[str, Any]] = []
    with served(index) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=LAUNCH_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(60_000)
        page.goto(url)
        box = page.get_by_label("Hva vil du løse?")
        box.wait_for()
        for n in range(passes + 1):  # pass 0 is the warm-up
            for text in texts:
                box.fill(text)
                started = time.perf_counter()
                box.press("Enter")
                page.wait_for_function(HEADING, arg=text, polling=10)
                heading = (time.perf_counter() - started) * 1000
                page.wait_for_function(SETTLED, polling=10)
                ms = (time.perf_counter() - started) * 1000
                if n > 0:
                    timings.append({"question": text, "pass": n, "ms": ms, "heading_ms": heading})
        browser.close()
        version = browser.version
    values = [t["ms"] for t in timings]
    headings = [t["heading_ms"] for t in timings]
    return {
        "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
                    "chromium": version},
        "settings": {"questions": len(texts), "passes": passes, "index": str(index)},
        "query_to_rendered_ms": {"p50": percentile(values, 50), "p95": percentile(values, 95), "max": max(values),
                                 "mean": statistics.fmean(values), "n": len(values)},
        "query_to_heading_ms": {"p50": percentile(headings, 50), "p95": percentile(headings, 95)},
        "timings": timings,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, help="an existing index (default: build one of corpus/ in a temp folder)")
    parser.add_argument("--passes", type=int, default=2, help="timed passes over the questions (default: 2)")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"result file (default: {RESULTS.relative_to(ROOT)})")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="innosok-bench-browser-") as tmp:
        index = args.index
        if index is None:
            from ingest.pipeline import ingest

            index = Path(tmp) / "index"
            report = ingest(ROOT / "corpus", index, rebuild=True, progress=False, curation=Path(tmp) / "kurator.sqlite")
            print(f"Index of corpus/: {report.examples} examples ({report.seconds:.1f} s)")
        result = run(index, args.passes)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    r = result["query_to_rendered_ms"]
    print(f"query → results rendered in the browser, {r['n']} timings over {result['settings']['questions']} "
          f"questions: p50 {r['p50']:.0f} ms, p95 {r['p95']:.0f} ms, max {r['max']:.0f} ms")
    h = result["query_to_heading_ms"]
    print(f"(the heading «N treff for …» appears first: p50 {h['p50']:.0f} ms, p95 {h['p95']:.0f} ms)")
    print(f"Written to {args.out}")


if __name__ == "__main__":
    main()
