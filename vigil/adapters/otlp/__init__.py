"""OpenTelemetry (OTLP/HTTP) ingest: wire decoding (`decode`), metrics → points (`metrics`), spans →
trace records, derived application metrics and error events (`traces`). Mapping lives here, not in
`vigil.domain`, because it reads the decoded protobuf messages; the pure parts it relies on (delta
conversion, error fingerprints, trace records) are in the domain. Must not import `vigil.api`."""
