"""`python -m corpus.render [--only GLOB] [--root DIR]`: build the sample corpus."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .build import build_corpus

DEFAULT_ROOT = Path(__file__).resolve().parents[1]  # the corpus/ folder this package lives in


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m corpus.render",
        description="Render the sample applications (corpus/sources/*/*.toml) to corpus/pdf/ "
                    "and write corpus/manifest.csv and corpus/gold/.")
    parser.add_argument("--only", metavar="GLOB",
                        help="render only sources whose stem, file name or path matches, e.g. '2016-*'")
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT,
                        help="corpus folder holding sources/ (default: %(default)s)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    report = build_corpus(args.root, args.only, progress=None if args.quiet else _progress_bar())
    print(report.summary())
    return 0 if report.ok else 1


def _progress_bar():  # type: ignore[no-untyped-def]
    """tqdm if it is installed; rendering works without it."""
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return lambda items: tqdm(items, desc="rendering", unit="pdf", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
