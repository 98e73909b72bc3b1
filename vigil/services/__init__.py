"""Application services: use cases that combine the domain with the ports (no HTTP, no adapters)."""
