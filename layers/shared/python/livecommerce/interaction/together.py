"""Independent calls of one request made at the same time: one network round trip
for several reads (or writes to different items) instead of one each.

One small pool per container (boto3 clients are thread-safe; PynamoDB's connection uses
one). A single call runs inline: no thread hop for a warm path that needs only one."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="together")


def together(*calls: Callable[[], Any] | None) -> list[Any]:
    """Run the calls (None: skipped, its result None) concurrently; their results in order.
    The first exception (in call order) is raised once every call has finished."""
    todo = [(n, call) for n, call in enumerate(calls) if call is not None]
    results: list[Any] = [None] * len(calls)
    if len(todo) == 1:
        n, call = todo[0]
        results[n] = call()
        return results
    futures = [(n, _pool.submit(call)) for n, call in todo]
    error: BaseException | None = None
    for n, future in futures:
        try:
            results[n] = future.result()
        except BaseException as exc:  # noqa: BLE001 - re-raised below, after the others finished
            error = error or exc
    if error is not None:
        raise error
    return results
