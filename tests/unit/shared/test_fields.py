"""The request field types (livecommerce.shared.fields) and the text rule they
share with danmaku (livecommerce.shared.text): money and counts are JSON
integers only; free text refuses control, bidi and invisible formatting
characters and keeps everything else exactly as sent; file names are names,
not paths or device names. The last test probes every request body the routes
take (scripts/probe_request_fields.py), so a field added as a plain `int` or
`str` fails here."""
from __future__ import annotations

import json
import unicodedata

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from livecommerce.interaction import moderation
from livecommerce.shared import text as text_rule
from livecommerce.shared.fields import (Fen, FileName, Integer, MultilineText, Quantity, Text, fen, file_name,
                                        integer, quantity, text)


class Body(BaseModel):
    price: Fen = fen("Price.", gt=0)
    stock: Quantity = quantity("Stock.", ge=0, le=1000)
    seconds: Integer | None = integer("Seconds.", default=None, ge=10, le=3600)
    title: Text = text("Title.", min_length=1, max_length=60)
    description: MultilineText | None = text("Description.", default=None, max_length=500, multiline=True)
    filename: FileName | None = file_name("File.", default=None)


GOOD = {"price": 100, "stock": 5, "title": "直播好物"}


def _errors(**overrides) -> list[dict]:
    try:
        Body.model_validate({**GOOD, **overrides})
    except ValidationError as exc:
        return exc.errors()
    return []


def _refused(field: str, **overrides) -> bool:
    return any(e["loc"][0] == field for e in _errors(**overrides))


# -- integers ------------------------------------------------------------------------

@pytest.mark.parametrize("value", [True, False, "100", "1", 1.0, 100.0, "1e2", None, [1], {"n": 1}])
@pytest.mark.parametrize("field", ["price", "stock"])
def test_money_and_counts_take_json_integers_only(field, value):
    assert _refused(field, **{field: value})


def test_json_integers_pass_and_bounds_hold():
    assert Body.model_validate_json(json.dumps({**GOOD, "price": 1, "stock": 0})).price == 1
    assert _refused("price", price=0) and _refused("price", price=100_000_001) and _refused("stock", stock=1001)
    assert _refused("seconds", seconds=9) and _refused("seconds", seconds="60") and not _errors(seconds=60)


def test_json_path_is_as_strict_as_the_python_path():
    with pytest.raises(ValidationError):
        Body.model_validate_json('{"price": true, "stock": 1, "title": "x"}')
    with pytest.raises(ValidationError):
        Body.model_validate_json('{"price": 1.0, "stock": 1, "title": "x"}')


def test_schema_says_integer_fen():
    props = Body.model_json_schema()["properties"]
    assert props["price"]["type"] == "integer" and "Integer number of fen" in props["price"]["description"]
    assert props["price"]["exclusiveMinimum"] == 0 and props["price"]["maximum"] == 100_000_000
    assert props["stock"]["maximum"] == 1000 and "JSON integer" in props["stock"]["description"]
    assert "control characters" in props["title"]["description"]


@given(st.integers(min_value=1, max_value=100_000_000))
def test_any_integer_in_bounds_round_trips(n):
    assert Body.model_validate({**GOOD, "price": n}).price == n


# -- text ------------------------------------------------------------------------------

FORBIDDEN_EXAMPLES = ["\x00", "\x01", "\x07", "\x1b", "\x1f", "\x7f", "\x80", "\x85", "\x9f", "\r", "\x0b", "\x0c",
                      "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069",
                      "\u200e", "\u200f", "\u061c", "\u200b", "\ufeff", "\u2028", "\u2029", "\ud800", "\ue000"]


@pytest.mark.parametrize("ch", FORBIDDEN_EXAMPLES)
def test_single_and_multiline_text_refuse_controls_and_bidi(ch):
    assert text_rule.forbidden(ch)
    assert _refused("title", title=f"a{ch}b")
    assert _refused("description", description=f"a{ch}b")


@pytest.mark.parametrize("ch", ["\n", "\t"])
def test_line_breaks_and_tabs_only_in_multiline_fields(ch):
    assert _refused("title", title=f"a{ch}b")
    assert Body.model_validate({**GOOD, "description": f"第一行{ch}第二行"}).description == f"第一行{ch}第二行"


def test_nul_is_refused_not_replaced_and_the_message_names_it_without_echoing_it():
    errors = _errors(title="a\x00b")
    assert [e["loc"] for e in errors] == [("title",)]
    assert "U+0000 NUL" in errors[0]["msg"] and "\x00" not in errors[0]["msg"]
    assert "U+202E RIGHT-TO-LEFT OVERRIDE" in _errors(title="a\u202eb")[0]["msg"]


def test_text_is_not_stripped_and_blank_is_refused():
    assert Body.model_validate({**GOOD, "title": " 两边有空格 "}).title == " 两边有空格 "
    assert _refused("title", title="   ") and _refused("title", title="\u3000")
    assert _refused("title", title="")


def test_emoji_sequences_stay_allowed():
    for value in ("👍🏽", "👨\u200d👩\u200d👧", "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f", "❤️",
                  "Ａｂｃ　全角", "café", "¥99.00 包邮"):
        assert Body.model_validate({**GOOD, "title": value}).title == value


# Characters a text field keeps: assigned, not control/format/separator/private/surrogate.
_clean_chars = st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"))


@given(st.text(_clean_chars, min_size=1, max_size=60))
def test_any_clean_text_round_trips_unchanged(value):
    assume(not value.isspace())
    assert text_rule.first_forbidden(value) is None
    assert Body.model_validate({**GOOD, "title": value}).title == value
    assert Body.model_validate({**GOOD, "title": "x", "description": value}).description == value


@given(st.text(_clean_chars, max_size=20), st.sampled_from(FORBIDDEN_EXAMPLES), st.text(_clean_chars, max_size=20))
def test_any_text_holding_a_forbidden_character_is_refused(before, ch, after):
    value = before + ch + after
    assert text_rule.first_forbidden(value) == len(before)
    assert _refused("title", title=value)


@given(st.text(st.characters(codec="utf-8"), min_size=1, max_size=30))
def test_rule_agrees_with_unicode_categories(value):
    refused = text_rule.first_forbidden(value) is not None
    expected = any(unicodedata.category(c) in {"Cc", "Cs", "Co", "Cn", "Zl", "Zp"}
                   or (unicodedata.category(c) == "Cf" and c not in text_rule.ALLOWED_FORMAT) for c in value)
    assert refused == expected


def test_danmaku_use_the_same_rule():
    assert moderation.forbidden is text_rule.forbidden
    for ch in FORBIDDEN_EXAMPLES:
        with pytest.raises(moderation.TextRejected):
            moderation.clean_text(f"a{ch}b", max_chars=60)
    assert moderation.clean_text("a\u200db", max_chars=60) == "a\u200db"


def test_schema_pattern_states_the_rule_for_the_bmp():
    """The documented pattern (as JSON Schema reads it: ECMA-262, `$` is the end) refuses exactly
    what the rule refuses in the BMP, but for
    unassigned code points and lone surrogates (said in words: version-dependent / not a
    character a u-less regex can name)."""
    import re

    from livecommerce.shared import fields

    single, multi = re.compile(fields.TEXT_PATTERN), re.compile(fields.MULTILINE_PATTERN)
    for code in range(0x10000):
        ch = chr(code)
        if unicodedata.category(ch) in ("Cn", "Cs"):
            continue
        assert (single.fullmatch(ch) is None) == text_rule.forbidden(ch), hex(code)
        assert (multi.fullmatch(ch) is None) == text_rule.forbidden(ch, allow=text_rule.MULTILINE), hex(code)
    props = Body.model_json_schema()["properties"]
    assert props["title"]["pattern"] == fields.TEXT_PATTERN
    assert props["description"]["anyOf"][0]["pattern"] == fields.MULTILINE_PATTERN
    assert single.fullmatch("直播👨\u200d👩\u200d👧 ❤️") and not single.fullmatch("a\u202eb") and not single.fullmatch("a\x00")


# -- file names --------------------------------------------------------------------------

@pytest.mark.parametrize("name", [
    ".", "..", "a/b.txt", "/etc/passwd", "..\\boot.ini", "a\\b", "notes.", "notes ", "notes.txt.", "CON", "con",
    "Con.txt", "PRN.pdf", "aux", "NUL", "nul.tar.gz", "COM1", "com9.mp4", "LPT1", "lpt9.txt", "COM¹", "CONIN$",
    "CON .txt", "a:b.txt", 'a"b', "a|b", "a?b", "a*b", "a<b>", "脚本\x00.txt", "slides\u202etxt.exe", "a\tb",
])
def test_unsafe_file_names_are_refused(name):
    assert text_rule.file_name_problem(name) is not None
    assert _refused("filename", filename=name)


@pytest.mark.parametrize("name", ["脚本.txt", "COM10.txt", "CONSOLE.md", "nul_notes.txt", "LPT.pdf", ".env",
                                  "a.b.c", "a..b", " leading.txt", "商品图 1.png", "comic.pdf"])
def test_ordinary_file_names_pass(name):
    assert text_rule.file_name_problem(name) is None
    assert Body.model_validate({**GOOD, "filename": name}).filename == name


@given(st.sampled_from(sorted(text_rule.RESERVED_FILE_NAMES)), st.sampled_from(["", ".txt", ".tar.gz", ".PDF"]),
       st.booleans())
def test_device_names_in_any_case_with_any_extension(stem, ext, lower):
    name = (stem.lower() if lower else stem) + ext
    assert text_rule.file_name_problem(name) is not None


# -- every request body of the API -------------------------------------------------------

def test_every_request_field_is_strict_and_clean():
    from scripts import probe_request_fields as probe

    results = probe.run()
    figures = probe.figures(results)
    assert figures["body models"] >= 20 and figures["integer fields"] >= 20 and figures["text fields"] >= 40
    lax = [r.name for r in results if r.kind == "int" and r.accepted]
    assert lax == []
    # Danmaku text is cleaned in the service by the same rule (its own code, text_control_characters).
    dirty = [(r.name, r.accepted) for r in results if r.kind == "str" and set(r.accepted) & set(probe.TEXT_PROBES)
             and r.name != "DanmakuRequest.text"]
    assert dirty == []
    multiline = sorted(r.name for r in results if r.kind == "str" and set(r.accepted) & set(probe.LINE_PROBES)
                       and r.name != "DanmakuRequest.text")
    assert multiline == ["CreateProductRequest.description", "UpdateProductRequest.description"]
    assert figures["file-name fields"] == 1 and figures["file-name fields accepting unsafe names"] == 0
