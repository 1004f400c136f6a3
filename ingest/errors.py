"""Named errors, and the Norwegian words a municipal employee reads when a file cannot be used.

A bad file is a `FileProblemError` (reported with its name and the batch goes on); a bad setup is a
`ConfigurationError` (fails at once, before any work is done).
"""

from __future__ import annotations


class InnosokError(Exception):
    """Base of every error this project raises on purpose."""


class ConfigurationError(InnosokError):
    """The installation or the command line is wrong: stop before touching anything."""


class IndexMissingError(InnosokError):
    """No index has been built yet in the folder asked for."""


class IndexOutdatedError(InnosokError):
    """The index was built by an older version of the schema and must be rebuilt."""


class RecordNotFoundError(InnosokError):
    """No innovation example or application has the id asked for."""


class FileProblemError(InnosokError):
    """One input file cannot be indexed; `kind` says why in a word, `message` in a sentence."""

    def __init__(self, kind: str, detail: str = "", message: str = "", **blanks: str) -> None:
        self.kind = kind
        self.detail = detail
        self.message = message or problem_message(kind, detail=detail, **blanks)
        super().__init__(self.message)


# kind -> what the person who sent the file should be told (bokmål, plain words).
PROBLEM_MESSAGES: dict[str, str] = {
    "ikke-pdf": "Filen er ikke en PDF{what}. Lagre dokumentet som PDF og legg det inn på nytt.",
    "passord": "PDF-en er beskyttet med passord og kan ikke åpnes. Be avsenderen om en versjon uten passord.",
    "skadet": "PDF-en er skadet eller ufullstendig og kan ikke leses. Kanskje ble nedlastingen avbrutt; hent filen på nytt.",
    "tom": "Filen er tom (0 byte).",
    "ingen-innhold": "Vi fant verken tekst eller bilder i PDF-en. Den er trolig skadet; hent filen på nytt.",
    "mangler-tekst": "PDF-en inneholder bare bilder (for eksempel en skannet søknad) og ingen lesbar tekst: tekstgjenkjenningen (OCR) fant ingen ord, eller den er ikke installert på serveren. Legg inn en tydeligere skanning eller en PDF med tekst.",
    "tidsavbrudd": "Det tok for lang tid å lese filen, så den ble hoppet over. Filen kan være skadet eller svært stor.",
    "for-stor": "Filen er for stor til å leses ({size}). Grensen er {limit}.",
    "minne": "Filen krevde for mye minne å lese og ble hoppet over. Den kan være skadet.",
    "duplikat": "Filen er identisk med {what} og ble ikke lagt inn to ganger.",
    "ukjent-feil": "Filen kunne ikke leses på grunn av en uventet feil. Teknisk årsak: {detail}",
}

PROBLEM_KINDS = tuple(PROBLEM_MESSAGES)


def problem_message(kind: str, **values: str) -> str:
    """The Norwegian sentence for a problem kind, with its blanks filled."""
    template = PROBLEM_MESSAGES.get(kind, PROBLEM_MESSAGES["ukjent-feil"])
    values.setdefault("what", "")
    values.setdefault("detail", "")
    values.setdefault("size", "")
    values.setdefault("limit", "")
    return template.format(**values)
