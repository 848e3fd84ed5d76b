"""Which characters free text may hold (pure, standard library only): the one
rule behind danmaku (livecommerce.interaction.moderation) and every free-text
field of the API's requests (livecommerce.shared.fields).

Refused, wherever text comes from a client:
- control characters: C0 (U+0000..U+001F, NUL included), DEL and C1
  (U+007F..U+009F); multi-line fields (descriptions) may hold ``\\n`` and
  ``\\t`` and nothing else of these (not ``\\r``: line breaks are ``\\n``);
- format characters (Unicode category Cf) other than ZWJ and the emoji tag
  characters: the bidirectional embeddings, overrides and isolates
  (U+202A..U+202E, U+2066..U+2069), the marks U+200E/U+200F and U+061C,
  zero-width spaces and joiners other than ZWJ, BOM, soft hyphen;
- line and paragraph separators (U+2028, U+2029), lone surrogates (they cannot
  be stored as UTF-8), private-use and unassigned code points.

Why the marks (U+200E LRM, U+200F RLM) too: they are invisible and, like the
overrides, move neutral characters (digits, punctuation) around in display, so
"¥1000" can be shown as something else next to a price, and they split a word
so that the blocked-word check no longer meets it. Our clients show Chinese and
Latin text, which never needs an explicit mark; one rule for danmaku and the
rest of the API is easier to reason about than two.

Nothing is stripped or replaced: a text is taken as it is or refused.
"""
from __future__ import annotations

import unicodedata
from typing import Iterable

ZWJ = "\u200d"
ALLOWED_FORMAT = frozenset({ZWJ} | {chr(c) for c in range(0xE0020, 0xE0080)})  # ZWJ, emoji tag sequences
DISALLOWED_CATEGORIES = frozenset({"Cc", "Cs", "Co", "Cn", "Zl", "Zp"})
MULTILINE = frozenset("\n\t")
"""What a multi-line field may hold on top of single-line text."""

BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C))

# Windows file names: device names (with or without an extension, any case), characters it refuses.
RESERVED_FILE_NAMES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{dev}{n}" for dev in ("COM", "LPT") for n in (*"123456789", "¹", "²", "³")})
FILE_NAME_FORBIDDEN = frozenset('/\\<>:"|?*')


def forbidden(ch: str, *, allow: Iterable[str] = ()) -> bool:
    """Whether this one character may not appear in client text (`allow`: exceptions, e.g. MULTILINE)."""
    if ch in allow:
        return False
    category = unicodedata.category(ch)
    return category in DISALLOWED_CATEGORIES or (category == "Cf" and ch not in ALLOWED_FORMAT)


def first_forbidden(text: str, *, allow: Iterable[str] = ()) -> int | None:
    """The index of the first refused character, or None when the text is clean."""
    allowed = frozenset(allow)
    for index, ch in enumerate(text):
        if forbidden(ch, allow=allowed):
            return index
    return None


def describe(ch: str) -> str:
    """'U+202E RIGHT-TO-LEFT OVERRIDE': names a refused character without echoing it."""
    name = unicodedata.name(ch, "")
    if not name and unicodedata.category(ch) == "Cc":
        name = {"\x00": "NUL", "\r": "CARRIAGE RETURN", "\n": "LINE FEED", "\t": "TAB"}.get(ch, "control character")
    return f"U+{ord(ch):04X} {name}".rstrip()


def text_problem(text: str, *, allow: Iterable[str] = ()) -> str | None:
    """Why a text is refused (no raw character in the message), or None."""
    index = first_forbidden(text, allow=allow)
    if index is None:
        return None
    return (f"{describe(text[index])} at position {index} is not allowed "
            f"(control, bidirectional or invisible formatting character)")


def file_name_problem(name: str) -> str | None:
    """Why a file name is refused, or None: clean text, not a path, safe to save on Windows, macOS and Linux."""
    problem = text_problem(name)
    if problem:
        return problem
    if name in (".", ".."):
        return "a file name cannot be '.' or '..'"
    bad = sorted({ch for ch in name if ch in FILE_NAME_FORBIDDEN})
    if bad:
        return f"a file name cannot hold {' '.join(bad)} (path separators and characters Windows refuses)"
    if name[-1] in ". ":
        return "a file name cannot end in a dot or a space"
    stem = name.split(".", 1)[0].rstrip(" ").upper()
    if stem in RESERVED_FILE_NAMES:
        return f"{stem} is a reserved device name on Windows, with or without an extension"
    return None
