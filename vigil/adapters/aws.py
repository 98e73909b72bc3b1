"""AWS clients for the adapters: one botocore session per process, each client built when first used.

botocore's own session rather than `boto3.client`: boto3 adds resources and S3 transfer helpers that
Vigil never uses, and importing it costs every Lambda cold start ~20 ms more (`boto3.compat` imports
s3transfer, which imports multiprocessing and concurrent.futures). The behaviour is boto3's default
session's: one session per process (region, `AWS_ENDPOINT_URL` and credentials from the environment,
credentials resolved once and refreshed by botocore), clients made from it are thread-safe; making
them is not, hence the lock. The session reads botocore's data through `vigil.adapters.aws_models`
(the layer's marshal copies). Imports botocore lazily (only when a client is made).
Must not import `vigil.api` or `vigil.local`.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the real imports are lazy: a module importing this one pays nothing for botocore
    from botocore.client import BaseClient
    from botocore.session import Session

_session: Session | None = None
_lock = threading.Lock()


def session() -> Session:
    """The process's botocore session (what `boto3.client` uses under the hood)."""
    global _session
    with _lock:
        if _session is None:
            from vigil import lean_urllib3

            lean_urllib3.install()  # before botocore imports urllib3: no `importlib.metadata`
            import botocore.session

            from vigil.adapters.aws_models import data_loader

            made = botocore.session.get_session()
            # the layer's marshal copies of the service data (`aws_models`): cheaper clients
            made.register_component("data_loader", data_loader(made))
            _session = made
        return _session


def forget_session() -> None:
    """Drop the process's session: the next client is made from a new one. For tests: moto hooks into
    sessions made after it was imported, so a session made earlier in a test process would send later
    tests' calls to AWS itself."""
    global _session
    with _lock:
        _session = None


def client(
    service: str,
    *,
    retry_mode: str | None = None,
    max_attempts: int | None = None,
    max_pool_connections: int | None = None,
) -> BaseClient:
    """A low-level client for `service` (`dynamodb`, `sns`, ...); `retry_mode`/`max_attempts` as in
    botocore's `Config(retries=...)`, `max_pool_connections` as in `Config` (botocore's defaults
    when omitted)."""
    shared = session()  # first: it imports botocore (and urllib3) the lean way
    from botocore.config import Config

    retries: dict[str, Any] = {}
    if retry_mode is not None:
        retries["mode"] = retry_mode
    if max_attempts is not None:
        retries["max_attempts"] = max_attempts
    options: dict[str, Any] = {"retries": retries} if retries else {}
    if max_pool_connections is not None:
        options["max_pool_connections"] = max_pool_connections
    config = Config(**options) if options else None
    with _lock:  # botocore sessions are not safe to build clients from on two threads at once
        made: BaseClient = shared.create_client(service, config=config)
    return made


def credentials_available() -> bool:
    """Whether the environment gives AWS credentials (local mode may have none)."""
    return session().get_credentials() is not None
