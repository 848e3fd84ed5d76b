"""Request bodies, checked before anything parses them: the media type the route accepts, strict
UTF-8, and JSON with bounded nesting and number sizes.

A body that fails is the client's fault and never reaches a handler: `BodyRejected` carries the
problem (400 `malformed_body` / `malformed_json`, 415 `unsupported_media_type`). What passes is
handed on decoded (`CheckedBody.text`) and, for JSON, parsed (`CheckedBody.value`), so the
resolver reads the same text and never meets a body that could make it fail
(`RecursionError` from deep nesting, `ValueError` from Python's int digit limit,
`UnicodeDecodeError` from invalid UTF-8 or UTF-16).

- Media types: a JSON route takes `application/json` or `application/*+json`, with no
  parameter but `charset=utf-8`; a form route (`application/x-www-form-urlencoded`, the Alipay
  notification) likewise. No Content-Type at all is read as the route's own type.
- Encoding: UTF-8 only (RFC 8259 8.1), no byte order mark, no NUL byte (which is how UTF-16 and
  UTF-32 text looks when read as bytes; JSON text and form bodies never hold a raw NUL).
- JSON: at most MAX_JSON_DEPTH nested arrays/objects, integers of at most MAX_INT_DIGITS digits,
  numbers of at most MAX_NUMBER_CHARS characters, no NaN/Infinity. Depth is measured by a scan
  that does not recurse, before the parser runs.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from itertools import accumulate
from typing import Any
from urllib.parse import parse_qsl

from livecommerce.shared import problems

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"

MAX_JSON_DEPTH = 64
MAX_INT_DIGITS = 30          # beyond any amount of fen or count; far below Python's 4300-digit limit
MAX_NUMBER_CHARS = 64
MAX_FORM_FIELDS = 200

_BOMS = (b"\xef\xbb\xbf", b"\xfe\xff", b"\xff\xfe")
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEPS = {"[": 1, "{": 1, "]": -1, "}": -1}


class BodyRejected(Exception):
    def __init__(self, problem: problems.Problem) -> None:
        super().__init__(problem.detail)
        self.problem = problem


def malformed(detail: str) -> BodyRejected:
    return BodyRejected(problems.BadRequest(detail, code="malformed_body", title="Malformed body"))


def unsupported(detail: str) -> BodyRejected:
    return BodyRejected(problems.UnsupportedMediaType(detail))


@dataclass(frozen=True)
class CheckedBody:
    text: str
    media_type: str        # what the resolver is told the body is (JSON or FORM)
    value: Any = None      # the parsed JSON (None for a form)


def parse_media_type(header: str) -> tuple[str, dict[str, str]]:
    """("type/subtype" lower-cased, {param: value}) of a Content-Type header."""
    kind, _, rest = header.partition(";")
    params: dict[str, str] = {}
    for part in rest.split(";"):
        name, sep, value = part.partition("=")
        if not part.strip():
            continue
        params[name.strip().lower()] = value.strip().strip('"') if sep else ""
    return kind.strip().lower(), params


def _is_json_type(kind: str) -> bool:
    main, _, sub = kind.partition("/")
    return kind == JSON or (main == "application" and sub.endswith("+json") and len(sub) > len("+json"))


def check_media_type(content_type: str | None, accepts: str) -> str:
    """The media type the body is read as, or BodyRejected (415)."""
    if not content_type or not content_type.strip():
        return accepts
    kind, params = parse_media_type(content_type)
    if accepts == JSON:
        ok = _is_json_type(kind)
    else:
        ok = kind == accepts
    extra = {k: v for k, v in params.items() if not (k == "charset" and v.lower() == "utf-8")}
    if not ok or extra:
        raise unsupported(f"Send the body as {accepts} (UTF-8), not {content_type.strip()[:100]}.")
    return accepts


def raw_bytes(body: str | bytes | None, base64_encoded: bool) -> bytes:
    """The body's bytes, as the client sent them (API Gateway base64-encodes binary bodies)."""
    if body is None:
        return b""
    if base64_encoded:
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise malformed("The body is not valid base64.") from None
    if isinstance(body, bytes):
        return body
    try:
        return body.encode("utf-8")
    except UnicodeEncodeError:          # a lone surrogate (a "\\ud800" escape in the proxy event)
        raise malformed("The body is not valid UTF-8.") from None


def decode_utf8(raw: bytes) -> str:
    if raw.startswith(_BOMS):
        raise malformed("The body must be UTF-8 without a byte order mark.")
    if b"\x00" in raw:
        raise malformed("The body must be UTF-8 (it holds NUL bytes: UTF-16 or UTF-32?).")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise malformed("The body is not valid UTF-8.") from None


def json_depth_exceeds(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether arrays/objects nest deeper than `limit` (brackets inside strings do not count).
    No recursion and no Python loop: the brackets outside strings, as +1/-1 steps, summed."""
    if text.count("[") + text.count("{") <= limit:
        return False
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    return max(accumulate(map(_STEPS.__getitem__, brackets)), default=0) > limit


def _int(literal: str) -> int:
    if len(literal.lstrip("-")) > MAX_INT_DIGITS:
        raise malformed(f"Integers may have at most {MAX_INT_DIGITS} digits.")
    return int(literal)


def _float(literal: str) -> float:
    if len(literal) > MAX_NUMBER_CHARS:
        raise malformed(f"Numbers may be at most {MAX_NUMBER_CHARS} characters long.")
    return float(literal)


def _constant(name: str) -> Any:
    raise BodyRejected(problems.BadRequest(f"{name} is not JSON.", code="malformed_json"))


def parse_json(text: str) -> Any:
    if json_depth_exceeds(text):
        raise malformed(f"JSON may nest at most {MAX_JSON_DEPTH} arrays or objects deep.")
    try:
        return json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        raise BodyRejected(problems.BadRequest(f"The body is not valid JSON ({exc.msg} at {exc.pos}).",
                                               code="malformed_json")) from None
    except (RecursionError, ValueError):   # cannot happen after the checks above; never a 500 if it does
        raise malformed("The body could not be read as JSON.") from None


def check_form(text: str) -> None:
    try:
        parse_qsl(text, keep_blank_values=True, errors="strict", max_num_fields=MAX_FORM_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise malformed("The form is not valid UTF-8 url-encoding.") from None


def check(body: str | bytes | None, *, base64_encoded: bool, content_type: str | None,
          accepts: str = JSON) -> CheckedBody:
    """The body as the route accepts it, or BodyRejected."""
    media_type = check_media_type(content_type, accepts)
    text = decode_utf8(raw_bytes(body, base64_encoded))
    if media_type == JSON:
        return CheckedBody(text, JSON, parse_json(text) if text.strip() else None)
    check_form(text)
    return CheckedBody(text, media_type)
