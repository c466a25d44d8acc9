"""The bounded contexts that are installed, in dependency order (later may import earlier)."""

BOUNDED_CONTEXTS: list[str] = [
    "core",
    "catalog",
    "workflow",
    "applications",
    "exchange",
    "credentials",
    "supervision",
    "feedback",
    "insight",
]
