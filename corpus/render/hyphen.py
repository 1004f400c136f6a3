"""A small Norwegian hyphenator for reportlab paragraphs (`hyphenate = true` sources).

Word processors break long words at line ends ("velferds-" / "teknologi"), and the
ingest parser must learn to join them again, so some sample PDFs need such breaks.
No hyphenation dictionary for Norwegian ships here (pyphen is not installed), so this
follows the official rule of thumb instead: one consonant between vowels goes to the
next line, of several consonants the last one does ("kas-te", "velferds-teknologi"),
sounds written with two letters (sj, kj, skj, ...) stay together ("organisa-sjon"),
a consonant + s before more consonants is read as the linking s of a compound
("arbeids-plass", "minoritets-språklige"),
and a few very common first parts of compounds are split where they end
("kommune-styre"). Only words of at least `MIN_WORD` letters are broken.
"""
from __future__ import annotations

from collections.abc import Iterator

MIN_WORD = 10
MIN_HEAD = 3
MIN_TAIL = 3
VOWELS = frozenset("aeiouyæøåéèêóòôàü")
ONSETS = ("skj", "sj", "kj", "tj", "gj", "hj", "hv")
COMPOUND_HEADS = (
    "arbeids", "barnehage", "bolig", "bustad", "digital", "folkehelse", "fylkes", "heime",
    "helse", "hjemme", "innbygger", "innbyggjar", "innovasjons", "kommune", "kultur",
    "lærings", "nærings", "samarbeids", "sammen", "skole", "skule", "tjeneste", "ungdoms",
    "utviklings", "velferds",
)


def split_points(word: str) -> list[int]:
    """Indexes where `word` may be broken (head = word[:i]), in ascending order."""
    if len(word) < MIN_WORD or not word.isalpha():
        return []
    lower = word.lower()
    points = set(_syllable_points(lower))
    for head in COMPOUND_HEADS:
        if lower.startswith(head) and len(lower) - len(head) >= MIN_TAIL + 1:
            cut = len(head)
            points = {p for p in points if abs(p - cut) > 1} | {cut}
            break
    return sorted(p for p in points if MIN_HEAD <= p <= len(word) - MIN_TAIL)


def _syllable_points(lower: str) -> Iterator[int]:
    """Syllable boundaries by the last-consonant rule, keeping two-letter sounds whole."""
    nuclei = [i for i, ch in enumerate(lower) if ch in VOWELS]
    for left, right in zip(nuclei, nuclei[1:]):
        cluster = lower[left + 1:right]
        if not cluster:
            continue  # two vowels side by side: no safe break
        cut = right - 1
        linking_s = cluster.find("s", 1)
        if len(cluster) >= 3 and 0 < linking_s < len(cluster) - 1 and cluster[0] != "s":
            yield left + 1 + linking_s + 1  # "velferds-teknologi", "minoritets-språklige"
            continue
        for onset in ONSETS:
            if cluster.endswith(onset) and len(onset) <= len(cluster):
                cut = right - len(onset)
                break
        yield cut


def hyphenator(word: str) -> Iterator[tuple[str, str]]:
    """reportlab `hyphenationLang` callable: (head, tail) pairs, longest head first."""
    for cut in reversed(split_points(word)):
        yield word[:cut], word[cut:]


def hyphenate_all(word: str) -> str:
    """The word with every break point shown, for tests and eyeballing ("vel-ferds-...")."""
    pieces, last = [], 0
    for cut in split_points(word):
        pieces.append(word[last:cut])
        last = cut
    pieces.append(word[last:])
    return "-".join(pieces)
