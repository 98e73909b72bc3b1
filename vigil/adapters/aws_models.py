"""How the process's botocore session reads its service data: the layer's marshal copies, else JSON.

Making a client reads the service's model, its endpoint rule set, `endpoints.json`, `partitions.json`
and the retry configuration, and botocore's own file loader parses each with
`json.loads(..., object_pairs_hook=OrderedDict)`: about 35 M instructions of the 60 M a DynamoDB
client costs each cold start. The Lambda layer ships every one of those files also as `<name>.marshal`
(`infra/aws_models.py`, written by the runtime's Python from the same JSON), which `marshal` reads in
a fraction of that: the DynamoDB client is ≈ 22 M instructions cheaper, each further client (KMS,
SNS) too. Where no marshal copy exists (local mode, tests: botocore's own data) or one does not load,
the JSON is read, into plain dicts (insertion-ordered like the `OrderedDict`s; botocore only reads
them).

`ModelFiles` is a botocore `Loader`'s `file_loader` (the `exists`/`load_file` pair of botocore's
`JSONFileLoader`, given as the `Loader`'s constructor argument); `data_loader` makes the `Loader` the
session would have made (the same search paths, `AWS_DATA_PATH` included).
`tests/infra/test_layer_aws_models.py` checks that every marshal copy in the layer holds what its
JSON holds. Standard library and botocore only.
"""

from __future__ import annotations

import gzip
import json
import marshal
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from botocore.loaders import Loader
    from botocore.session import Session

MARSHAL = ".marshal"  # the suffix `infra/aws_models.py` writes


class ModelFiles:
    """botocore's `JSONFileLoader` interface: `file_path` comes without its extension."""

    def exists(self, file_path: str) -> bool:
        return any(os.path.isfile(file_path + ext) for ext in (MARSHAL, ".json", ".json.gz"))

    def load_file(self, file_path: str) -> Any:
        """The parsed file, or None when there is none (as botocore's loader answers)."""
        try:
            with open(file_path + MARSHAL, "rb") as fp:
                return marshal.loads(fp.read())
        except (OSError, ValueError, EOFError, TypeError):
            pass  # no copy (botocore's own data), or one this Python cannot read: the JSON says the same
        for ext, opener in ((".json", open), (".json.gz", gzip.open)):
            try:
                with opener(file_path + ext, "rb") as fp:
                    return json.loads(fp.read().decode("utf-8"))
            except FileNotFoundError:
                continue
        return None


def data_loader(session: Session) -> Loader:
    """The `Loader` botocore's `create_loader` makes for `session` (its `data_path` setting, i.e.
    `AWS_DATA_PATH`, then botocore's data), reading through `ModelFiles`."""
    from botocore.loaders import Loader

    configured = session.get_config_variable("data_path")
    extra = [
        os.path.expanduser(os.path.expandvars(path)) for path in (configured or "").split(os.pathsep) if path
    ]
    return Loader(extra_search_paths=extra, file_loader=ModelFiles())
