"""Danmaku text rules (pure): what a message may contain, how texts compare
for blocked words, duplicates and floods, and the quick phrases.

- Text is NFC-normalised and stripped; 1..max characters (code points, so an
  emoji with skin tone or a ZWJ family counts as several).
- Emoji are welcome: symbols, variation selectors, ZWJ (U+200D), regional
  indicators, tags for flag sequences.
- Not allowed: control characters (newlines and tabs included), format
  characters other than ZWJ (bidi overrides, zero-width spaces, BOM), line and
  paragraph separators, private-use and unassigned code points. They break
  layouts, hide words from the blocked-word check or spoof other users' text.
  The rule is the platform's (livecommerce.shared.text), the one every text
  field of the API uses.
- Comparison key (`fold`): NFKC, case-folded, without spaces, punctuation,
  symbols other than letters/digits/emoji, so "加 微 信", "加-微-信" and
  "ＡＢＣ" all meet the same blocked word.
"""
from __future__ import annotations

import hashlib
import unicodedata

from livecommerce.shared.text import forbidden

DEFAULT_QUICK_PHRASES: tuple[str, ...] = ("想要", "优惠多少", "怎么买", "有链接吗", "主播好", "666")
MAX_QUICK_PHRASES = 12
MAX_PHRASE_CHARS = 20
MAX_ROOM_BLOCKED_WORDS = 200
MAX_BLOCKED_WORD_CHARS = 20


class TextRejected(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def clean_text(text: str, *, max_chars: int) -> str:
    """The message as it will be stored and shown, or TextRejected."""
    if not isinstance(text, str):
        raise TextRejected("text_invalid", "text must be a string")
    value = unicodedata.normalize("NFC", text).strip()
    if not value:
        raise TextRejected("text_empty", "text is empty")
    if len(value) > max_chars:
        raise TextRejected("text_too_long", f"text is at most {max_chars} characters")
    for ch in value:
        if forbidden(ch):  # the platform's rule, the same for every text field of the API
            raise TextRejected("text_control_characters",
                               "text may not contain control or invisible formatting characters")
    return value


def fold(text: str) -> str:
    """Comparison key: NFKC, case-folded, letters, digits and emoji only."""
    value = unicodedata.normalize("NFKC", text).casefold()
    kept = []
    for ch in value:
        category = unicodedata.category(ch)
        if category[0] in ("L", "N") or category == "So":
            kept.append(ch)
    return "".join(kept)


def text_key(text: str) -> str:
    """Short stable hash of the folded text (duplicate and flood counters)."""
    return hashlib.sha256(fold(text).encode("utf-8")).hexdigest()[:24]


def find_blocked(text: str, words: tuple[str, ...] | list[str]) -> str | None:
    folded = fold(text)
    for word in words:
        key = fold(word)
        if key and key in folded:
            return word
    return None


def is_quick_phrase(text: str, phrases: tuple[str, ...] | list[str]) -> bool:
    return fold(text) in {fold(p) for p in phrases}


def clean_list(values: list[str], *, max_items: int, max_chars: int, what: str) -> list[str]:
    """Host-supplied quick phrases or blocked words: cleaned, de-duplicated, bounded."""
    if len(values) > max_items:
        raise TextRejected(f"too_many_{what}", f"at most {max_items} {what}")
    out: list[str] = []
    seen: set[str] = set()
    for raw in values:
        value = clean_text(raw, max_chars=max_chars)
        key = fold(value)
        if not key:
            raise TextRejected(f"{what}_invalid", f"each of {what} needs a letter, digit or emoji")
        if key not in seen:
            seen.add(key)
            out.append(value)
    return out
