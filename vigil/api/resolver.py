"""Powertools' HTTP API resolver with its per-request state on the instance, and a pool of them, so
one process can resolve requests on several threads at once (the local server).

Powertools keeps the event being resolved on a class attribute (`BaseRouter.current_event`, and the
Lambda context beside it): one per process, which Lambda's one-request-per-environment model never
notices and a threaded server turns into a race (two requests read each other's query strings).
`OwnEventResolver` reads both from the instance instead (its `resolve` stores them there; Powertools'
class-level copy is still written but nothing of ours reads it), and the resolver's other per-request
state (`context`, the route arguments in it) already lives on the instance. `ResolverPool` lends each
invocation a resolver no other thread is using. In Lambda the pool holds one resolver.
`check_takes_no_input` guards resolvers built without validation (the health function's).

Powertools' request validation also asks, on every request and for every query parameter and header
of the route, whether the parameter is a scalar (`is_scalar_field`: the annotation's union members
walked through `issubclass` against typing's ABCs), though the answer depends on the parameter's
field alone, which Powertools builds once when the route is registered: ~0.25 ms of a 1.7 ms
one-series read (docs/architecture.md, "Per-request costs"). `remember_scalar_fields` keeps each
field's answer (Powertools is pinned; tests/functional/api/test_request_overhead.py holds the
answers equal to Powertools' own and checks none is recomputed per request).

Powertools also formats a route's validated arguments into a debug f-string on every request
(`Calling API Route Handler: {...}`), whether anything logs it or not: request bodies — webhook
secrets, error texts, whole sample batches — were formatted every time and written whenever its
debug logging was on. `OwnEventResolver` keeps the arguments in a context that shows only their names
and types (`_RouteContext`), for every route at once.

Imports Powertools at module level (`vigil.api.app` imports this module lazily, on the cold start).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, cast

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

_ROUTE_ARGS = "_route_args"  # where Powertools keeps a route's (validated) arguments in `context`


def remember_scalar_fields() -> None:
    """Make Powertools' request validation remember `is_scalar_field` per field (see the docstring);
    once per process, by `app.new_resolver` for a validating resolver (the module loads pydantic,
    which the health function's cold start never does)."""
    from aws_lambda_powertools.event_handler.middlewares import openapi_validation

    asked: Callable[[Any], bool] = getattr(openapi_validation, "is_scalar_field")  # noqa: B009 (not exported)
    if getattr(asked, "remembered", False):
        return
    known: dict[int, tuple[Any, bool]] = {}  # id(field) -> (the field, kept alive so ids stay its; answer)

    def is_scalar_field(field: Any) -> bool:
        found = known.get(id(field))
        if found is None or found[0] is not field:
            found = known[id(field)] = (field, asked(field))
        return found[1]

    is_scalar_field.remembered = True  # type: ignore[attr-defined]
    setattr(openapi_validation, "is_scalar_field", is_scalar_field)  # noqa: B010 (not exported)


class _NamesOnly(dict[str, Any]):
    """A route's arguments, formatted as their names and types: never their values."""

    def __repr__(self) -> str:
        return "{" + ", ".join(f"{name!r}: <{type(v).__name__}>" for name, v in self.items()) + "}"


class _RouteContext(dict[str, Any]):
    """`resolver.context`, whose route arguments format as `_NamesOnly` whichever way Powertools
    stores them (item assignment in its validation, `update` through `append_context`)."""

    def __setitem__(self, key: str, value: Any) -> None:
        if key == _ROUTE_ARGS and isinstance(value, dict):
            value = _NamesOnly(value)
        super().__setitem__(key, value)

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value


class OwnEventResolver(APIGatewayHttpResolver):
    """`APIGatewayHttpResolver` whose `current_event`/`lambda_context` belong to this instance, and
    whose context never formats the route's arguments (`_RouteContext`)."""

    _own_event: APIGatewayProxyEventV2
    _own_context: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.context = _RouteContext(self.context)

    @property  # type: ignore[override]
    def current_event(self) -> APIGatewayProxyEventV2:
        return self._own_event

    @current_event.setter
    def current_event(self, value: APIGatewayProxyEventV2) -> None:
        self._own_event = value

    @property
    def lambda_context(self) -> Any:
        return self._own_context

    @lambda_context.setter
    def lambda_context(self, value: Any) -> None:
        self._own_context = value

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        self._own_event = cast(APIGatewayProxyEventV2, self._to_proxy_event(dict(event)))
        self._own_context = context
        return super().resolve(event, context)


class ResolverPool:
    """Resolvers built on demand, each lent to one invocation at a time; as many exist as invocations
    ever overlapped (the server's thread count bounds it)."""

    def __init__(self, build: Callable[[], OwnEventResolver]) -> None:
        self._build = build
        self._idle: list[OwnEventResolver] = []
        self._lock = threading.Lock()
        self._first: OwnEventResolver | None = None

    def any(self) -> OwnEventResolver:
        """A resolver for reading route metadata (routes, OpenAPI); never used to resolve."""
        if self._first is None:
            with self._lock:
                if self._first is None:
                    self._first = self._build()
                    self._idle.append(self._first)
        return self._first

    @contextmanager
    def lend(self) -> Iterator[OwnEventResolver]:
        self.any()
        with self._lock:
            resolver = self._idle.pop() if self._idle else None
        if resolver is None:
            resolver = self._build()
        try:
            yield resolver
        finally:
            with self._lock:
                self._idle.append(resolver)


def check_takes_no_input(app: APIGatewayHttpResolver) -> None:
    """A resolver built without validation may serve only routes whose handlers take no parameters:
    anything a route declares (path, query, header, body) is what validation would have checked.

    Raises:
        TypeError: naming the first route that declares a parameter.
    """
    import inspect

    for route in app._static_routes + app._dynamic_routes:  # a path parameter is a parameter too
        params = list(inspect.signature(route.func).parameters)
        if params:
            raise TypeError(
                f"{route.method} {route.path} takes {params}: a function without validation must serve "
                "routes without input"
            )
