"""Norwegian word knowledge: lemmas (Norsk Ordbank via spacy-lookups-data), nynorsk → bokmål, compounds.

The Ordbank forms (≈600k) are bokmål; nynorsk words are first brought to bokmål with a small word table
(`data/nynorsk.tsv`) and suffix rules, so both written standards meet in one vocabulary. The same lemma
list is the lexicon for splitting compounds (velferdsteknologi → velferd + teknologi).
"""

from __future__ import annotations

import gzip
import json
from functools import lru_cache
from importlib import resources

from ingest.errors import ConfigurationError

MIN_PART = 3
# Nynorsk endings and their bokmål counterparts, longest first (kommunane → kommunene, leiarar → ledere).
_NN_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("ingane", "ingene"), ("ingar", "inger"), ("ande", "ende"), ("ane", "ene"), ("arar", "ere"),
    ("ar", "er"), ("leg", "lig"), ("lege", "lige"), ("inga", "ingen"), ("a", "en"),
)


@lru_cache(maxsize=1)
def _forms() -> dict[str, str]:
    """Word form → lemma, for every part of speech (nouns win over verbs and adjectives on a clash)."""
    try:
        import spacy_lookups_data
    except ImportError as exc:  # pragma: no cover - a missing dependency is an installation error
        raise ConfigurationError("Pakken spacy-lookups-data mangler; kjør make install på nytt.") from exc
    path = resources.files(spacy_lookups_data) / "data" / "nb_lemma_exc.json.gz"
    with path.open("rb") as fh:
        tables = json.load(gzip.open(fh))
    forms: dict[str, str] = {}
    for pos in ("adv", "adj", "verb", "noun"):
        for form, lemmas in tables.get(pos, {}).items():
            if lemmas:
                forms[form.lower()] = lemmas[0].lower()
    return forms


@lru_cache(maxsize=1)
def _lemma_set() -> frozenset[str]:
    return frozenset(_forms().values())


@lru_cache(maxsize=1)
def _nynorsk() -> dict[str, str]:
    table: dict[str, str] = {}
    text = (resources.files("ingest") / "data" / "nynorsk.tsv").read_text(encoding="utf-8")
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            nn, nb = line.split("\t")
            table[nn.strip().lower()] = nb.strip().lower()
    return table


def known(word: str) -> bool:
    """True if the word is a bokmål form in the Ordbank."""
    return word.lower() in _forms()


@lru_cache(maxsize=200_000)
def to_bokmal(word: str) -> str:
    """A nynorsk word form as its bokmål counterpart (unchanged if it is bokmål or unknown)."""
    w = word.lower()
    table = _nynorsk()
    if w in table:
        return table[w]
    if w in _forms():
        return w
    for nn, nb in _NN_SUFFIXES:
        if w.endswith(nn) and len(w) - len(nn) >= MIN_PART:
            stem = w[: -len(nn)]
            candidate = table.get(stem + "e", stem) + nb if stem + "e" in table else stem + nb
            if candidate in _forms():
                return candidate
    return w


@lru_cache(maxsize=200_000)
def lemma(word: str) -> str:
    """The bokmål lemma of a word form, bokmål or nynorsk (the lower-cased word if unknown)."""
    w = to_bokmal(word.lower())
    return _forms().get(w, w)


def _part_lemma(part: str) -> str | None:
    """A compound part as a lemma, if the lexicon knows it (nynorsk parts through to_bokmal)."""
    for candidate in (part, to_bokmal(part)):
        if candidate in _lemma_set():
            return candidate
        found = _forms().get(candidate)
        if found is not None:
            return found
    return None


@lru_cache(maxsize=200_000)
def split_compound(word: str) -> tuple[str, ...]:
    """A compound's parts as lemmas (hjemmetjenesten → hjemme, tjeneste); () if it is not a compound.

    Dynamic programming over split points: each part must be a known lemma of at least three letters,
    a linking s or e between parts is allowed, and the split with the fewest parts wins.
    """
    w = to_bokmal(word.lower())
    if len(w) < 2 * MIN_PART or not w.isalpha():
        return ()
    n = len(w)
    best: list[tuple[str, ...] | None] = [None] * (n + 1)
    best[0] = ()
    for end in range(MIN_PART, n + 1):
        options = []
        for start in range(0, end - MIN_PART + 1):
            prefix = best[start]
            if prefix is None:
                continue
            if start == 0 and end == n:
                continue  # the whole word is not a split
            piece = w[start:end]
            found = _part_lemma(piece) if end == n else (_part_lemma(piece) if piece in _lemma_set() else None)
            # a linking s or e between parts: velferd|s|teknologi, barn|e|hage
            if found is None and start and w[start] in "se" and len(piece) > MIN_PART:
                inner = w[start + 1:end]
                found = (_part_lemma(inner) if end == n else (inner if inner in _lemma_set() else None))
            if found is not None:
                options.append(prefix + (found,))
        if options:
            best[end] = min(options, key=len)
    parts = best[n]
    if parts is None or len(parts) < 2:
        return ()
    return parts
