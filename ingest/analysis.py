"""Norwegian text analysis shared by the index and the queries (one analyzer, so both agree).

Every word goes through the same steps, at index time and at query time:

1. lower case (æøå kept) and stop words out, bokmål and nynorsk (`ikkje`, `korleis` …);
2. nynorsk brought to bokmål and the Ordbank lemma taken (`heimetenesta` → `hjemmetjeneste`);
3. the lemma stemmed (Snowball Norwegian), so forms the lexicon does not know still meet;
4. a compound is kept whole *and* indexed by its parts at the same position
   (`velferdsteknologi` → `velferdsteknologi`, `velferd`, `teknologi`), so `natt tilsyn` finds `nattilsyn`.

The domain thesaurus (`data/thesaurus.toml`) is applied to queries only: it widens a query, never the index.
This module also marks snippets: it knows which words of a text match which analyzed terms.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Iterable, Iterator, Mapping, Sequence

from whoosh.analysis import Analyzer, Filter, LowercaseFilter, RegexTokenizer
from whoosh.lang import stemmer_for_language, stopwords_for_language

from ingest.errors import ConfigurationError
from ingest.lexicon import lemma, split_compound, to_bokmal

TOKEN_PATTERN = r"\w+(?:[.,:]\d+)*"
_WORD = re.compile(TOKEN_PATTERN, re.UNICODE)

# Nynorsk function words the stop list lacks (Whoosh's "no" list already has many: ikkje, kva, korleis …).
EXTRA_STOP_WORDS = frozenset({
    "ikkje", "kva", "korleis", "kvifor", "eit", "dykk", "dykkar", "me", "ho", "frå", "berre", "mykje",
    "slik", "sidan", "vere", "vore", "vart", "kan", "skal", "vil", "har", "hadde", "også", "òg",
    "meir", "mest", "dei", "deira", "ein", "ei", "eg", "oss", "sine", "hjå", "utan", "når", "då", "kvar",
    "kven", "noko", "nokon", "fleire", "andre", "anna", "vert", "blitt", "vorte", "får", "fått", "få",
    "må", "måtte", "bør", "burde", "gjer", "gjere", "gjør", "gjøre", "finnes", "finst", "fins", "mellom",
    "hvilke", "hvilken", "kva", "kvifor", "hos", "mer", "mest", "flere", "annen", "annet",
})


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    return frozenset(stopwords_for_language("no")) | EXTRA_STOP_WORDS


_stem = stemmer_for_language("no")


@lru_cache(maxsize=400_000)
def stem(word: str) -> str:
    """Snowball Norwegian stem of a (lower-case) word."""
    return _stem(word)


@dataclass(frozen=True)
class WordTerms:
    """The index terms of one word: the whole word's term and its compound parts' terms."""

    word: str
    whole: str
    parts: tuple[str, ...] = ()

    @property
    def terms(self) -> tuple[str, ...]:
        return (self.whole, *self.parts)


def is_stop_word(word: str) -> bool:
    w = word.lower()
    return w in stop_words() or to_bokmal(w) in stop_words()


@lru_cache(maxsize=400_000)
def analyze_word(word: str) -> WordTerms | None:
    """A word's terms (lemma → stem, plus its compound parts), or None for a stop word."""
    w = unicodedata.normalize("NFC", word).lower()
    if not w or is_stop_word(w):
        return None
    if not w.isalpha():  # numbers and codes stay as written
        return WordTerms(w, w)
    whole = stem(lemma(w))
    parts = tuple(dict.fromkeys(p for p in (stem(x) for x in split_compound(w)) if p != whole))
    return WordTerms(w, whole, parts)


class NorwegianFilter(Filter):
    """Stop words out, lemma + stem, and compound parts at the compound's position and characters.

    Morphological (`is_morph`), so Whoosh's spelling field keeps the unchanged words.
    """

    is_morph = True

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NorwegianFilter)

    def __hash__(self) -> int:
        return hash(type(self).__name__)

    def __call__(self, tokens: Iterable[Any]) -> Iterator[Any]:
        pos = 0
        for t in tokens:
            terms = analyze_word(t.text)
            if terms is None:
                if not t.removestops:  # highlighting asks for every token, stop words marked
                    t.stopped = True
                    yield t
                continue
            t.stopped = False
            if t.positions:
                t.pos = pos
            pos += 1
            t.text = terms.whole
            yield t
            for part in terms.parts:
                t.text = part
                yield t


def norwegian_analyzer() -> Analyzer:
    """Tokenize, lower-case, then NorwegianFilter. Picklable: stored in the schema."""
    return RegexTokenizer(TOKEN_PATTERN) | LowercaseFilter() | NorwegianFilter()


def name_analyzer() -> Analyzer:
    """For names (municipalities, people): tokens and lower case, no stemming or stop words."""
    return RegexTokenizer(TOKEN_PATTERN) | LowercaseFilter()


def words(text: str) -> list[str]:
    """The words of a user's text, with every operator, quote and bracket dropped."""
    return _WORD.findall(unicodedata.normalize("NFC", text))


# --- the thesaurus ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Synonym:
    """Another way to say a query's words: its text and its terms (one tuple of terms per word)."""

    text: str
    words: tuple[WordTerms, ...]


@dataclass(frozen=True)
class Thesaurus:
    """Groups of words and phrases that mean the same to a searcher in the municipal sector."""

    groups: tuple[tuple[Synonym, ...], ...]

    def expansions(self, query: Sequence[WordTerms]) -> list[tuple[int, int, tuple[Synonym, ...]]]:
        """(start, end, other members) for every run of query words that is a member of a group."""
        wholes = [w.whole for w in query]
        found = []
        for group in self.groups:
            for member in group:
                key = [w.whole for w in member.words]
                n = len(key)
                for start in range(len(wholes) - n + 1):
                    if wholes[start:start + n] == key:
                        found.append((start, start + n, tuple(m for m in group if m is not member)))
        return found


def phrase_terms(text: str) -> tuple[WordTerms, ...]:
    """The analyzed words of a phrase (stop words left out)."""
    return tuple(t for t in (analyze_word(w) for w in words(text)) if t is not None)


@lru_cache(maxsize=1)
def load_thesaurus() -> Thesaurus:
    """The thesaurus in `data/thesaurus.toml`; a broken file is a configuration error."""
    source = resources.files("ingest") / "data" / "thesaurus.toml"
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"Synonymlisten (thesaurus.toml) kan ikke leses: {exc}") from exc
    groups = []
    for group in data.get("group", []):
        members = tuple(Synonym(t, phrase_terms(t)) for t in group.get("terms", []))
        members = tuple(m for m in members if m.words)
        if len(members) > 1:
            groups.append(members)
    return Thesaurus(tuple(groups))


# --- snippets -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snippet:
    """The best stretch of one passage, with the matched words marked."""

    text: str
    score: float
    source: int  # index of the passage it came from


def _matches(
    text: str, weights: Mapping[str, float], seen: dict[str, float] | None = None,
) -> list[tuple[int, int, float]]:
    """(start, end, weight) of every word in `text` whose terms meet the weighted query terms.

    `seen` caches each word's weight across the passages of one text (most words repeat).
    """
    seen = {} if seen is None else seen
    out = []
    for m in _WORD.finditer(text):
        word = m.group()
        w = seen.get(word)
        if w is None:
            terms = analyze_word(word)
            w = 0.0 if terms is None else max(weights.get(t, 0.0) for t in terms.terms)
            seen[word] = w
        if w > 0:
            out.append((m.start(), m.end(), w))
    return out


def mark(text: str, weights: Mapping[str, float], start_mark: str, end_mark: str) -> str:
    """The whole text with every matched word between the markers ("" when nothing matched)."""
    hits = _matches(text, weights)
    if not hits:
        return ""
    return _marked(text, hits, 0, len(text), start_mark, end_mark)


def _marked(text: str, hits: list[tuple[int, int, float]], lo: int, hi: int, a: str, b: str) -> str:
    out, at = [], lo
    for s, e, _w in hits:
        if s < lo or e > hi:
            continue
        out.append(text[at:s])
        out.append(f"{a}{text[s:e]}{b}")
        at = e
    out.append(text[at:hi])
    return "".join(out)


def best_snippets(
    passages: Sequence[str], weights: Mapping[str, float], start_mark: str, end_mark: str,
    *, top: int = 2, width: int = 240,
) -> list[Snippet]:
    """The `top` passages that best meet the query terms, each cut to the densest `width` characters.

    A passage scores the weight of each distinct term it matches (so covering more of the query wins
    over repeating one word), plus a little for each further occurrence.
    """
    scored: list[tuple[float, int, list[tuple[int, int, float]]]] = []
    seen: dict[str, float] = {}
    for i, text in enumerate(passages):
        hits = _matches(text, weights, seen)
        if not hits:
            continue
        distinct: dict[str, float] = {}
        for s, e, w in hits:
            distinct[text[s:e].lower()] = w
        score = sum(distinct.values()) + 0.1 * len(hits)
        scored.append((score, i, hits))
    scored.sort(key=lambda x: (-x[0], x[1]))
    out = []
    for score, i, hits in scored[:top]:
        text = passages[i]
        lo, hi = _window(text, hits, width)
        body = _marked(text, hits, lo, hi, start_mark, end_mark).strip()
        out.append(Snippet(("…" if lo > 0 else "") + body + ("…" if hi < len(text) else ""), score, i))
    return out


def _window(text: str, hits: list[tuple[int, int, float]], width: int) -> tuple[int, int]:
    """The `width`-character window holding the most match weight, widened to word boundaries."""
    if len(text) <= width:
        return 0, len(text)
    best_lo, best_w = hits[0][0], -1.0
    for s, _e, _w in hits:
        lo = max(0, s - width // 4)
        weight = sum(w for s2, e2, w in hits if s2 >= lo and e2 <= lo + width)
        if weight > best_w:
            best_lo, best_w = lo, weight
    lo = best_lo
    hi = min(len(text), lo + width)
    if lo > 0:
        space = text.find(" ", lo)
        lo = space + 1 if 0 <= space < lo + 30 else lo
    if hi < len(text):
        space = text.rfind(" ", lo, hi)
        hi = space if space > lo + width // 2 else hi
    return lo, hi
