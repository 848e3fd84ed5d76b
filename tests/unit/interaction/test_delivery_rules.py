"""interaction.delivery: the push/poll switch and the feed's paging (order, gaps, no repeats)."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from livecommerce.interaction import delivery


def test_the_setting_wins_else_the_audience_decides():
    assert delivery.choose("poll", viewers=3, threshold=20000) == "poll"
    assert delivery.choose("push", viewers=10**6, threshold=20000) == "push"
    assert delivery.choose(None, viewers=20000, threshold=20000) == "poll"
    assert delivery.choose(None, viewers=19999, threshold=20000) == "push"
    assert delivery.choose(None, viewers=None, threshold=20000) == "push"       # unknown audience: push
    assert delivery.choose(None, viewers=10**6, threshold=0) == "push"          # 0: only the setting switches
    message = delivery.control_message("R", "poll")
    assert message["type"] == "delivery" and message["feed"] == "/v1/rooms/R/feed"


def page(seq):
    return delivery.Page(seq=seq, at_ms=seq * 200, message={"items": [], "dropped": 0})


def test_a_gap_is_reported_and_nothing_repeats():
    found = delivery.view([page(5), page(3), page(4), page(4)], after=1)
    assert [p.seq for p in found.pages] == [3, 4, 5] and found.next_seq == 5 and found.missed == 1
    assert delivery.view([page(5)], after=5) == delivery.FeedView(pages=[], next_seq=5, missed=0)


@settings(max_examples=100, deadline=None)
@given(st.sets(st.integers(1, 200), max_size=80), st.integers(1, 30))
def test_polling_page_by_page_sees_every_kept_page_once_in_order(kept, limit):
    pages = [page(s) for s in kept]
    seen, after = [], 0
    for _ in range(300):
        found = delivery.view(pages, after=after, limit=limit)
        if not found.pages:
            break
        assert [p.seq for p in found.pages] == sorted(p.seq for p in found.pages)
        seen.extend(p.seq for p in found.pages)
        after = found.next_seq
    assert seen == sorted(kept)
