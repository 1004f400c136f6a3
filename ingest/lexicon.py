"""Norwegian word knowledge: lemmas (Norsk Ordbank via spacy-lookups-data), nynorsk → bokmål, compounds.

The Ordbank forms (≈600k) are bokmål; nynorsk words are first brought to bokmål with a small word table
(`data/nynorsk.tsv`) and suffix rules, so both written standards meet in one vocabulary. The same lemma
list is the lexicon for splitting compounds (velferdsteknologi → velferd + teknologi).
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from ingest.errors import ConfigurationError

MIN_PART = 3
MIN_SEGMENT_KNOWN = 4  # in a word the Ordbank lists, parts after the first span ≥ 4 letters (not tjene + ste)
# Particles and prefixes that make lexicalized words rather than compounds (innbygger, tilsyn, utvikling).
_PARTICLES = frozenset({
    "inn", "ut", "opp", "ned", "av", "på", "til", "med", "mot", "om", "for", "fra", "over", "under", "etter",
    "gjennom", "bak", "fram", "frem", "sam", "mis", "gjen", "ute", "inne", "oppe", "nede", "borte", "ikke",
})
_VOWELS = frozenset("aeiouyæøå")
# Nynorsk endings and their bokmål counterparts, longest first (kommunane → kommunene, leiarar → ledere).
_NN_SUFFIXES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ingane", ("ingene",)), ("ingar", ("inger",)), ("inga", ("ingen",)), ("arane", ("erne", "arne")),
    ("arar", ("ere", "erer")), ("aren", ("eren",)), ("ande", ("ende",)), ("ane", ("ene", "ne")),
    ("heita", ("heten",)), ("heit", ("het",)), ("lege", ("lige",)), ("leg", ("lig",)), ("ast", ("es",)),
    ("ar", ("er", "r")), ("a", ("en", "et", "a", "e")), ("et", ("et",)), ("en", ("en",)), ("er", ("er",)),
    ("e", ("e",)), ("t", ("t",)),
)


@lru_cache(maxsize=1)
def _forms() -> dict[str, str]:
    """Word form → lemma, for every part of speech (nouns win over verbs and adjectives on a clash)."""
    return _lexicon()[0]


@lru_cache(maxsize=1)
def _verb_lemmas() -> frozenset[str]:
    """Lemmas that are only verbs: a known verb (ansette) is not split into a compound (ans + ete)."""
    return _lexicon()[1]


@lru_cache(maxsize=1)
def _lexicon() -> tuple[dict[str, str], frozenset[str]]:
    try:
        import spacy_lookups_data
    except ImportError as exc:  # pragma: no cover - a missing dependency is an installation error
        raise ConfigurationError("Pakken spacy-lookups-data mangler; kjør make install på nytt.") from exc
    path = resources.files(spacy_lookups_data) / "data" / "nb_lemma_exc.json.gz"
    with path.open("rb") as fh:
        tables = json.load(gzip.open(fh))
    forms: dict[str, str] = {}
    by_pos: dict[str, set[str]] = {}
    for pos in ("adv", "adj", "verb", "noun"):
        lemmas_of_pos = by_pos.setdefault(pos, set())
        for form, lemmas in tables.get(pos, {}).items():
            if lemmas:
                forms[form.lower()] = lemmas[0].lower()
                lemmas_of_pos.add(lemmas[0].lower())
    verbs = frozenset(by_pos["verb"] - by_pos["noun"])  # participles list their verb as lemma, so adj too
    return forms, verbs


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
    forms = _forms()
    for nn, endings in _NN_SUFFIXES:
        if not w.endswith(nn) or len(w) - len(nn) < MIN_PART:
            continue
        stem = w[: -len(nn)]
        # the stem as written, as the table maps it (tilbod-et → tilbud-et), or via its e-form (tenest-a)
        bases = [stem]
        if stem in table:
            bases.insert(0, table[stem])
        if stem + "e" in table and table[stem + "e"].endswith("e"):
            bases.insert(0, table[stem + "e"][:-1])
        for base in bases:
            for nb in endings:
                if base + nb in forms:
                    return base + nb
    return w


@lru_cache(maxsize=200_000)
def lemma(word: str) -> str:
    """The bokmål lemma of a word form, bokmål or nynorsk; an unknown compound keeps its first parts and
    takes the lemma of its last (innovasjonsprisen → innovasjonspris); otherwise the lower-cased word."""
    w = to_bokmal(word.lower())
    found = _forms().get(w)
    if found is not None:
        nn = _nynorsk().get(found)  # a radical form the Ordbank lists (løysing) → its bokmål word
        return _forms().get(nn, nn) if nn is not None else found
    split = _split(w)
    if split is None:
        return w
    return split.written  # innovasjonsprisen → innovasjonspris, heimeoppfølginga → hjemmeoppfølging


def _nynorsk_part(part: str) -> str | None:
    """A nynorsk word the table knows, as a bokmål lemma (skule → skole, innbyggjar → innbygger)."""
    mapped = _nynorsk().get(part)
    if mapped is None:
        return None
    return _forms().get(mapped, mapped)


def _noun_head(part: str, found: str) -> str:
    """Prefer a consonant-final noun for a definite "-en" form (prisen → pris, not prise).

    The Ordbank table lists one lemma per form, and for "Xen" it sometimes lists the rarer e-final
    noun "Xe"; a masculine "X" + "-en" is far more common in the applications' prose.
    """
    if part.endswith("en") and found == part[:-1] and part[:-2] in _lemma_set():
        return part[:-2]
    return found


def _part_lemma(part: str, final: bool) -> str | None:
    """A compound part as a lemma, if the lexicon knows it.

    Inner parts must be lemmas themselves (or nynorsk words in the table); the final part may be any
    inflected form (hjemmetjenesten → … + tjeneste).
    """
    if part in _PARTICLES:
        return None
    nn = _nynorsk_part(part)
    if nn is not None:
        return nn
    if part in _lemma_set():
        return part
    if not final:
        return None
    for candidate in (part, to_bokmal(part)):
        found = _forms().get(candidate)
        if found is not None:
            return _noun_head(candidate, found)
    return None


@dataclass(frozen=True)
class _Split:
    parts: tuple[str, ...]
    written: str  # the word in bokmål up to here, final part as its lemma: heimetenesta → hjemmetjeneste
    links: int  # linking s after a consonant: velferd|s|teknologi, bosted|s|løs


def _rank(split: _Split) -> tuple[int, int, int]:
    # fewest parts first, then linking s (bosted|s|løs over bosted|sløs), then the longest shortest part
    return (len(split.parts), -split.links, -min(len(p) for p in split.parts))


@lru_cache(maxsize=200_000)
def _split(word: str, strict: bool = False) -> _Split | None:
    """Dynamic programming over split points; each part a known lemma of at least three letters.

    A linking s or e may stand between parts (velferd|s|teknologi, barn|e|hage), and a consonant dropped
    where three would meet is restored (natt|tilsyn written nattilsyn). `strict` (for words the Ordbank
    lists, often lexicalized) asks every part after the first to span at least four letters with its
    linking letter, which keeps ungdom and tjeneste whole but still splits bosted|s|løs.
    """
    w = word
    n = len(w)
    if n < 2 * MIN_PART or not w.isalpha():
        return None
    best: list[_Split | None] = [None] * (n + 1)
    best[0] = _Split((), "", 0)
    for end in range(1, n + 1):
        final = end == n
        options: list[_Split] = []
        for start in range(0, end):
            prefix = best[start]
            if prefix is None or (start == 0 and final) or (strict and start and end - start < MIN_SEGMENT_KNOWN):
                continue
            # (piece, linking letter before it, restored consonant)
            candidates: list[tuple[str, str, bool]] = [(w[start:end], "", False)]
            if start and w[start] in "se" and end - start > MIN_PART:
                candidates.append((w[start + 1:end], w[start], False))
            if not final and end < n and w[end - 1] == w[end] and w[end - 1] not in _VOWELS:
                candidates.append((w[start:end] + w[end - 1], "", True))  # natt|tilsyn
            for piece, link, restored in candidates:
                found = _part_lemma(piece, final)
                if found is None or len(piece) < MIN_PART:
                    continue
                if final:
                    written = found
                else:
                    written = _nynorsk().get(piece, piece)
                    written = written[:-1] if restored else written
                links = prefix.links + (link == "s" and w[start - 1] not in _VOWELS)
                options.append(_Split(prefix.parts + (found,), prefix.written + link + written, links))
        if options:
            best[end] = min(options, key=_rank)
    result = best[n]
    if result is None or len(result.parts) < 2:
        return None
    return result


@lru_cache(maxsize=200_000)
def split_compound(word: str) -> tuple[str, ...]:
    """A compound's parts as lemmas (hjemmetjenesten → hjemme, tjeneste); () if it is not a compound.

    A word the Ordbank knows is split by its lemma (tjenesten → tjeneste, which does not split into
    tjene + sten); an unknown word by its own letters, the final part lemmatized. Among splits, the
    fewest parts win, then one with a linking s (bostedsløse → bosted + løs, not bosted + sløse).
    """
    w = to_bokmal(word.lower())
    known_lemma = _forms().get(w)
    if known_lemma in _verb_lemmas():
        return ()
    if known_lemma is not None:
        found = _split(known_lemma, strict=True)
    else:
        found = _split(w)
    return found.parts if found is not None else ()
