"""Render the whole sample corpus and write its manifest and gold tables.

A bad source is reported with its name and reason and skipped; the batch goes on
(the other helpers are still writing sources while the corpus is being built).
"""
from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from .export import PdfEntry, sha256_file, write_tables
from .render import render_bytes
from .source import Source, SourceError, load_source, parse_source

T = TypeVar("T")
Progress = Callable[[Iterable[T]], Iterable[T]]


@dataclass(frozen=True)
class BuildReport:
    """What a build did; paths are absolute."""

    rendered: tuple[Path, ...]
    kept: tuple[Path, ...]
    failed: tuple[tuple[Path, str], ...]
    unrendered: tuple[Path, ...]
    orphans: tuple[Path, ...]
    manifest: Path
    documents: int
    pages: int

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        """A few lines for the command line."""
        lines = [f"rendered {len(self.rendered)} PDFs, kept {len(self.kept)} unchanged; "
                 f"manifest: {self.documents} documents, {self.pages} pages -> {self.manifest}"]
        lines += [f"FAILED {path.name}: {reason}" for path, reason in self.failed]
        lines += [f"not in manifest (outside --only, never rendered): {p.name}" for p in self.unrendered]
        lines += [f"orphan PDF without a source (left in place): {p}" for p in self.orphans]
        return "\n".join(lines)


def pdf_path(root: Path, source: Source) -> Path:
    return root / "pdf" / str(source.year) / f"{source.stem}.pdf"


def matches(path: Path, root: Path, only: str | None) -> bool:
    """`--only` matches the stem ('2016-*'), the file name or the path under the corpus root."""
    if only is None:
        return True
    names = (path.stem, path.name, path.relative_to(root).as_posix())
    return any(fnmatch.fnmatch(name, only) for name in names)


def count_pages(path: Path) -> int:
    reader = PdfReader(path)
    if reader.is_encrypted:
        reader.decrypt("")
    return len(reader.pages)


def _identity(items: Iterable[T]) -> Iterable[T]:
    return items


def build_corpus(root: Path, only: str | None = None, *, progress: Progress | None = None) -> BuildReport:
    """Render `root/sources/*/*.toml` to `root/pdf/<year>/`, then write manifest and gold.

    With `only`, just the matching sources are rendered; the others keep the PDF they have
    (the manifest still lists every valid source whose PDF exists). `progress` may wrap
    the sources being rendered (e.g. `tqdm`).
    """
    root = Path(root).resolve()
    paths = sorted(root.glob("sources/*/*.toml"))
    entries: list[PdfEntry] = []
    rendered: list[Path] = []
    kept: list[Path] = []
    unrendered: list[Path] = []
    failed: list[tuple[Path, str]] = []

    valid: list[tuple[Path, Source]] = []
    for path in paths:
        try:
            valid.append((path, _load(path)))
        except SourceError as exc:
            failed.append((path, exc.reason))

    to_render = [(p, s) for p, s in valid if matches(p, root, only)]
    wrap = progress or _identity
    for path, source in wrap(to_render):
        out = pdf_path(root, source)
        try:
            data, pages = render_bytes(source)
        except Exception as exc:  # noqa: BLE001 - report the file and go on with the batch
            failed.append((path, f"render failed: {type(exc).__name__}: {exc}"))
            continue
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(out)
        rendered.append(out)
        entries.append(PdfEntry(source, out.relative_to(root).as_posix(), pages, sha256_file(out)))

    for path, source in valid:
        if matches(path, root, only):
            continue
        out = pdf_path(root, source)
        if not out.exists():
            unrendered.append(path)
            continue
        try:
            entries.append(PdfEntry(source, out.relative_to(root).as_posix(), count_pages(out), sha256_file(out)))
            kept.append(out)
        except (PdfReadError, OSError, ValueError) as exc:
            failed.append((path, f"existing PDF unreadable: {exc}"))

    manifest = write_tables(root, entries)
    return BuildReport(
        rendered=tuple(rendered), kept=tuple(kept), failed=tuple(sorted(failed)),
        unrendered=tuple(unrendered), orphans=_orphans(root, [s for _, s in valid]),
        manifest=manifest, documents=len(entries), pages=sum(e.pages for e in entries),
    )


def _load(path: Path) -> Source:
    """A valid source whose folder matches its year (sources/<year>/<year>-<slug>.toml)."""
    source = parse_source(load_source(path), name=path.name)
    if path.parent.name != str(source.year):
        raise SourceError(path.name, f"lies in sources/{path.parent.name}/ but says year = {source.year}")
    return source


def _orphans(root: Path, sources: Sequence[Source]) -> tuple[Path, ...]:
    expected = {pdf_path(root, s) for s in sources}
    return tuple(p for p in sorted(root.glob("pdf/*/*.pdf")) if p not in expected)
