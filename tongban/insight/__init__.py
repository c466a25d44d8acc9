"""tongban.insight: bounded context (see docs/architecture.md). Not yet installed."""
