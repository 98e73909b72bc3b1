"""The tables `SqliteStore` creates itself (its parts add theirs: `sqlite_blocks`, `sqlite_head`,
`sqlite_fleet`, `sqlite_rollup_blocks`) and the schema version its migration brings a file to. Which
part reads and writes each table: `series` the catalogue and the writers (`sqlite_catalog`,
`sqlite_series`), `samples`/`host_pushes` ingest (`sqlite_ingest`), `rollups` the rollups
(`sqlite_rollups`), `keys`/`error_groups`/`error_hours`/`docs` the meta records (`sqlite_meta`). Must not
import boto3 nor `vigil.api`/`vigil.local`.
"""

from __future__ import annotations

SCHEMA_VERSION = 7  # PRAGMA user_version; `SqliteStore` upgrades an older file on open
SCHEMA = """
CREATE TABLE IF NOT EXISTS series (
  id INTEGER PRIMARY KEY, host TEXT NOT NULL, metric TEXT NOT NULL, labels TEXT NOT NULL,
  skey TEXT NOT NULL UNIQUE, first_seen REAL NOT NULL, last_seen REAL NOT NULL);
CREATE INDEX IF NOT EXISTS series_metric ON series(metric, host);
CREATE INDEX IF NOT EXISTS series_host ON series(host);
CREATE TABLE IF NOT EXISTS samples (
  series_id INTEGER NOT NULL, ts REAL NOT NULL, value REAL, hist TEXT,
  PRIMARY KEY (series_id, ts)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rollups (
  series_id INTEGER NOT NULL, res TEXT NOT NULL, start REAL NOT NULL, count INTEGER NOT NULL,
  sum REAL NOT NULL, min REAL, max REAL, hist INTEGER NOT NULL, body BLOB NOT NULL,
  PRIMARY KEY (series_id, res, start)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS host_pushes (
  host TEXT PRIMARY KEY, last_push REAL NOT NULL, gaps TEXT NOT NULL, declared REAL, seen REAL);
CREATE TABLE IF NOT EXISTS keys (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, secret_hash TEXT NOT NULL UNIQUE,
  created_at REAL NOT NULL, revoked INTEGER NOT NULL DEFAULT 0, last_used_at REAL);
CREATE TABLE IF NOT EXISTS error_groups (
  fingerprint TEXT PRIMARY KEY, type TEXT NOT NULL, message TEXT NOT NULL, service TEXT,
  count INTEGER NOT NULL, first_seen REAL NOT NULL, last_seen REAL NOT NULL, sample_stack TEXT,
  last_host TEXT, last_trace_id TEXT);
CREATE INDEX IF NOT EXISTS error_groups_last ON error_groups(last_seen);
CREATE TABLE IF NOT EXISTS error_hours (
  fingerprint TEXT NOT NULL, hour INTEGER NOT NULL, count INTEGER NOT NULL,
  PRIMARY KEY (fingerprint, hour)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS docs (
  kind TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, version INTEGER NOT NULL,
  PRIMARY KEY (kind, id));
"""
