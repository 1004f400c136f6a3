"""`innosok`: the command line. Each command delegates to the library and turns errors into messages."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from ingest.errors import InnosokError
from ingest.records import to_dict
from ingest.searchindex import MARK_END, MARK_START
from ingest.taxonomy import load_taxonomy
from search_app.api import SAMPLE_NOTICE, ExampleView, Library, default_index_root

if TYPE_CHECKING:  # pragma: no cover
    from ingest.tag_eval import CuratedEvaluation, Deal

TAG_SOURCE_NO = {"regel": "fra ordlisten", "modell": "fra klassifisereren", "skjema": "fra skjemaets spørsmål",
                 "kurator": "satt av kurator"}
STATUS_NO = {"winner": "vinner", "finalist": "finalist", "applicant": "søker"}


def _marks(text: str, color: bool) -> str:
    """Matched words in bold on a terminal, else between asterisks: «» are the applications' own quotes."""
    start, end = ("\033[1m", "\033[0m") if color else ("*", "*")
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
    if args.like:
        result = lib.similar(args.like, limit=args.limit)
    elif args.description:
        result = lib.by_description(args.query, limit=args.limit)
    else:
        result = lib.search(
            args.query, sectors=tuple(args.sector or ()), criteria=tuple(args.criterion or ()),
            years=tuple(args.year or ()), municipality=args.municipality or "", counties=tuple(args.county or ()),
            statuses=tuple(args.status or ()), recommended=args.recommended, limit=args.limit,
        )
    if args.json:
        out = [{**to_dict(h), "snippet": _marks(h.snippet, False), "title_marked": _marks(h.title_marked, False)}
               for h in result.hits]
        print(json.dumps({"total": result.total, "hits": out, "suggestion": result.suggestion,
                          "sample": lib.is_sample}, ensure_ascii=False, indent=2))
        return 0
    if lib.is_sample:
        print(f"({SAMPLE_NOTICE})\n")
    if result.suggestion:
        print(f"Mente du: {result.suggestion}\n")
    if not result.hits:
        print("Ingen treff. Prøv færre eller andre ord, eller fjern et filter.")
        return 0
    color = sys.stdout.isatty()
    print(f"{result.total} treff:\n")
    for i, h in enumerate(result.hits, 1):
        status = STATUS_NO.get(h.status, h.status)
        star = "  ★ anbefalt" if h.recommended else ""
        print(f"{i}. {h.title} — {h.municipality} ({h.year}, {status})  [{h.example_id}]  "
              f"poeng {h.score:.1f}{star}")
        if h.sectors:
            print(f"   sektorer: {', '.join(h.sectors)}")
        print("   " + _marks(h.snippet, color).replace("\n", " "))
        if h.reasons:
            print(f"   hvorfor: {'; '.join(h.reasons)}")
        elif h.matched:
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
    taxonomy = load_taxonomy()
    for kind in ("sector", "criterion", "phase"):
        tags = [t for t in ex.tags if t.kind == kind]
        if tags:
            print(f"{ {'sector': 'Sektorer', 'criterion': 'Kriterier', 'phase': 'Fase'}[kind]}:")
            for t in tags:  # each tag with the sentences behind it, so a reader can check it
                print(f"  - {taxonomy.name(kind, t.label)} ({t.label}): {t.confidence:.2f}, "
                      f"{TAG_SOURCE_NO.get(t.source, t.source)}")
                for sentence in t.evidence:
                    print(f"      «{sentence}»")
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
    similar = lib.similar(view.example.id, limit=5).hits
    if similar:
        print("\nLignende innovasjoner i andre kommuner:")
        for h in similar:
            print(f"  - {h.title} — {h.municipality} ({h.year}) [{h.example_id}]")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    app = Path(__file__).with_name("app.py")
    env = {**os.environ, "INNOSOK_INDEX": str(Path(args.index).resolve())}
    command = [
        sys.executable, "-m", "streamlit", "run", str(app),
        "--server.port", str(args.port), "--server.address", args.address,
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
    ]
    print(f"Innosøk kjører på http://{args.address}:{args.port} (stopp med Ctrl+C)", flush=True)
    # Become the server (no child left behind when this process is stopped).
    os.execve(sys.executable, command, env)
    return 0  # pragma: no cover - execve does not return


def _read_password(args: argparse.Namespace) -> str:
    """From stdin (--password-stdin, one line) or typed twice without echo; never from the command line."""
    import getpass

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise InnosokError("Ingen terminal å skrive passordet i. Send det på standard inn med --password-stdin.")
    first = getpass.getpass("Passord (minst 12 tegn): ")
    if getpass.getpass("Gjenta passordet: ") != first:
        raise InnosokError("Passordene var ikke like. Ingenting ble endret.")
    return first


def cmd_users(args: argparse.Namespace) -> int:
    from ingest.curation import CurationStore

    store = CurationStore(Path(args.store))
    if args.action == "add":
        user = store.add_user(args.username, _read_password(args))
        print(f"Kuratoren «{user.username}» er opprettet i {store.path}.")
    elif args.action == "password":
        store.set_password(args.username, _read_password(args))
        print(f"Nytt passord er satt for «{args.username}». Innlogginger med det gamle passordet er avsluttet.")
    elif args.action == "remove":
        store.remove_user(args.username)
        print(f"Kuratoren «{args.username}» er fjernet. Innlogginger den har nå, slutter å virke.")
    else:
        users = store.users()
        if not users:
            print("Ingen kuratorer ennå. Opprett en med: innosok users add BRUKERNAVN")
        for u in users:
            print(f"{u.username}\topprettet {u.created_at[:10]}\tsist innlogget {u.last_signin[:16] or 'aldri'}")
    return 0


def _titles(index_root: Path) -> dict[str, str]:
    from ingest.searchindex import SearchIndex

    try:
        index = SearchIndex.open(index_root)
    except InnosokError:
        return {}
    try:
        return {d["id"]: d["title"] for d in index.all_examples()}
    finally:
        index.close()


def cmd_curation(args: argparse.Namespace) -> int:
    from ingest.curation import CurationStore, sync_index
    from ingest.searchindex import SearchIndex

    store = CurationStore(Path(args.store))
    path = Path(args.file)
    if args.action == "export":
        count = store.export(path, args.format, titles=_titles(Path(args.index)))
        print(f"{count} kuratorvedtak er skrevet til {path}.")
        return 0
    report = store.import_file(path, user=args.user, fmt=args.format, overwrite=args.overwrite)
    print(f"Importert fra {path}: {len(report.added)} nye, {len(report.replaced)} erstattet, "
          f"{len(report.unchanged)} like fra før.")
    if report.conflicts:
        print(f"{len(report.conflicts)} eksempler har et annet vedtak her og ble ikke endret "
              f"(bruk --overwrite for å erstatte; det kan angres): {', '.join(report.conflicts)}")
    try:
        index = SearchIndex.open(Path(args.index))
    except InnosokError:
        print("Søkeindeksen finnes ikke ennå; vedtakene brukes når den bygges (innosok ingest).")
        return 1 if report.conflicts else 0
    try:
        updated = sync_index(index, store.decisions())
    finally:
        index.close()
    print(f"Søkeindeksen er oppdatert ({updated} eksempler endret).")
    return 1 if report.conflicts else 0


def cmd_eval_search(args: argparse.Namespace) -> int:
    from search_app.search_eval import evaluate_search

    report = evaluate_search(
        Path(args.questions), Path(args.corpus), index_root=Path(args.index) if args.index else None,
        progress=(lambda msg: None) if args.json else (lambda msg: print(msg, file=sys.stderr)),
    )
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        return 0
    print(f"Søkekvalitet på {report.overall['innosok'].questions} vurderte spørsmål "
          f"({report.examples_indexed} eksempler i indeksen):\n")
    print(report.table())
    if report.unresolved:
        print(f"\n{len(report.unresolved)} vurderte eksempler finnes ikke i indeksen (f.eks. skannede søknader uten "
              f"tekst) og teller som ikke funnet for begge: {', '.join(report.unresolved)}")
    return 0


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _print_curated_eval(report: "CuratedEvaluation") -> None:
    from ingest.tag_eval import format_scores

    taxonomy = load_taxonomy()
    print(f"Emneord mot kuratorenes merking: {report.folds}-delt kryssvalidering gruppert på søknad, "
          f"{_count(report.applications, 'søknad', 'søknader')}, "
          f"{_count(report.examples, 'kuratert eksempel', 'kuraterte eksempler')} ({report.seconds:.0f} s).\n")
    for title, scores, kind in (("Sektorer (per eksempel)", report.sector, "sector"),
                                ("Kriterier (per eksempel)", report.criterion, "criterion")):
        if not scores.items:
            print(f"{title}: ingen eksempler der kuratorene har satt dem.\n")
            continue
        print(f"{title}: {_count(scores.items, 'eksempel', 'eksempler')}")
        print(format_scores(scores, lambda lab, k=kind: f"{taxonomy.name(k, lab)} ({lab})"))
        print()

    def labels(values: tuple[str, ...] | None) -> str:
        return "–" if values is None else (", ".join(values) or "ingen")

    print("Eksemplene (kurator → merket):")
    for i in report.items:
        print(f"  - {i.title} [{i.example_id}]")
        if i.curated_sectors is not None:
            print(f"      sektorer: {labels(i.curated_sectors)} → {labels(i.predicted_sectors)}")
        if i.curated_criteria is not None:
            print(f"      kriterier: {labels(i.curated_criteria)} → {labels(i.predicted_criteria)}")
    if report.not_found:
        print(f"\n{_count(len(report.not_found), 'kuratert eksempel', 'kuraterte eksempler')} finnes ikke i "
              f"korpuset og er ikke med: {', '.join(report.not_found)}")
    if report.skipped:
        print(f"Ikke med (kunne ikke leses): {', '.join(report.skipped)}")


def _print_deals(deals: Sequence["Deal"]) -> None:
    """The headline figures per deal of the applications into folds, with their mean and range."""
    columns = (("sektorer mikro", "sector_micro_f1"), ("sektorer makro", "sector_macro_f1"),
               ("fritekst mikro", "criterion_free_micro_f1"), ("alle avsnitt mikro", "criterion_all_micro_f1"),
               ("fase riktig", "phase_accuracy"))
    print(f"\nSamme måling med søknadene fordelt på {len(deals)} ulike måter (F1 og andel riktig):")
    print(f"{'deling':<8}" + "".join(f"{name:>20}" for name, _ in columns))
    for d in deals:
        print(f"{d.seed + 1:<8}" + "".join(f"{getattr(d, key):>20.3f}" for _, key in columns))
    values = [[getattr(d, key) for d in deals] for _, key in columns]
    print(f"{'snitt':<8}" + "".join(f"{sum(v) / len(v):>20.3f}" for v in values))
    print(f"{'spenn':<8}" + "".join(f"{f'{min(v):.3f}–{max(v):.3f}':>20}" for v in values))


def cmd_eval_tags(args: argparse.Namespace) -> int:
    from ingest.tag_eval import evaluate, evaluate_curated, format_scores

    progress = (lambda msg: None) if args.json else (lambda msg: print(msg, file=sys.stderr))
    if args.curated:
        if args.repeats != 1:
            print("--repeats gjelder målingen mot fasit, ikke --curated: kuratorenes eksempler er selv foldene.",
                  file=sys.stderr)
            return 2
        curated = evaluate_curated(Path(args.corpus), Path(args.curation), folds=args.folds, progress=progress)
        if args.json:
            print(curated.to_json())
        else:
            _print_curated_eval(curated)
        return 0
    report = evaluate(Path(args.corpus), folds=args.folds, progress=progress, repeats=args.repeats)
    if args.json:
        print(report.to_json())
        return 0
    taxonomy = load_taxonomy()
    print(f"Emneord mot fasit: {report.folds}-delt kryssvalidering gruppert på søknad, {report.applications} søknader, "
          f"{report.examples} eksempler ({report.seconds:.0f} s).\n")
    for title, scores, kind in (("Sektorer (per eksempel)", report.sector, "sector"),
                                ("Kriterier, fritekst-avsnitt", report.criterion_free, "criterion"),
                                ("Kriterier, alle avsnitt", report.criterion_all, "criterion"),
                                ("Fase (per eksempel)", report.phase, "phase")):
        print(f"{title}: {scores.items} enheter")
        print(format_scores(scores, lambda lab, k=kind: f"{taxonomy.name(k, lab)} ({lab})"))
        print()
    print(f"Fase riktig: {report.phase_accuracy:.3f}")
    print("Lært av hver folds treningsdata (terskel, språkmodellens andel):")
    for n, fs in enumerate(report.fold_settings, 1):
        print(f"  fold {n}: sektorer {fs['sector_threshold']:.2f}, {fs['sector_share']:.2f}; "
              f"kriterier i fritekst {fs['criterion_threshold']:.2f} (flere: {fs['criterion_extra_threshold']:.2f}), "
              f"{fs['criterion_share']:.2f}")
    if len(report.parts) > 1:
        print("\nPer del av korpuset (F1 og andel riktig): utvalget har arkivets form, tillegget er merkede søknader "
              "utover det (corpus/supplement):")
        print(f"{'del':<10}{'søknader':>9}{'eksempler':>10}{'fritekst':>9}{'sektorer mikro':>16}{'sektorer makro':>16}"
              f"{'fritekst mikro':>16}{'alle avsnitt':>14}{'fase':>7}")
        for part in report.parts:
            print(f"{part.name:<10}{part.applications:>9}{part.examples:>10}{part.free_passages:>9}"
                  f"{part.sector_micro_f1:>16.3f}{part.sector_macro_f1:>16.3f}{part.criterion_free_micro_f1:>16.3f}"
                  f"{part.criterion_all_micro_f1:>14.3f}{part.phase_accuracy:>7.3f}")
    if len(report.deals) > 1:
        _print_deals(report.deals)
    if report.skipped:
        print(f"Ikke med (kunne ikke leses): {', '.join(report.skipped)}")
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
    p.add_argument("query", nargs="?", default="", help="words to search for; \"quotes\" for a phrase")
    p.add_argument("--like", metavar="ID", help="instead: the examples most like this one (similar innovations)")
    p.add_argument("--description", action="store_true",
                   help="QUERY is a pasted description of your own problem: find the closest examples")
    p.add_argument("--sector", action="append", help="only this sector id (repeatable), e.g. helse")
    p.add_argument("--criterion", action="append", help="only this jury criterion id (repeatable), e.g. spredning")
    p.add_argument("--year", action="append", type=int, help="only this year (repeatable)")
    p.add_argument("--municipality", help="only this municipality, by its name then or today (e.g. Nordre Follo)")
    p.add_argument("--county", action="append", help="only this county (then or today), e.g. Vestland")
    p.add_argument("--status", action="append", choices=["winner", "finalist", "applicant"], help="only this status")
    p.add_argument("--recommended", action="store_true", help="only examples curators recommend (anbefalt eksempel)")
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

    from ingest.curation import default_store_path

    store_help = "curation store (default: $INNOSOK_CURATION or ./curation/innosok.sqlite)"
    p = sub.add_parser("users", help="add, remove or list curators, or set a new password (sign-in for the "
                                     "curation page)",
                       description="Manage the curators who may sign in to the curation page. Passwords are "
                                   "stored as scrypt hashes; there is no default user or password.")
    p.add_argument("action", choices=["add", "password", "remove", "list"], help="what to do")
    p.add_argument("username", nargs="?", help="the curator's user name (add, password, remove)")
    p.add_argument("--password-stdin", action="store_true",
                   help="read the password from standard input (one line) instead of asking for it")
    p.add_argument("--store", default=str(default_store_path()), help=store_help)
    p.set_defaults(func=cmd_users)

    p = sub.add_parser("curation", help="export or import curators' decisions (CSV or JSON)",
                       description="Export the curated set (to publish it or move it to another installation) "
                                   "or import one. Import never silently overwrites a different local decision.")
    p.add_argument("action", choices=["export", "import"], help="what to do")
    p.add_argument("file", help="the .json or .csv file")
    p.add_argument("--format", choices=["json", "csv"], help="file format (default: from the file name)")
    p.add_argument("--overwrite", action="store_true", help="import: replace differing local decisions (undoable)")
    p.add_argument("--user", default="import", help="import: the name the history records (default: import)")
    p.add_argument("--store", default=str(default_store_path()), help=store_help)
    p.add_argument("--index", default=str(default_index_root()), help=index_help)
    p.set_defaults(func=cmd_curation)

    p = sub.add_parser("eval", help="measure search or tagging quality on the judged data in eval/ and corpus/gold/",
                       description="Measure quality against judged data. Each measurement is a subcommand.")
    eval_commands = p.add_subparsers(dest="eval_command", required=True, metavar="WHAT")  # one add_parser each
    e = eval_commands.add_parser(
        "search", help="nDCG@10, recall@20 and MRR: plain Whoosh baseline vs Innosøk, side by side",
        description="Index the corpus twice in temporary folders (Whoosh's StandardAnalyzer and Innosøk's "
                    "Norwegian analysis) and score both on the judged questions.")
    e.add_argument("--questions", default="eval/questions.toml", help="judged questions (default: eval/questions.toml)")
    e.add_argument("--corpus", default="corpus", help="folder with the PDFs (default: ./corpus)")
    e.add_argument("--index", help="use this existing index instead of building one from --corpus")
    e.add_argument("--json", action="store_true", help="print every number and every question's top 10 as JSON")
    e.set_defaults(func=cmd_eval_search)
    e = eval_commands.add_parser(
        "tags", help="precision, recall and F1 of the sector, criterion and phase tags against corpus/gold",
        description="Cross-validate the tagger on the sample corpus, folds grouped by application (a model never "
                    "trains on an example of the application it tags), and score it against the gold labels "
                    "(with --curated: against the curators' labels).")
    e.add_argument("--corpus", default="corpus", help="the sample corpus with gold/ (default: ./corpus)")
    e.add_argument("--folds", type=int, default=5, help="number of folds (default: 5)")
    e.add_argument("--repeats", type=int, default=1,
                   help="deal the applications into folds this many ways and show how the figures move (default: 1)")
    e.add_argument("--curated", action="store_true",
                   help="score against the curators' labels instead: the curated examples, per example, with the "
                        "curators' labels replacing gold rows in training")
    e.add_argument("--curation", default=str(default_store_path()), metavar="PATH",
                   help=f"with --curated: the {store_help}")
    e.add_argument("--json", action="store_true", help="print every number as JSON")
    e.set_defaults(func=cmd_eval_tags)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "users" and args.action in ("add", "password", "remove") and not args.username:
        parser.error(f"users {args.action} needs a USERNAME")
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
