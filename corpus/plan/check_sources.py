"""Check sample-corpus sources against corpus/sources/FORMAT.md (run: python corpus/plan/check_sources.py [FILES])."""
from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

SECTORS = {"helse", "oppvekst", "sosial", "integrering", "kultur", "teknisk", "plan",
           "digitalisering", "innbyggerdialog", "ledelse"}
CRITERIA = {"helhet", "nyhet", "realisert", "verdi", "arbeidsmater", "spredning"}
Q2015 = {"bakgrunn", "gjennomforing", "resultater", "spredning", "fritekst"}
Q2016 = {"beskrivelse", "nytt", "realisert", "verdi", "arbeidsmater", "spredning", "fritekst"}
LAYOUTS = {"standard", "twocolumn", "scanned", "formfields", "encrypted", "letter"}


def check(path: Path) -> list[str]:
    errs: list[str] = []
    d = tomllib.loads(path.read_text(encoding="utf-8"))
    y = d.get("year")
    if y not in range(2015, 2020):
        errs.append("year")
    if not path.name.startswith(f"{y}-{d.get('slug')}"):
        errs.append("file name must be <year>-<slug>.toml")
    for k in ("municipality", "status", "language", "layout", "contact_name", "contact_email", "contact_phone"):
        if not d.get(k):
            errs.append(f"missing {k}")
    if not re.fullmatch(r"\d{4}|", d.get("kommunenummer", "x")):
        errs.append("kommunenummer")
    if not re.fullmatch(r"\d{2}", d.get("fylkesnummer", "")):
        errs.append("fylkesnummer")
    if d.get("status") not in {"winner", "finalist", "applicant"}:
        errs.append("status")
    if d.get("language") not in {"nb", "nn"}:
        errs.append("language")
    if d.get("layout") not in LAYOUTS:
        errs.append("layout")
    if not str(d.get("contact_email", "")).endswith(".example"):
        errs.append("contact_email must end with .example")
    exs = d.get("examples", [])
    if y == 2015:
        if len(exs) != 1 or not exs[0].get("summary"):
            errs.append("2015: exactly one example with a summary")
    else:
        if not 1 <= len(exs) <= 3:
            errs.append("one to three examples")
        if not d.get("why_us"):
            errs.append("why_us")
        if not set(d.get("why_us_criteria", [])) <= CRITERIA:
            errs.append("why_us_criteria")
    qs = Q2015 if y == 2015 else Q2016
    words = len(d.get("why_us", "").split())
    for i, ex in enumerate(exs, 1):
        if not ex.get("title"):
            errs.append(f"example {i}: title")
        if not ex.get("sectors") or not set(ex["sectors"]) <= SECTORS:
            errs.append(f"example {i}: sectors {ex.get('sectors')}")
        if ex.get("phase") not in {"behov", "utvikling", "i_bruk"}:
            errs.append(f"example {i}: phase")
        if not ex.get("answers"):
            errs.append(f"example {i}: answers")
        for a in ex.get("answers", []):
            if a.get("question") not in qs:
                errs.append(f"example {i}: question {a.get('question')}")
            if not set(a.get("criteria", [])) <= CRITERIA:
                errs.append(f"example {i}: criteria {a.get('criteria')}")
            if not a.get("text", "").strip():
                errs.append(f"example {i}: empty text")
            words += len(a.get("text", "").split())
        words += len(ex.get("summary", "").split())
    if words < 250:
        errs.append(f"only {words} words")
    return errs


if __name__ == "__main__":
    files = [Path(p) for p in sys.argv[1:]] or sorted(Path(__file__).parents[1].glob("sources/*/*.toml"))
    bad = 0
    for f in files:
        try:
            e = check(f)
        except Exception as exc:  # noqa: BLE001 - report any parse error with the file name
            e = [f"cannot read: {exc}"]
        if e:
            bad += 1
            print(f"{f}: " + "; ".join(e))
    print(f"{len(files)} files, {bad} with problems")
    sys.exit(1 if bad else 0)
