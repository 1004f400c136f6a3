"""Render one application: pick the drawing for its layout and write the file."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import layout, pdf, raster, secure
from .source import Source, parse_source


def render_bytes(source: Source) -> tuple[bytes, int]:
    """The PDF bytes of a validated source and its page count."""
    if source.layout == "scanned":
        text_pdf, pages = pdf.draw(source, "standard")
        return raster.rasterize(text_pdf, source.stem, layout.metadata(source)), pages
    if source.layout == "encrypted":
        text_pdf, pages = pdf.draw(source, "standard")
        return secure.encrypt(text_pdf, source.stem, layout.metadata(source)), pages
    return pdf.draw(source, source.layout)


def render_pdf(source: Mapping[str, Any], out: Path) -> int:
    """Render one application (TOML-shaped mapping) to `out`; returns the number of pages."""
    data, pages = render_bytes(parse_source(source))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(out)
    return pages
