"""The one plug-in registry class of tongban.

A :class:`Registry` maps a key to a plug-in (a function, a class, an object). Registering a key twice with a
different value is refused (:class:`DuplicateRegistration`), so two plug-ins can never silently shadow each
other; replacing one on purpose says so with ``replace=True``. Tests create a fresh registry, or work on a
copy of a shared one with :meth:`Registry.isolated`::

    HANDLERS: Registry[str, Handler] = Registry("服务任务处理程序")

    @HANDLERS.decorator("applications.notify")
    def notify(ctx): ...

    with HANDLERS.isolated():
        HANDLERS.register("test.only", fake)   # gone again after the block
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class DuplicateRegistration(ValueError):
    """A key was registered twice with different values."""


class NotRegistered(LookupError):
    """No plug-in is registered under the key."""


class Registry(Generic[K, V]):
    def __init__(self, name: str) -> None:
        self.name = name
        self._entries: dict[K, V] = {}

    def register(self, key: K, value: V, *, replace: bool = False) -> V:
        """Register ``value`` under ``key``; the same value again is a no-op, another one is refused."""
        current = self._entries.get(key)
        if current is not None and current is not value and not replace:
            raise DuplicateRegistration(f"{self.name}: '{key}' is already registered ({current!r})")
        self._entries[key] = value
        return value

    def decorator(self, key: K, *, replace: bool = False) -> Callable[[V], V]:
        """``@registry.decorator(key)`` registers the decorated function or class."""

        def register(value: V) -> V:
            return self.register(key, value, replace=replace)

        return register

    def unregister(self, key: K) -> None:
        self._entries.pop(key, None)

    def get(self, key: K) -> V:
        try:
            return self._entries[key]
        except KeyError:
            raise NotRegistered(f"{self.name}: nothing registered under '{key}'") from None

    def find(self, key: K) -> V | None:
        return self._entries.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __iter__(self) -> Iterator[K]:
        return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def keys(self) -> list[K]:
        return list(self._entries)

    def items(self) -> list[tuple[K, V]]:
        return list(self._entries.items())

    def values(self) -> list[V]:
        return list(self._entries.values())

    def clear(self) -> None:
        self._entries.clear()

    @contextmanager
    def isolated(self) -> Iterator[Registry[K, V]]:
        """Within the block, registrations are made on a copy; the entries before it come back afterwards."""
        saved = dict(self._entries)
        try:
            yield self
        finally:
            self._entries = saved

    def __repr__(self) -> str:
        return f"<Registry {self.name}: {len(self._entries)} entries>"
