"""Custom import-linter contracts of tongban (development only; not part of the installed package)."""
