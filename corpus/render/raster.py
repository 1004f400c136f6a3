"""Layout `scanned`: turn a text PDF into an image-only PDF that looks photocopied.

Some real applications were printed, signed and scanned; the ingest pipeline must notice
that such a PDF has no text layer and fall back to OCR. Each page is rasterized with
pdfium, turned by a small angle, given faint noise and stored as a grayscale JPEG; the
PDF is written by Pillow, whose pages hold nothing but the image (no font, no text
operator). All "randomness" is seeded from the file stem and page number, and the dates
are fixed, so the bytes are reproducible.
"""
from __future__ import annotations

import hashlib
import io
import time

import numpy as np
import pypdfium2 as pdfium
from PIL import Image

DPI = 130
JPEG_QUALITY = 62
MAX_ANGLE = 0.6
MIN_ANGLE = 0.15
FIXED_DATE = time.struct_time((2000, 1, 1, 0, 0, 0, 5, 1, 0))


def _rng(stem: str, page: int) -> np.random.Generator:
    seed = int.from_bytes(hashlib.sha256(f"{stem}/{page}".encode()).digest()[:8], "big")
    return np.random.default_rng(seed)


def scan_page(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Rotate slightly, grey the paper a little and add faint noise, like a copier does."""
    magnitude = rng.uniform(MIN_ANGLE, MAX_ANGLE)
    angle = magnitude if rng.random() < 0.5 else -magnitude
    turned = image.convert("L").rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=255)
    pixels = np.asarray(turned, dtype=np.float32)
    pixels = pixels * 0.93 + 8.0  # paper is not quite white, toner not quite black
    pixels += rng.normal(0.0, 3.0, pixels.shape)
    specks = rng.random(pixels.shape) < 0.0004
    pixels[specks] -= rng.uniform(60, 140, int(specks.sum()))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), mode="L")


def rasterize(pdf_bytes: bytes, stem: str, metadata: dict[str, str]) -> bytes:
    """An image-only PDF (no text layer at all) of `pdf_bytes`, one JPEG per page."""
    document = pdfium.PdfDocument(pdf_bytes)
    try:
        pages = [scan_page(document[i].render(scale=DPI / 72, grayscale=True).to_pil(), _rng(stem, i + 1))
                 for i in range(len(document))]
    finally:
        document.close()
    out = io.BytesIO()
    pages[0].save(
        out, format="PDF", save_all=True, append_images=pages[1:], resolution=float(DPI),
        quality=JPEG_QUALITY, title=metadata["title"], author=metadata["author"],
        subject=metadata["subject"], creator=metadata["creator"], producer=metadata["creator"],
        creationDate=FIXED_DATE, modDate=FIXED_DATE,
    )
    return out.getvalue()
