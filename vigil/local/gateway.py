"""The local API gateway: route matcher → event converter → the real Lambda handler → HTTP answer.

`Gateway.handle_request(method, path, query, headers, body)` is the one seam both the dev server and
the tests go through (Chalice-style). Function selection uses the same `ROUTE_TABLE` the CDK API is
built from. Ingest requests take an admission slot (`admission.py`) and, in `vigil serve`, run in an
ingest worker process (`ingest_pool.py`, `worker.py`). Must not import waitress or any HTTP server.
"""

from __future__ import annotations

import contextlib
import importlib.util
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vigil.api.errors import error_payload
from vigil.api.route_table import ROUTE_TABLE, match_function
from vigil.domain.errors import Unavailable
from vigil.local.admission import Admission
from vigil.local.events import HttpResponse, from_result, to_event
from vigil.local.ingest_pool import IngestPool
from vigil.wiring import AppContext, bind

if TYPE_CHECKING:
    from vigil.local.usage_meter import UsageMeter

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class LocalLambdaContext:
    """The attributes of Lambda's context object that Powertools and our handlers read."""

    function_name: str
    aws_request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:local:000000000000:function:vigil"
    timeout_seconds: float = 30.0
    _started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self._started)) * 1000))


def load_function_handler(name: str) -> Handler:
    """Import `functions/<name>/handler.py` by path, exactly the file Lambda runs."""
    path = REPO_ROOT / "functions" / name / "handler.py"
    spec = importlib.util.spec_from_file_location(f"vigil_function_{name}", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load the {name} function from {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    handler: Handler = module.handler
    return handler


class Gateway:
    def __init__(
        self,
        ctx: AppContext,
        handlers: dict[str, Handler] | None = None,
        admission: Admission | None = None,
        usage: UsageMeter | None = None,
        ingest: IngestPool | None = None,
    ) -> None:
        self.ctx = ctx
        self.usage = usage  # the local cost meter: every handled request is an API + Lambda request
        self._handlers = handlers or {}
        self.admission = admission or Admission()
        self.ingest = ingest  # when set, ingest handlers run in those worker processes instead of here
        self._load_lock = threading.Lock()

    def handler_for(self, function: str) -> Handler:
        with self._load_lock:  # a cold start happens once per function, as in Lambda
            if function not in self._handlers:
                self._handlers[function] = load_function_handler(function)
            return self._handlers[function]

    def warm_up(self) -> None:
        """Every function's cold start now (its handler file, Powertools, one resolver with all its
        route modules) instead of inside the first requests: there it held the interpreter lock for
        100-300 ms that `/health` and reads arriving meanwhile waited for."""
        for function in dict.fromkeys(binding.function for binding in ROUTE_TABLE):
            entry = getattr(self.handler_for(function), "entry", None)
            if entry is not None:
                entry.pool().any()

    def routes(self, path: str) -> bool:
        """True when an API route (not a static file) serves this path."""
        return match_function(path) is not None

    def handle_request(
        self,
        method: str,
        path: str,
        query: str = "",
        headers: Iterable[tuple[str, str]] = (),
        body: bytes = b"",
    ) -> HttpResponse:
        binding = match_function(path)
        if binding is None:
            return HttpResponse(
                404,
                [("Content-Type", "application/json")],
                b'{"error":{"code":"not_found","message":"no route","field":null}}',
            )
        event = to_event(method, path, query, headers, body, route_key=f"ANY {binding.path}")
        # Invocations overlap here (unlike in one Lambda environment): each borrows its own resolver
        # (`vigil.api.resolver`), and the app context is bound per thread (a contextvar).
        ingest = (
            binding.auth == "ingest" and method == "POST"
        )  # takes an admission slot; the rest runs at once
        try:
            with self.admission.slot() if ingest else contextlib.nullcontext(), bind(self.ctx):
                started = time.perf_counter()
                if ingest and self.ingest is not None:  # its store work is added by the worker's meter
                    result = self.ingest.invoke(binding.function, event)
                else:
                    handler = self.handler_for(binding.function)
                    result = handler(event, LocalLambdaContext(f"vigil-{binding.function}"))
                if self.usage is not None:
                    self.usage.invocation(binding.function, time.perf_counter() - started, http=True)
        except Unavailable as exc:  # refused before the handler ran (or its worker died): answered 503
            status, body, extra = error_payload(exc)
            return HttpResponse(status, [("Content-Type", "application/json"), *extra.items()], body)
        return from_result(result)
