"""First-start chores of local mode: the local agent's ingest key (kept in the data dir, mode 0600)."""

from __future__ import annotations

from vigil.adapters.private_files import read_private, write_private
from vigil.api.auth import hash_secret
from vigil.domain.models import KeyCreate
from vigil.services.keys import create_key
from vigil.wiring import AppContext


def local_agent_key(ctx: AppContext) -> str:
    """The ingest key the built-in agent uses; re-created if missing or revoked."""
    path = ctx.config.data_dir / "agent-key"
    if path.exists():
        secret = read_private(path).strip()
        record = ctx.store.find_key(hash_secret(secret))
        if record is not None and not record.revoked:
            return secret
    created = create_key(ctx.store, KeyCreate(name="local agent"), ctx.clock.now())
    write_private(path, created.key + "\n")
    return created.key
