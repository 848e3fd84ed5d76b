"""SnapStart copies one initialised environment into many: a sampler seeded at import would draw the
same sequence in every copy, so every container would keep or drop the same danmaku. A fork after
import stands in for two restores of one snapshot."""
import os

from livecommerce.interaction import feed


def _draws_in_a_copy() -> bytes:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:   # the copy: draw, report, leave without running the parent's cleanup
        os.close(read)
        os.write(write, repr([feed._rng.random() for _ in range(8)]).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        out = pipe.read()
    os.waitpid(pid, 0)
    return out


def test_two_copies_of_one_initialised_environment_draw_different_samples():
    assert _draws_in_a_copy() != _draws_in_a_copy()
