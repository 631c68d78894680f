"""Text for PDFs drawn with fpdf2's built-in fonts, which cover Latin-1 only.

No font file is shipped or looked for on the machine, so a letter outside Latin-1 is printed as its
nearest Latin-1 letter ("Łukasz Nowak" prints as "Lukasz Nowak", "Zoë" stays "Zoë"), never refused: a
prescription or a clinical letter must always print.
"""

import unicodedata

# Letters with no Latin-1 form that do not decompose into one with an accent.
_LOOKALIKE = str.maketrans(
    {
        "Ł": "L",
        "ł": "l",
        "Đ": "D",
        "đ": "d",
        "Ħ": "H",
        "ħ": "h",
        "ı": "i",
        "Œ": "OE",
        "œ": "oe",
        "‘": "'",
        "’": "'",
        "“": '"',
        "”": '"',
        "–": "-",
        "—": "-",
    }
)


def printable(text: str) -> str:
    """`text` in Latin-1, which the built-in font can draw: each other character as its nearest letter."""
    result = []
    for char in text.translate(_LOOKALIKE):
        if ord(char) < 256:
            result.append(char)
            continue
        plain = "".join(part for part in unicodedata.normalize("NFKD", char) if not unicodedata.combining(part))
        result.append(plain if plain and all(ord(part) < 256 for part in plain) else "?")
    return "".join(result)
