"""Runs one Vigil function the way Lambda would, for tests/infra/test_deployed_functions.py: a fresh
interpreter, the function's folder as the code root, the template's environment (set by the caller),
AWS on moto's loopback server (AWS_ENDPOINT_URL), one `handler(event, context)` call per step.

Every AWS API call the function makes is recorded through botocore (service, operation, the parameters
IAM decides on) so the caller can check it against the function's role in the synthesized template.

    python lambda_runner.py <function dir> <steps.json> <out.json>

A step is `{"event": {...}, "save": {"name": "body field"}}`; strings in later events may use
`{{name}}` to refer to a saved value (e.g. an ingest key the API minted a step earlier). What each step
wrote to standard output (file descriptor 1, where Lambda collects a function's logs) is kept with its
result as `stdout`.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RECORDED_PARAMS = (
    "TableName",
    "IndexName",
    "TopicArn",
    "TargetArn",
    "PhoneNumber",
    "SubscriptionArn",
    "KeyId",
    "EncryptionContext",
    "QueueUrl",
    "Namespace",
    "Bucket",
    "Key",
)


def _tables_of(operation: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    """(IAM action, table) pairs of the batch and transaction calls IAM authorises item by item."""
    if operation in ("BatchWriteItem", "BatchGetItem"):
        return [(operation, table) for table in params.get("RequestItems", {})]
    if operation in ("TransactWriteItems", "TransactGetItems"):
        verbs = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem"}
        verbs |= {"ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
        return [
            (verbs[kind], op["TableName"]) for item in params["TransactItems"] for kind, op in item.items()
        ]
    return []


def _install_recorder(calls: list[dict[str, Any]]) -> None:
    from botocore.client import BaseClient

    original = BaseClient._make_api_call

    def recording(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        model = self.meta.service_model
        kept = {k: params[k] for k in RECORDED_PARAMS if k in params}
        calls.append(
            {
                "prefix": model.signing_name,
                "operation": operation,
                "params": kept,
                "items": _tables_of(operation, params),
            }
        )
        return original(self, operation, params)

    BaseClient._make_api_call = recording  # type: ignore[method-assign]


class LambdaContext:
    function_name = "vigil-test"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:vigil-test"

    def __init__(self, timeout_s: float = 30.0) -> None:
        self.aws_request_id = f"req-{time.time_ns()}"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


def _fill(value: Any, saved: dict[str, str]) -> Any:
    if isinstance(value, str):
        for name, text in saved.items():
            value = value.replace("{{" + name + "}}", text)
        return value
    if isinstance(value, dict):
        return {k: _fill(v, saved) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, saved) for v in value]
    return value


def _with_stdout(call: Callable[[], Any]) -> tuple[Any, str]:
    """`call()` with file descriptor 1 sent to a file (the Logger's handler holds `sys.stdout` itself,
    so only a descriptor-level swap catches every line), and what it wrote."""
    sys.stdout.flush()
    saved = os.dup(1)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 1)
        try:
            result = call()
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
        tmp.seek(0)
        return result, tmp.read().decode("utf-8", "replace")


def main(function_dir: str, steps_path: str, out_path: str) -> None:
    calls: list[dict[str, Any]] = []
    _install_recorder(calls)
    sys.path.insert(0, function_dir)
    started = time.perf_counter()
    spec = importlib.util.spec_from_file_location("handler", Path(function_dir) / "handler.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    import_ms = (time.perf_counter() - started) * 1000
    saved: dict[str, str] = {}
    results: list[dict[str, Any]] = []
    for step in json.loads(Path(steps_path).read_text()):
        event = _fill(step["event"], saved)
        try:
            response, stdout = _with_stdout(lambda event=event: module.handler(event, LambdaContext()))
        except Exception as exc:  # the caller asserts on it (notify raises for Lambda's retry)
            results.append({"error": f"{type(exc).__name__}: {exc}"})
            continue
        results.append({"response": response, "stdout": stdout})
        body = response.get("body") if isinstance(response, dict) else None
        if step.get("save") and body:
            text = base64.b64decode(body).decode() if response.get("isBase64Encoded") else body
            doc = json.loads(text)
            saved.update({name: str(doc[field]) for name, field in step["save"].items()})
    modules = sorted(sys.modules)  # what the handler and its invocations loaded (the recorder: botocore)
    out = {"import_ms": import_ms, "results": results, "calls": calls, "modules": modules}
    Path(out_path).write_text(json.dumps(out))


if __name__ == "__main__":
    main(*sys.argv[1:4])
