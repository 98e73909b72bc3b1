"""The agent's sampling loop, and the background-thread form that `vigil serve` starts.

`AgentLoop.run()` samples every `interval` seconds, seals a batch every `flush_every` seconds (and right
after the first sample, so a wrong key or URL shows up at once), sends due batches, and sleeps on a
`threading.Event` so a stop request is honoured immediately. On stop it flushes once and returns. Any
exception from sampling or sending is logged and the loop goes on: a monitor must not die of a hiccup.
Sending happens on the sampling thread; the request timeouts bound how late a tick can be.

Imports: the standard library and `vigil.agent.*`; never psutil directly (the collector owns it).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from vigil.agent.collector import Collect, HostCollector
from vigil.agent.pusher import Pusher, PushSettings, PushStats, safe_host_name

log = logging.getLogger("vigil.agent")


class AgentLoop:
    """Sample -> buffer -> push, until `stop` is set."""

    def __init__(
        self,
        collect: Collect,
        pusher: Pusher,
        *,
        interval: float,
        flush_every: float,
        stop: threading.Event | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """Raises: ValueError when `interval` or `flush_every` is not positive."""
        if interval <= 0 or flush_every <= 0:
            raise ValueError("interval and flush_every must be positive")
        self.collect = collect
        self.pusher = pusher
        self.interval = interval
        self.flush_every = flush_every
        self.stop = stop or threading.Event()
        self._monotonic = monotonic

    def _sample(self) -> None:
        try:
            samples = self.collect()
            self.pusher.add(samples)
            log.debug("collected %d samples, %d buffered", len(samples), self.pusher.buffered)
        except Exception:
            log.exception("sampling failed; continuing")

    def _send(self, *, final: bool = False) -> bool:
        try:
            return self.pusher.flush() if final else self.pusher.send_due()
        except Exception:
            log.exception("sending failed; the samples stay buffered")
            return False

    def run(self) -> None:
        """Loop until `stop` is set, then flush once. Never raises."""
        now = self._monotonic()
        next_sample = now
        next_flush = now  # the first batch goes out right after the first sample
        while not self.stop.is_set():
            now = self._monotonic()
            if now >= next_sample:
                self._sample()
                next_sample += self.interval
                if next_sample <= now:  # we fell behind (slow server): skip ticks, don't burst
                    next_sample = now + self.interval
            if now >= next_flush:
                self.pusher.seal()
                next_flush = now + self.flush_every
            self._send()
            wake = min(next_sample, next_flush, self.pusher.retry_at or next_flush)
            self.stop.wait(max(0.0, wake - self._monotonic()))
        self.shutdown_flush()

    def shutdown_flush(self) -> bool:
        """Try once to deliver everything buffered; log what could not be. True when nothing is left."""
        done = self._send(final=True)
        if not done:
            log.warning(
                "stopping with %d samples undelivered (last attempt: %s)",
                self.pusher.buffered,
                self.pusher.last_failure,
            )
        self.pusher.close()
        return done

    def run_once(self) -> bool:
        """Sample twice one interval apart (so rates exist), push one batch. True when delivered."""
        self._sample()
        if self.stop.wait(self.interval):
            return self.shutdown_flush()
        self._sample()
        return self.shutdown_flush()


class AgentHandle:
    """A running background agent: `stop()` ends it after one final flush."""

    def __init__(self, loop: AgentLoop, thread: threading.Thread) -> None:
        self._loop = loop
        self._thread = thread

    @property
    def stats(self) -> PushStats:
        return self._loop.pusher.stats

    @property
    def pusher(self) -> Pusher:
        return self._loop.pusher

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the loop to stop, wait for its final flush (bounded by the request timeouts)."""
        self._loop.stop.set()
        self._thread.join(timeout)


def start_agent_thread(loop: AgentLoop, name: str = "vigil-agent") -> AgentHandle:
    """Run `loop` on a daemon thread (a daemon so a forgotten handle never blocks interpreter exit)."""
    thread = threading.Thread(target=loop.run, name=name, daemon=True)
    thread.start()
    return AgentHandle(loop, thread)


def start_local_agent(
    url: str,
    key: str,
    interval: float,
    host: str,
    *,
    collect: Collect | None = None,
    settings: PushSettings | None = None,
) -> AgentHandle:
    """Sample this machine in the background and push to `url` every `interval` seconds.

    For `vigil serve`: it flushes every interval (not every minute) so the dashboard fills at once.
    `host` is made valid for Vigil first (`socket.gethostname()` may contain spaces or other characters
    the API refuses). `collect` and `settings` exist for tests. Raises: ValueError for a bad interval.
    """
    pusher = Pusher(url, key, safe_host_name(host), settings or PushSettings(push_interval=interval))
    loop = AgentLoop(collect or HostCollector().collect, pusher, interval=interval, flush_every=interval)
    return start_agent_thread(loop, name="vigil-local-agent")
