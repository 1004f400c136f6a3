"""Renderer of Innosøk's sample corpus: TOML sources -> application PDFs, manifest, gold.

Public API (the ingest pipeline's tests generate PDFs on the fly with it):

- `load_source(path)`: parsed and validated TOML source (dict); raises `SourceError`.
- `render_pdf(source, out)`: render one application (same dict shape) to `out`; page count.
- `build_corpus(root, only=None)`: render `root/sources/*/*.toml` to `root/pdf/<year>/`,
  write `root/manifest.csv` and `root/gold/`; returns a `BuildReport`.
"""
from .build import BuildReport, build_corpus
from .render import render_pdf
from .source import SourceError, load_source, parse_source

__all__ = ["BuildReport", "SourceError", "build_corpus", "load_source", "parse_source", "render_pdf"]
