import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stackproc import start_stack, stop_stack  # noqa: E402


@pytest.fixture(scope="module")
def stack():
    proc, url, lines = start_stack()
    yield url, lines, proc
    if proc.poll() is None:
        stop_stack(proc)
