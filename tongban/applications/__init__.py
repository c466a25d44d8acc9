"""tongban.applications: bounded context (see docs/architecture.md). Not yet installed."""
