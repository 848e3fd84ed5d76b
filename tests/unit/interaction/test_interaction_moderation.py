"""Danmaku text rules, blocked words, fixed windows and like caps."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from livecommerce.interaction import limits, moderation
from livecommerce.interaction.moderation import TextRejected


@pytest.mark.parametrize("text", ["想要", "  优惠多少  ", "👍🏻👍🏻", "👨\u200d👩\u200d👧", "🇨🇳加油", "Price?¥99", "ｆｕｌｌ"])
def test_good_texts(text):
    assert moderation.clean_text(text, max_chars=60) == text.strip()


@pytest.mark.parametrize("text, code", [
    ("", "text_empty"), (" \t ", "text_control_characters"), ("a" * 61, "text_too_long"),
    ("line\nbreak", "text_control_characters"), ("bell\x07", "text_control_characters"),
    ("rtl\u202eoverride", "text_control_characters"), ("hidden\u200bspace", "text_control_characters"),
    ("bom\ufeff", "text_control_characters"), ("se\u2028p", "text_control_characters"),
    ("private\ue000", "text_control_characters"),
])
def test_bad_texts(text, code):
    with pytest.raises(TextRejected) as found:
        moderation.clean_text(text, max_chars=60)
    assert found.value.code in (code, "text_empty")


@given(st.text(max_size=80))
def test_clean_text_never_lets_control_characters_through(text):
    try:
        cleaned = moderation.clean_text(text, max_chars=60)
    except TextRejected:
        return
    import unicodedata

    assert 1 <= len(cleaned) <= 60
    assert not any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in cleaned)


@pytest.mark.parametrize("text", ["加微信领红包", "加 微 信", "加-微-信", "加.微.信", "ＶＸ好友", "vx 好友"])
def test_blocked_words_see_through_spacing_and_width(text):
    assert moderation.find_blocked(text, ["加微信", "VX"]) is not None


def test_blocked_word_misses_clean_text_and_quick_phrases():
    assert moderation.find_blocked("这件衣服真好看", ["加微信"]) is None
    assert moderation.is_quick_phrase("想 要", ["想要"]) and not moderation.is_quick_phrase("不想要", ["想要"])
    assert moderation.text_key("想 要!") == moderation.text_key("想要")


def test_host_lists_are_cleaned_and_bounded():
    assert moderation.clean_list(["想要", " 想要 ", "多少钱"], max_items=12, max_chars=20, what="quick_phrases") \
        == ["想要", "多少钱"]
    with pytest.raises(TextRejected):
        moderation.clean_list(["x"] * 13, max_items=12, max_chars=20, what="quick_phrases")
    with pytest.raises(TextRejected):
        moderation.clean_list(["!!!"], max_items=12, max_chars=20, what="blocked_words")


@given(st.integers(0, 10**6), st.integers(0, 1000), st.integers(1, 1000))
def test_like_cap_never_passes(requested, used, cap):
    accepted = limits.clamp_likes(requested, used, cap)
    assert 0 <= accepted <= requested and used + accepted <= max(cap, used)


@given(st.floats(min_value=0, max_value=2e9), st.integers(1, 3600))
def test_windows(now, window):
    assert limits.window_index(now, window) * window <= now < limits.window_end(now, window)
    assert 1 <= limits.retry_after(now, window) <= window + 1
