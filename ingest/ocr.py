"""OCR for scanned applications: pages rendered by pdfium, read by Tesseract (Norwegian + English).

Many older applications were printed, signed and scanned: without OCR they could not be searched at
all. Tesseract is a system program (Debian: tesseract-ocr, tesseract-ocr-nor; `make` installs them);
without it a scan is reported as needing OCR, as before. Pages go to Tesseract as greyscale PGM on
standard input, so neither Pillow nor temporary files are needed.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import time

from ingest.errors import FileProblemError

LANGUAGES = "nor+eng"
DPI = 300  # Tesseract reads body text best at 300 dpi; lower loses æøå diacritics on small print
MAX_PAGES = 40  # an application is a few pages; a 400-page scan is not one, and would take minutes
PAGE_SECONDS = 60.0
# One thread per page: Tesseract's OpenMP threads fight each other on a small machine (measured here:
# 26 s for a page with the default, 3.6 s with one thread).
_ENV = {**os.environ, "OMP_THREAD_LIMIT": "1"}


@functools.cache
def available() -> bool:
    """Tesseract with Norwegian installed (checked once per process)."""
    exe = shutil.which("tesseract")
    if exe is None:
        return False
    try:
        out = subprocess.run([exe, "--list-langs"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    langs = {line.strip() for line in out.stdout.splitlines()[1:]}
    return {"nor", "eng"} <= langs


def _pgm(page: object, dpi: int) -> bytes:
    """One page as a binary greyscale PGM (header + rows without pdfium's row padding)."""
    bitmap = page.render(scale=dpi / 72, grayscale=True)  # type: ignore[attr-defined]
    width, height, stride = bitmap.width, bitmap.height, bitmap.stride
    raw = bytes(bitmap.buffer)
    rows = raw if stride == width else b"".join(raw[y * stride: y * stride + width] for y in range(height))
    return f"P5 {width} {height} 255\n".encode("ascii") + rows


def read_scanned(data: bytes, deadline: float | None = None) -> list[str]:
    """Text per page by OCR. Raises FileProblemError when the scan is too long or OCR fails."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(data)
    if len(doc) > MAX_PAGES:
        raise FileProblemError("mangler-tekst", f"{len(doc)} scanned pages; OCR reads at most {MAX_PAGES}")
    texts = []
    for page in doc:
        seconds = PAGE_SECONDS if deadline is None else max(1.0, min(PAGE_SECONDS, deadline - time.monotonic()))
        try:
            out = subprocess.run(["tesseract", "stdin", "stdout", "-l", LANGUAGES, "--dpi", str(DPI)],
                                 input=_pgm(page, DPI), capture_output=True, timeout=seconds, env=_ENV)
        except subprocess.TimeoutExpired as exc:
            raise FileProblemError("tidsavbrudd", "OCR took too long") from exc
        if out.returncode != 0:
            raise FileProblemError("mangler-tekst", f"OCR failed: {out.stderr.decode('utf-8', 'replace')[-200:]}")
        texts.append(out.stdout.decode("utf-8", "replace"))
    return texts
