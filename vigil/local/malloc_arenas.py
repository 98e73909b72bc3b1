"""Fewer malloc heaps in the local server process: glibc's allocator gives each thread that meets
contention a heap (an "arena") of its own, up to 8 per core, and a heap keeps most of what it once
held after Python frees it. The server's 24 handler threads take turns on the requests, so after a
set of large reads each of up to 16 arenas held the high-water mark of whichever requests it served:
the process stayed at ~236 MiB after the peer benchmark's query set, 74 MiB before it, and
`malloc_trim` gave 92 MiB of that back (docs/architecture.md, "Local server memory"). With two
arenas the same set left it at ~131 MiB, with no measurable change in latency (the interpreter lock
already serialises the handlers' Python; two heaps for two cores).

glibc only (`mallopt(M_ARENA_MAX)`, read when a thread first needs an arena, so it is set before the
server starts its threads); elsewhere nothing is changed. Standard library only.
"""

from __future__ import annotations

import ctypes
import platform

M_ARENA_MAX = -8  # glibc's malloc.h
SERVER_ARENAS = 2


def limit_arenas(arenas: int = SERVER_ARENAS) -> bool:
    """Cap this process' malloc arenas at `arenas`; True when the C library took it."""
    if platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(None)  # the C library this interpreter runs on
        return bool(libc.mallopt(M_ARENA_MAX, arenas))
    except (OSError, AttributeError):  # no such symbol: leave the allocator as it is
        return False
