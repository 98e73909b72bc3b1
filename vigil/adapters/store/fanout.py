"""Bounded concurrency for the DynamoDB store's per-host reads: one Query per host is mostly waiting on
the network (≈ 6 ms a round trip against a fraction of a millisecond of our decoding), so a read of
every host issues `READ_CONCURRENCY` of them at a time from a small thread pool and hands the answers
back in the hosts' order, exactly what the sequential loop yielded.

Why threads: botocore clients are thread-safe and release the GIL while waiting on the socket; the
decoding that follows each answer stays on the caller's thread (it is CPU, which threads would not
speed up). At most `workers` answers are held at once (a read of 10,000 hosts never holds them all),
and the client's connection pool is sized to match (`dynamodb_io.build_client`), else urllib3 opens
and discards a connection per extra request. Must not import boto3 or `vigil.api`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sized
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

READ_CONCURRENCY = 16  # requests in flight per read; the DynamoDB client's pool holds as many connections


def ordered_map(fn: Callable[[T], R], items: Iterable[T], workers: int = READ_CONCURRENCY) -> Iterator[R]:
    """`map(fn, items)` with up to `workers` calls running at once, yielding in the items' order.

    Raises:
        Exception: whatever `fn` raised for the first item (in order) that failed; the calls still
            running finish, the ones not started are cancelled.
    """
    if workers <= 1 or (isinstance(items, Sized) and len(items) <= 1):  # on the caller's thread, no pool
        yield from map(fn, items)
        return
    pending: deque[Future[R]] = deque()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="vigil-read") as pool:
        try:
            for item in items:
                if len(pending) >= workers:
                    yield pending.popleft().result()
                pending.append(pool.submit(fn, item))
            while pending:
                yield pending.popleft().result()
        finally:  # a failure or a caller that stops early: do not start what nobody will read
            for future in pending:
                future.cancel()
