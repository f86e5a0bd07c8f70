"""Normalizing what customers type, for matching only: text is stored as they wrote it.

Persian and Arabic-Indic digits become ASCII, Arabic yeh and kaf become their Persian forms,
zero-width characters and surrounding blanks go.
"""

from __future__ import annotations

import re

_TABLE = str.maketrans(
    {
        **{chr(0x06F0 + i): str(i) for i in range(10)},  # Persian digits
        **{chr(0x0660 + i): str(i) for i in range(10)},  # Arabic-Indic digits
        "\u064a": "\u06cc",  # Arabic yeh -> Persian yeh
        "\u0649": "\u06cc",  # alef maksura -> Persian yeh
        "\u0643": "\u06a9",  # Arabic kaf -> Persian keheh
        "\u200b": None, "\u200c": None, "\u200d": None, "\u2060": None, "\ufeff": None,
    }
)
_NUMBER = re.compile(r"^#?\s*(\d{1,12})$")


def normalize(text: str) -> str:
    return text.translate(_TABLE).strip()


def for_matching(text: str) -> str:
    """Normalized and case-folded, whitespace runs collapsed."""
    return " ".join(normalize(text).casefold().split())


def ticket_number(text: str) -> int | None:
    """1042 for '#1042', '1042', '#۱۰۴۲' or '١٠٤٢'; None for anything else."""
    match = _NUMBER.match(normalize(text))
    return int(match.group(1)) if match else None
