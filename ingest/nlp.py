"""The Norwegian spaCy pipeline: blank `nb`, sentence splitting and Ordbank lemmas for bokmål and nynorsk.

No trained Norwegian pipeline installs here, so the pipeline is built from parts: spaCy's tokenizer and
sentencizer for `nb`, a line-aware sentence rule (bullet lists in PDFs have no full stops), and a lemma
component backed by `ingest.lexicon` (Norsk Ordbank forms; nynorsk brought to bokmål first). spaCy is
imported and the pipeline built once, lazily, on first use, never at import.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Iterable, Iterator

from ingest.lexicon import lemma, split_compound

if TYPE_CHECKING:  # pragma: no cover
    from spacy.language import Language
    from spacy.tokens import Doc, Token

LEMMA_COMPONENT = "innosok_lemmas"
LINES_COMPONENT = "innosok_line_starts"
NUMBER_FEATURE = "#tall"  # every number is one feature: results are told in numbers
_BULLET = re.compile(r"^[•·▪◦‣\-–*]$")


def _line_starts(doc: "Doc") -> "Doc":
    """A token after a line break that starts a bullet or a capitalised line begins a new sentence."""
    for i in range(1, len(doc) - 1):
        tok = doc[i]
        if tok.is_space and "\n" in tok.text:
            nxt = doc[i + 1]
            if _BULLET.match(nxt.text) or nxt.is_title or nxt.is_digit:
                nxt.is_sent_start = True
    return doc


def _lemmas(doc: "Doc") -> "Doc":
    """Every word's lemma from the Ordbank (bokmål; nynorsk forms through their bokmål counterpart)."""
    for tok in doc:
        tok.lemma_ = lemma(tok.text) if tok.is_alpha else tok.lower_
    return doc


@lru_cache(maxsize=1)
def pipeline() -> "Language":
    """The shared pipeline (built once per process): tokenizer, sentencizer, line starts, lemmas."""
    import spacy
    from spacy.language import Language

    if not Language.has_factory(LEMMA_COMPONENT):
        Language.component(LEMMA_COMPONENT, func=_lemmas)
        Language.component(LINES_COMPONENT, func=_line_starts)
    nlp = spacy.blank("nb")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe(LINES_COMPONENT)
    nlp.add_pipe(LEMMA_COMPONENT)
    return nlp


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """spaCy's bokmål stop words plus the nynorsk function words it lacks, as lemmas."""
    from spacy.lang.nb.stop_words import STOP_WORDS

    from ingest.analysis import EXTRA_STOP_WORDS

    words = set(STOP_WORDS) | set(EXTRA_STOP_WORDS) | {"me", "dei", "vi", "oss", "kommune", "kommunen"}
    return frozenset(words | {lemma(w) for w in words})


def analyse(texts: Iterable[str], batch_size: int = 64) -> Iterator["Doc"]:
    """Run the pipeline over many texts (one model, streamed in batches)."""
    return pipeline().pipe(texts, batch_size=batch_size)


MIN_PART = 4  # shorter compound parts are too often chance splits (sensorar → sen + ore)


def word_lemmas(tok: "Token") -> tuple[str, ...]:
    """A word's lemma, then its compound parts and the parts joined (hjemmetjenesten → hjemmetjeneste).

    The joined form gives an unknown compound a lemma the taxonomy can name; the parts let a seed
    term match the compounds built on it.
    """
    lem = tok.lemma_
    parts = tuple(p for p in split_compound(tok.text) if len(p) >= MIN_PART)
    if len(parts) < 2:
        return (lem,)
    joined = "".join(parts)
    return tuple(dict.fromkeys((lem, joined, *parts)))


def token_features(tok: "Token") -> tuple[str, ...]:
    """What one word gives the classifiers: its content lemmas, or the number feature, or nothing."""
    if tok.like_num or tok.text == "%":
        return (NUMBER_FEATURE,)
    stops = stop_words()
    if not tok.is_alpha or len(tok.text) < 2 or tok.lemma_ in stops:
        return ()
    return tuple(w for w in word_lemmas(tok) if w not in stops)
