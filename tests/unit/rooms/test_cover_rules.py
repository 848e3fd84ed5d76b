"""Which uploaded files may be a room's cover (rooms.cover_rules), property-tested."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from livecommerce.rooms import cover_rules as r

HEADS = {"image/jpeg": b"\xff\xd8\xff\xe0", "image/png": b"\x89PNG\r\n\x1a\n",
         "image/webp": b"RIFF\x10\x00\x00\x00WEBP"}


@given(st.sampled_from(sorted(HEADS)), st.integers(1, r.MAX_COVER_BYTES), st.binary(max_size=8))
def test_a_real_image_of_a_cover_type_and_size_is_a_cover(content_type, size, tail):
    assert r.content_problem(content_type, size, HEADS[content_type] + tail) is None


@given(st.sampled_from(sorted(HEADS)), st.integers(r.MAX_COVER_BYTES + 1, 10 ** 10))
def test_too_big_is_refused_with_the_limit(content_type, size):
    assert "5 MB" in r.content_problem(content_type, size, HEADS[content_type])


@given(st.sampled_from(sorted(HEADS)), st.sampled_from(sorted(HEADS)))
def test_bytes_must_be_the_declared_type(declared, actual):
    problem = r.content_problem(declared, 100, HEADS[actual])
    assert (problem is None) == (declared == actual)


@given(st.binary(max_size=16).filter(lambda b: r.sniff(b) is None))
def test_other_content_is_refused(head):
    assert "not a JPEG, PNG or WebP" in r.content_problem("image/png", 100, head)


def test_types_and_empty_files():
    assert r.type_problem("image/gif") and r.type_problem("") and r.type_problem("IMAGE/PNG") is None
    assert r.size_problem(0) == "The cover file is empty."
    assert r.content_problem("image/gif", 10, b"GIF89a") .startswith("A cover must be")
    assert r.cover_key("R", "U") == "rooms/R/covers/U"


# -- the public copy (rooms.public_covers) --------------------------------------------------------

def test_public_cover_key_keeps_room_and_upload_and_refuses_anything_else():
    from livecommerce.rooms import cover_rules as r
    assert r.public_cover_key(r.cover_key("R1", "U1")) == "covers/R1/U1"
    for bad in ("rooms/R1/materials/U1", "rooms/R1/covers/", "covers/R1/U1", "rooms//covers/U1", "rooms/R1/covers/U1/x"):
        with pytest.raises(ValueError):
            r.public_cover_key(bad)


def test_only_a_public_room_with_a_copy_and_a_cdn_is_served_publicly():
    from livecommerce.rooms import cover_rules as r
    assert r.served_publicly("public", "covers/R/U", "https://cdn")
    assert not r.served_publicly("test", "covers/R/U", "https://cdn")
    assert not r.served_publicly("public", None, "https://cdn")
    assert not r.served_publicly("public", "covers/R/U", None)
