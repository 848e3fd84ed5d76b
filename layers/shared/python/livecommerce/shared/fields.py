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

from pydantic import BeforeValidator, Field, GetJsonSchemaHandler, Strict, StringConstraints
from pydantic_core import PydanticUndefined, core_schema

from livecommerce.shared import text as text_rule

MAX_FEN = 100_000_000                # 1,000,000 yuan: a price or amount above is a typo
MAX_QUANTITY = 10_000_000

FEN_NOTE = "Integer number of fen (1 yuan = 100 fen): a JSON integer, never a string, boolean or decimal."
INTEGER_NOTE = "A JSON integer, never a string, boolean or decimal."
TEXT_NOTE = ("No control characters, bidirectional controls, invisible formatting characters, private-use or "
             "unassigned code points; stored as sent.")
MULTILINE_NOTE = ("Line breaks (\\n) and tabs allowed; no other control characters, bidirectional controls, "
                  "invisible formatting characters, private-use or unassigned code points; stored as sent.")
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

# The rule as a JSON-schema pattern, for clients and schema-driven tools: every control,
# format (except ZWJ), separator and private-use character of the BMP. Written out, not
# computed, so the document does not change with the Python's Unicode version. The rule
# (shared.text) also refuses unassigned code points, astral private use and lone surrogates;
# surrogates stay out of the pattern, as a regex without the u flag sees an emoji as two.
_BMP_FORMAT = ("\\u00ad\\u0600-\\u0605\\u061c\\u06dd\\u070f\\u0890\\u0891\\u08e2\\u180e\\u200b\\u200c"
               "\\u200e\\u200f\\u2028-\\u202e\\u2060-\\u206f\\ufeff\\ufff9-\\ufffb\\ue000-\\uf8ff")
# Beyond the BMP the rule also refuses private-use and unassigned code points; the pattern
# leaves them to the description (TEXT_NOTE): an astral range in a character class makes
# schema-driven generators about 100 times slower (Schemathesis: 40 s instead of 0.4 s for
# ten product bodies), and which code points are unassigned changes with each Unicode version.
_FORBIDDEN = f"\\x00-\\x1f\\x7f-\\x9f{_BMP_FORMAT}"
TEXT_PATTERN = f"^[^{_FORBIDDEN}]*$"
MULTILINE_PATTERN = f"^[^\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f{_BMP_FORMAT}]*$"
# What str.strip() removes (Python's whitespace): text that is trimmed before the rule
# (danmaku) may carry it at either end.
_STRIPPED = ("\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f"
             "\\u205f\\u3000")
TRIMMED_TEXT_PATTERN = f"^[{_STRIPPED}]*[^{_FORBIDDEN}]*[{_STRIPPED}]*$"


class _SchemaPattern:
    """Puts the character rule in the field's JSON schema (validation is the BeforeValidator's)."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema,
                                     handler: GetJsonSchemaHandler) -> dict[str, Any]:
        json_schema = handler(schema)
        json_schema.setdefault("pattern", self.pattern)
        return json_schema


def schema_pattern(pattern: str) -> _SchemaPattern:
    """Annotated metadata: this pattern in the field's JSON schema, validation left to the field's own check."""
    return _SchemaPattern(pattern)


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
Text = Annotated[str, BeforeValidator(_checker()), _SchemaPattern(TEXT_PATTERN)]
"""Single-line free text: titles, names, notes, address lines."""

MultilineText = Annotated[str, BeforeValidator(_checker(allow=text_rule.MULTILINE)), _SchemaPattern(MULTILINE_PATTERN)]
"""Multi-line free text (descriptions): \\n and \\t allowed."""

# The characters text refuses and those Windows refuses in a name; not ending in a dot or a space
# (so never `.` or `..`). Reserved device names (CON, NUL, ...) are the description's.
_NAME_FORBIDDEN = _FORBIDDEN + '/\\\\<>:"|?*'
FILE_NAME_PATTERN = f"^[^{_NAME_FORBIDDEN}]*[^{_NAME_FORBIDDEN}. ]$"
FileName = Annotated[str, BeforeValidator(_checker(file_name=True)), _SchemaPattern(FILE_NAME_PATTERN)]
"""A file name as a user's machine will save it."""

HttpsUrl = Annotated[str, StringConstraints(max_length=1024, pattern=f"^https://[^\\s{_FORBIDDEN}]+$"),
                     BeforeValidator(_checker())]
"""An https URL (images, covers, avatars), free of the characters free text refuses. The
pattern sits in the type, not the field: pydantic leaves a field-level pattern out of the
JSON schema of an optional validated type."""


def text(description: str | None = None, *, default: Any = PydanticUndefined, min_length: int | None = None,
         max_length: int, multiline: bool = False, **extra: Any) -> Any:
    """A free-text field: bounded length, the character rule in its description."""
    return Field(default, min_length=min_length, max_length=max_length,
                 description=_note(description, MULTILINE_NOTE if multiline else TEXT_NOTE), **extra)


def file_name(description: str | None = None, *, default: Any = PydanticUndefined, max_length: int = 200) -> Any:
    return Field(default, min_length=1, max_length=max_length, description=_note(description, FILE_NAME_NOTE))
