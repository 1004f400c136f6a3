"""`innosok`: the command line. Each command delegates to the library and turns errors into messages."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Sequence

from ingest.errors import InnosokError
from ingest.records import to_dict
from ingest.searchindex import MARK_END, MARK_START
from search_app.api import SAMPLE_NOTICE, ExampleView, Library, default_index_root

STATUS_NO = {"winner": "vinner", "finalist": "finalist", "applicant": "søker"}


def _marks(text: str, color: bool) -> str:
    start, end = ("\033[1m", "\033[0m") if color else ("«", "»")
    return text.replace(MARK_START, start).replace(MARK_END, end)


def cmd_ingest(args: argparse.Namespace) -> int:
    from ingest.extract import ExtractLimits
    from ingest.pipeline import ingest

    report = ingest(
        Path(args.corpus), Path(args.index), rebuild=args.rebuild, progress=not args.quiet,
        limits=ExtractLimits(seconds=args.timeout),
    )
    for note in report.notes:
        print(note)
    print(f"Ferdig på {report.seconds:.1f} s: {len(report.added)} nye, {len(report.changed)} endrede, "
          f"{len(report.removed)} fjernede og {report.unchanged} uendrede filer.")
    print(f"Indeksen har nå {report.applications} søknader med {report.examples} innovasjonseksempler.")
    if report.problems:
        print(f"\n{len(report.problems)} filer ble ikke lagt inn:")
        for p in report.problems:
            print(f"  - {p.file}: {p.message}")
    if args.report:
        Path(args.report).write_text(report.to_json(), encoding="utf-8")
        print(f"\nRapporten er lagret i {args.report}.")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    lib = Library(Path(args.index))
    result = lib.search(
        args.query, sectors=tuple(args.sector or ()), years=tuple(args.year or ()),
        municipality=args.municipality or "", counties=tuple(args.county or ()),
        statuses=tuple(args.status or ()), limit=args.limit,
    )
    if args.json:
        out = [{**to_dict(h), "snippet": _marks(h.snippet, False)} for h in result.hits]
        print(json.dumps({"total": result.total, "hits": out, "sample": lib.is_sample}, ensure_ascii=False, indent=2))
        return 0
    if lib.is_sample:
        print(f"({SAMPLE_NOTICE})\n")
    if not result.hits:
        print("Ingen treff. Prøv færre eller andre ord, eller fjern et filter.")
        return 0
    color = sys.stdout.isatty()
    print(f"{result.total} treff:\n")
    for i, h in enumerate(result.hits, 1):
        status = STATUS_NO.get(h.status, h.status)
        print(f"{i}. {h.title} — {h.municipality} ({h.year}, {status})  [{h.example_id}]  "
              f"poeng {h.score:.1f}")
        if h.sectors:
            print(f"   sektorer: {', '.join(h.sectors)}")
        print("   " + _marks(h.snippet, color).replace("\n", " "))
        if h.matched:
            words = sorted({t for _, t in h.matched})
            print(f"   treff på: {', '.join(words)}")
        print()
    return 0


def _print_view(view: ExampleView) -> None:
    ex, app = view.example, view.application
    m = app.municipality
    print(ex.title)
    print("=" * len(ex.title))
    print(f"Søker: {m.written or m.name} ({app.year}, {STATUS_NO.get(app.status, app.status)})")
    if m.name:
        today = ", ".join(m.today_names)
        print(f"Kommune da: {m.name} ({m.number}), {m.county}. I dag: {today or m.name}, {m.today_county}.")
    if m.population:
        print(f"Innbyggere: {m.population} ({m.population_year})")
    c = app.contact
    if c.name or c.email:
        print(f"Kontakt: {', '.join(x for x in (c.name, c.title, c.email, c.phone) if x)}")
    print(f"Fil: {app.file}, side {ex.page_start}–{ex.page_end}  (id {ex.id})")
    for kind in ("sector", "criterion", "phase"):
        tags = [t for t in ex.tags if t.kind == kind]
        if tags:
            print(f"{ {'sector': 'Sektorer', 'criterion': 'Kriterier', 'phase': 'Fase'}[kind]}: "
                  + ", ".join(f"{t.label} ({t.confidence:.2f})" for t in tags))
    print()
    for section in ex.sections:
        if section.label:
            print(f"## {section.label}  (s. {section.page_start})")
        print(section.text)
        print()
    if view.siblings:
        print("Andre eksempler i samme søknad:")
        for s in view.siblings:
            print(f"  - {s.title} [{s.id}]")


def cmd_show(args: argparse.Namespace) -> int:
    lib = Library(Path(args.index))
    view = lib.show(args.id)
    if args.json:
        print(json.dumps({"example": to_dict(view.example), "application": to_dict(view.application)},
                         ensure_ascii=False, indent=2))
        return 0
    if lib.is_sample:
        print(f"({SAMPLE_NOTICE})\n")
    _print_view(view)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    app = Path(__file__).with_name("app.py")
    env = {**os.environ, "INNOSOK_INDEX": str(Path(args.index).resolve())}
    command = [
        sys.executable, "-m", "streamlit", "run", str(app),
        "--server.port", str(args.port), "--server.address", args.address,
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
    ]
    print(f"Innosøk kjører på http://{args.address}:{args.port} (stopp med Ctrl+C)")
    try:
        return subprocess.call(command, env=env)
    except KeyboardInterrupt:
        return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="innosok",
        description="Innosøk: søk i søknadene til KMDs innovasjonspris (search the innovation prize applications).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    index_help = "index folder (default: $INNOSOK_INDEX or ./index)"

    p = sub.add_parser("ingest", help="read new and changed PDFs into the index (incremental)",
                       description="Read new and changed application PDFs into the index; remove deleted ones.")
    p.add_argument("corpus", nargs="?", default="corpus", help="folder with the PDFs (default: ./corpus)")
    p.add_argument("--index", default=str(default_index_root()), help=index_help)
    p.add_argument("--rebuild", action="store_true", help="build the whole index again from scratch")
    p.add_argument("--report", metavar="FILE", help="also write the run's report as JSON to FILE")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds one file may take (default: 60)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("search", help="search innovation examples", description="Search innovation examples.")
    p.add_argument("query", help="words to search for; \"quotes\" for a phrase")
    p.add_argument("--sector", action="append", help="only this sector id (repeatable), e.g. helse")
    p.add_argument("--year", action="append", type=int, help="only this year (repeatable)")
    p.add_argument("--municipality", help="only this municipality, by its name then or today (e.g. Nordre Follo)")
    p.add_argument("--county", action="append", help="only this county (then or today), e.g. Vestland")
    p.add_argument("--status", action="append", choices=["winner", "finalist", "applicant"], help="only this status")
    p.add_argument("--limit", type=int, default=10, help="how many results (default: 10)")
    p.add_argument("--json", action="store_true", help="print results as JSON")
    p.add_argument("--index", default=str(default_index_root()), help=index_help)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("show", help="print one innovation example in full", description="Print one example in full.")
    p.add_argument("id", help="the example's id, as printed by search")
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.add_argument("--index", default=str(default_index_root()), help=index_help)
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("serve", help="start the search app in the browser", description="Start the Streamlit app.")
    p.add_argument("--port", type=int, default=8501, help="port (default: 8501)")
    p.add_argument("--address", default="localhost", help="address to listen on (default: localhost)")
    p.add_argument("--index", default=str(default_index_root()), help=index_help)
    p.set_defaults(func=cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except InnosokError as exc:
        print(f"Feil: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Avbrutt.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
