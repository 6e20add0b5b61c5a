"""Turning the bytes of a text file into text: encoding detection and delimiter sniffing."""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from advisor import errors
from advisor.datasets.legacy_encodings import guess_legacy
from advisor.errors import DatasetError

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CANDIDATE_DELIMITERS = (",", "\t", ";", "|")
_SNIFF_LINES = 50
_MAX_CONTROL_RATIO = 0.001
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
# The csv module refuses a field over 131,072 characters by default. A long text cell is one,
# and so is a whole wide row split on the wrong delimiter while sniffing. The upload limit
# bounds the text; this bound (the largest a C long holds everywhere) only lifts csv's own.
_CSV_FIELD_LIMIT = 2**31 - 1


@dataclass(frozen=True)
class DecodedText:
    """Text with the encoding it was read in; ``guessed`` when neither a mark nor UTF-8 told."""

    text: str
    encoding: str
    guessed: bool = False

    def warnings(self) -> list[str]:
        """A note for the dataset's info when the encoding was a guess."""
        if not self.guessed:
            return []
        return [
            f"The text is not UTF-8; it was read as {self.encoding} (a guess). If accented "
            "letters look wrong, pass encoding=... (e.g. 'cp1250' for Central European)."
        ]


def decode_text(data: bytes, encoding: str | None = None) -> DecodedText:
    """Decode the bytes of a text file.

    Order: ``encoding`` when given; else a byte-order mark decides; else strict UTF-8; else
    the legacy-encoding guess of :mod:`~advisor.datasets.legacy_encodings`. Text that still
    holds control characters (other than tab, CR, LF) in more than 0.1 % of its characters is
    taken for binary data.

    Raises:
        DatasetError: ``dataset.undecodable_text``.
    """
    decoded = _decode(data, encoding)
    controls = len(_CONTROL.findall(decoded.text))
    if controls > _MAX_CONTROL_RATIO * max(len(decoded.text), 1):
        raise DatasetError(
            f"The file looks binary ({controls} control characters once decoded as "
            f"{decoded.encoding}); expected CSV, TSV or JSON text.",
            code=errors.UNDECODABLE_TEXT,
            encoding=decoded.encoding,
        )
    return decoded


def _decode(data: bytes, encoding: str | None) -> DecodedText:
    if encoding is not None:
        try:
            return DecodedText(data.decode(encoding), encoding)
        except UnicodeDecodeError as err:
            raise DatasetError(
                f"The file is not valid {encoding}: {err}.",
                code=errors.UNDECODABLE_TEXT,
                encoding=encoding,
            ) from None
    for bom, name in _BOMS:
        if data.startswith(bom):
            try:
                return DecodedText(data.decode(name), name)
            except UnicodeDecodeError:
                break
    try:
        return DecodedText(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    guess = guess_legacy(data)
    if guess is None:
        raise DatasetError(
            "The file is not text in any encoding that could be recognised; save it as UTF-8.",
            code=errors.UNDECODABLE_TEXT,
        )
    return DecodedText(guess[0], guess[1], guessed=True)


def text_lines(text: str) -> io.StringIO:
    r"""``text`` read as lines ending at ``\n``, ``\r\n`` or a lone ``\r`` (universal newlines).

    The :mod:`csv` module refuses a ``\r`` inside an unquoted field; pandas, which parses the
    table, ends a row there. Read this way, the header and the delimiter are found in the same
    rows pandas sees.
    """
    return io.StringIO(text, newline=None)


def csv_rows(lines: Iterable[str], delimiter: str) -> Iterator[list[str]]:
    """The rows of delimited ``lines``, as :func:`csv.reader` parses them, fields of any length.

    :func:`csv.reader`'s field-size limit is process-wide; it is raised here (never lowered)
    before reading, so a long text cell is a field like any other.
    """
    if csv.field_size_limit() < _CSV_FIELD_LIMIT:
        csv.field_size_limit(_CSV_FIELD_LIMIT)
    return csv.reader(lines, delimiter=delimiter)


def sniff_delimiter(text: str, *, default: str = ",") -> str:
    """The delimiter of delimited text: the candidate that splits the first lines most consistently.

    For each candidate among ``, TAB ; |``, the first 50 lines are parsed with the
    :mod:`csv` module (so quoted fields count right); the winner is the candidate whose most
    common field count is above 1 and shared by the most lines, ties going to the larger field
    count and then to the order above. Falls back to ``default`` when no candidate splits the
    header.
    """
    lines = list(itertools.islice(text_lines(text), _SNIFF_LINES))
    best: tuple[int, int, int] | None = None
    chosen = default
    for rank, delimiter in enumerate(_CANDIDATE_DELIMITERS):
        counts = [len(row) for row in csv_rows(lines, delimiter)]
        counts = [c for c in counts if c > 0]
        if not counts or counts[0] < 2:
            continue
        fields, agreeing = Counter(counts).most_common(1)[0]
        score = (agreeing, fields, -rank)
        if fields > 1 and (best is None or score > best):
            best, chosen = score, delimiter
    return chosen
