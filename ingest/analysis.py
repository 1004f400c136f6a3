"""Norwegian text analysis shared by the index and the queries (one analyzer, so both agree).

Tokens are lower-cased with æøå kept, stop words dropped and words stemmed with the Snowball
Norwegian stemmer, so søknaden/søknadene/søknader meet.
"""

from __future__ import annotations

import re
import unicodedata

from whoosh.analysis import Analyzer, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.lang import stopwords_for_language

TOKEN_PATTERN = r"\w+(?:[.,:]\d+)*"
_WORD = re.compile(TOKEN_PATTERN, re.UNICODE)

# Nynorsk function words the bokmål stop list lacks.
EXTRA_STOP_WORDS = frozenset({
    "ikkje", "kva", "korleis", "kvifor", "eit", "dykk", "dykkar", "me", "ho", "frå", "berre", "mykje",
    "slik", "sidan", "vere", "vore", "vart", "kan", "skal", "vil", "har", "hadde", "også", "òg",
})


def stop_words() -> frozenset[str]:
    return frozenset(stopwords_for_language("no")) | EXTRA_STOP_WORDS


def norwegian_analyzer() -> Analyzer:
    """Tokenize, lower-case, drop stop words, stem (Snowball 'no'). Picklable: stored in the schema."""
    return (
        RegexTokenizer(TOKEN_PATTERN)
        | LowercaseFilter()
        | StopFilter(stoplist=stop_words(), minsize=1)
        | StemFilter(lang="no")
    )


def name_analyzer() -> Analyzer:
    """For names (municipalities, people): tokens and lower case, no stemming or stop words."""
    return RegexTokenizer(TOKEN_PATTERN) | LowercaseFilter()


def words(text: str) -> list[str]:
    """The words of a user's text, with every operator, quote and bracket dropped."""
    return _WORD.findall(unicodedata.normalize("NFC", text))
