"""Process bindings (流程绑定): the one way another context drives processes of its own.

A context that runs its cases on the engine ships BPMN files and names the process keys it starts; it keeps one
``ProcessBinding`` for them and calls, instead of writing the steps by hand::

    REVIEW = services.ProcessBinding([PROCESS_DIR / "review.bpmn"], ["my_review"])

    instance = REVIEW.start("my_review", business_key=case.ref, variables={...})   # deploys first if needed
    task = REVIEW.open_task(instance.pk, "owner_review")                            # the open task, or None
    REVIEW.complete(task, actor, "approve", opinion=note)                          # the context checked the actor

``ensure_deployed`` (run by ``start``) deploys a file when one of its processes is not deployed or its deployed
latest version came from other content (the file on disk changed: a new version; running instances keep
theirs). The check costs one query and is repeated at most every ``lookups.LATEST_SECONDS`` seconds, or at once
after a deploy in this process.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tongban.core.models import User

from .. import lookups
from ..bpmn import parse_bpmn
from ..config import OPEN_TASK_STATES
from ..errors import WorkflowError
from ..models import ProcessDefinition, ProcessInstance, Task
from .deploy import _checksum, _read_definition_file, deploy
from .runtime import complete, start

_KEYS_OF: dict[str, tuple[str, ...]] = {}  # file content digest -> the process keys it defines (parsed once)


class ProcessBinding:
    """The BPMN ``files`` a context ships and the process ``keys`` it starts (see the module docstring)."""

    def __init__(self, files: Path | str | Iterable[Path | str], keys: str | Iterable[str]) -> None:
        paths = [files] if isinstance(files, (str, Path)) else list(files)
        self.files: tuple[Path, ...] = tuple(Path(p) for p in paths)
        self.keys: tuple[str, ...] = (keys,) if isinstance(keys, str) else tuple(keys)
        if not self.files or not self.keys:
            raise ValueError("a process binding needs at least one file and one process key")
        self._checked: tuple[float, int] | None = None  # (monotonic time, definition generation) of the last check

    def __repr__(self) -> str:
        return f"ProcessBinding({[p.name for p in self.files]}, {list(self.keys)})"

    # -- deployment --------------------------------------------------------------------------------------------
    def _contents(self) -> list[tuple[Path, bytes, tuple[str, ...]]]:
        out = []
        for path in self.files:
            data, _ = _read_definition_file(path)
            digest = hashlib.sha256(data).hexdigest()
            keys = _KEYS_OF.get(digest)
            if keys is None:
                keys = _KEYS_OF[digest] = tuple(p.key for p in parse_bpmn(data, str(path)).processes)
            out.append((path, data, keys))
        found = {k for _, _, keys in out for k in keys}
        missing = [k for k in self.keys if k not in found]
        if missing:
            raise WorkflowError(f"流程文件中没有流程 {', '.join(missing)}（process not in the bound files）",
                                code="workflow.binding_process_missing", status=500,
                                detail={"keys": missing, "files": [p.name for p in self.files]})
        return out

    def ensure_deployed(self, actor: User | None = None) -> list[ProcessDefinition]:
        """Deploy the files whose processes are not deployed or whose deployed latest version differs from the
        file on disk. Returns the definitions this call created (usually none)."""
        checked = self._checked
        if (checked is not None and checked[1] == lookups.DEFINITION_GENERATION[0]
                and time.monotonic() - checked[0] < lookups.LATEST_SECONDS):
            return []
        contents = self._contents()
        keys = sorted({k for _, _, ks in contents for k in ks})
        latest: dict[str, str] = {}
        for key, checksum in (ProcessDefinition.objects.filter(key__in=keys).order_by("key", "-version")
                              .values_list("key", "checksum")):
            latest.setdefault(key, checksum)
        created: list[ProcessDefinition] = []
        for path, data, file_keys in contents:
            if any(latest.get(k) != _checksum(k, data) for k in file_keys):
                created += [d for d in deploy(data, str(path), actor) if getattr(d, "created", False)]
        self._checked = (time.monotonic(), lookups.DEFINITION_GENERATION[0])
        return created

    def deploy(self, actor: User | None = None) -> list[ProcessDefinition]:
        """Deploy every file now (an unchanged process keeps its version); every process's latest definition."""
        out: list[ProcessDefinition] = []
        for path in self.files:
            out += deploy(*_read_definition_file(path), actor)
        self._checked = None
        return out

    # -- running -----------------------------------------------------------------------------------------------
    def start(self, key: str, business_key: str = "", variables: dict[str, Any] | None = None,
              actor: User | None = None, **clock: int | None) -> ProcessInstance:
        """Start the latest version of one of the bound processes (deployed first when needed); ``clock`` takes
        ``limit_days`` / ``statutory_limit_days`` as ``services.start``."""
        if key not in self.keys:
            raise WorkflowError(f"流程 {key} 不属于此绑定（process not bound: {self!r}）",
                                code="workflow.binding_unknown_process", status=500, detail={"key": key})
        self.ensure_deployed()
        return start(key, business_key, variables, actor, **clock)

    @staticmethod
    def open_task(instance: ProcessInstance | int | str | None, element_id: str) -> Task | None:
        """The open (or claimed) task at ``element_id`` of an instance; None when there is none (or no instance:
        ``instance`` may be an id stored as text, or empty)."""
        if instance is None or instance == "":
            return None
        pk = instance.pk if isinstance(instance, ProcessInstance) else int(instance)
        return (Task.objects.filter(instance_id=pk, element_id=element_id, state__in=OPEN_TASK_STATES)
                .order_by("pk").first())

    @staticmethod
    def complete(task: Task | int, actor: User | None, outcome: str | None = None, *, opinion: str = "",
                 variables: dict[str, Any] | None = None) -> Task:
        """Complete a task on the context's behalf: the context has already decided that ``actor`` may (its own
        rules: a grant's owner, the applicant of a case), so the candidate check is not repeated. The outcome
        must still be one the task declares."""
        return complete(task, actor, outcome, variables, opinion, check_permissions=False)
