"""Field types of the API's request models, defined once for every context.

Money and counts are JSON integers, nothing else: `true`, `"100"` and `1.0`
are refused (pydantic strict mode) where lax pydantic would take them as 1, 100
and 1. Powertools validates bodies with the same pydantic types
(`enable_validation=True`), so the strictness holds on the handler path.

    list_price: Fen = fen("List price.", gt=0)
    stock: Quantity = quantity("Units in the warehouse.", ge=0, le=MAX_STOCK)
    title: Text = text("Room title.", min_length=1, max_length=60)
    description: MultilineText | None = text("...", default=None, max_length=5000, multiline=True)

Free text refuses control, bidirectional and invisible formatting characters
(livecommerce.shared.text, the rule danmaku use) and is never stripped or
rewritten: a value is stored as sent or answered with 422 naming the field. A
non-empty text needs a visible character (no whitespace-only titles). Response
models stay lax: they describe what we send.

Query parameters are strings on the wire; a count there stays `int` with
bounds (Powertools parses it), not these types.
"""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, Strict
from pydantic_core import PydanticUndefined

from livecommerce.shared import text as text_rule

MAX_FEN = 100_000_000                # 1,000,000 yuan: a price or amount above is a typo
MAX_QUANTITY = 10_000_000

FEN_NOTE = "Integer number of fen (1 yuan = 100 fen): a JSON integer, never a string, boolean or decimal."
INTEGER_NOTE = "A JSON integer, never a string, boolean or decimal."
TEXT_NOTE = "No control characters, bidirectional controls or invisible formatting characters; stored as sent."
MULTILINE_NOTE = ("Line breaks (\\n) and tabs allowed; no other control characters, bidirectional controls or "
                  "invisible formatting characters; stored as sent.")
FILE_NAME_NOTE = ("A file name, not a path: no / or \\ or <>:\"|?*, not . or .., not ending in a dot or a space, "
                  "not a Windows device name (CON, PRN, AUX, NUL, COM1-9, LPT1-9, with or without extension). "
                  + TEXT_NOTE)


def _note(description: str | None, note: str) -> str:
    return f"{description.rstrip()} {note}" if description else note


# -- integers ------------------------------------------------------------------------

Fen = Annotated[int, Strict()]
"""Money: an integer number of fen. Bounds come with `fen(...)`."""

Quantity = Annotated[int, Strict()]
"""Units and counts: stock, quantities, limits per user, coupons in a drop."""

Integer = Annotated[int, Strict()]
"""Any other whole number of a request body: durations, days, positions, sizes, points."""


def fen(description: str | None = None, *, default: Any = PydanticUndefined, gt: int | None = None,
        ge: int | None = None, le: int = MAX_FEN) -> Any:
    """A money field: strict integer fen within bounds, the unit in its description."""
    if gt is None and ge is None:
        ge = 0
    return Field(default, gt=gt, ge=ge, le=le, description=_note(description, FEN_NOTE))


def quantity(description: str | None = None, *, default: Any = PydanticUndefined, gt: int | None = None,
             ge: int | None = None, le: int = MAX_QUANTITY) -> Any:
    """A count field: strict integer within bounds."""
    if gt is None and ge is None:
        ge = 0
    return Field(default, gt=gt, ge=ge, le=le, description=_note(description, INTEGER_NOTE))


def integer(description: str | None = None, *, default: Any = PydanticUndefined, gt: int | None = None,
            ge: int | None = None, le: int) -> Any:
    """Another whole-number field: strict integer within bounds (an upper bound is required)."""
    return Field(default, gt=gt, ge=ge, le=le, description=_note(description, INTEGER_NOTE))


# -- text ------------------------------------------------------------------------------

def _checker(*, allow: frozenset[str] = frozenset(), file_name: bool = False):
    def check(value: Any) -> Any:
        if not isinstance(value, str):
            return value  # the str schema refuses it with its own message
        problem = text_rule.file_name_problem(value) if file_name else text_rule.text_problem(value, allow=allow)
        if problem:
            raise ValueError(problem)
        if value and value.isspace():
            raise ValueError("text cannot be only whitespace")
        return value

    return check


# BeforeValidator: the rule sees the text exactly as sent, before anything else touches it.
Text = Annotated[str, BeforeValidator(_checker())]
"""Single-line free text: titles, names, notes, address lines."""

MultilineText = Annotated[str, BeforeValidator(_checker(allow=text_rule.MULTILINE))]
"""Multi-line free text (descriptions): \\n and \\t allowed."""

FileName = Annotated[str, BeforeValidator(_checker(file_name=True))]
"""A file name as a user's machine will save it."""

CleanUrl = Annotated[str, BeforeValidator(_checker())]
"""A URL checked by its field's pattern, and free of the characters free text refuses."""


def text(description: str | None = None, *, default: Any = PydanticUndefined, min_length: int | None = None,
         max_length: int, multiline: bool = False, **extra: Any) -> Any:
    """A free-text field: bounded length, the character rule in its description."""
    return Field(default, min_length=min_length, max_length=max_length,
                 description=_note(description, MULTILINE_NOTE if multiline else TEXT_NOTE), **extra)


def file_name(description: str | None = None, *, default: Any = PydanticUndefined, max_length: int = 200) -> Any:
    return Field(default, min_length=1, max_length=max_length, description=_note(description, FILE_NAME_NOTE))
