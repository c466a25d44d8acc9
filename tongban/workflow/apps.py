from django.apps import AppConfig


class WorkflowConfig(AppConfig):
    name = "tongban.workflow"
    label = "workflow"
    verbose_name = "流程引擎 workflow"

    def ready(self) -> None:
        from django.core.signals import setting_changed
        from django.db.models.signals import post_delete, post_save

        from tongban.core.models import CalendarDay, Division, Organisation, Role, RoleAssignment

        from . import config, lookups
        from .models import DecisionDefinition, ProcessDefinition

        # The engine caches parsed definitions, organisation codes and working-day calendars in process; any
        # change to their source rows drops the affected cache.
        for model, clear in ((ProcessDefinition, lookups.clear_definition_caches),
                             (DecisionDefinition, lookups.clear_definition_caches),
                             (Organisation, lookups.clear_organisation_cache),
                             (Division, lookups.clear_calendar_cache),
                             (CalendarDay, lookups.clear_calendar_cache),
                             (RoleAssignment, lookups.bump_role_generation),
                             (Role, lookups.bump_role_generation)):
            for signal in (post_save, post_delete):
                signal.connect(clear, sender=model, weak=False, dispatch_uid=f"workflow-cache-{model.__name__}-{id(signal)}")
        setting_changed.connect(config.clear_setting_cache, weak=False, dispatch_uid="workflow-settings")
        _install_labels()


OUTCOMES = {"approve": "同意", "reject": "不同意", "return": "退回补正", "accept": "受理", "refuse": "不予受理",
            "site_check": "现场核查", "hearing": "告知听证", "no_hearing": "不听证", "confirm": "确认",
            "dismiss": "驳回", "contained": "已处置", "done": "办结", "close": "结案", "corrected": "已补正",
            "withdrawn": "已撤回", "pass": "通过", "fail": "不通过"}
LIGHTS = {"red": "红灯", "yellow": "黄灯", "green": "绿灯"}


def _element_names() -> dict[str, str]:
    """Element id → name over the deployed definitions (the first name wins): steps named as the process names them."""
    from .models import ProcessDefinition

    names: dict[str, str] = {}
    for graph in ProcessDefinition.objects.values_list("graph", flat=True):
        for eid, node in ((graph or {}).get("elements") or {}).items():
            if isinstance(node, dict) and node.get("name"):
                names.setdefault(eid, node["name"])
    return names


def _process_names() -> dict[str, str]:
    from .models import ProcessDefinition

    return dict(ProcessDefinition.objects.order_by("version").values_list("key", "name"))


def _install_labels() -> None:
    """Outcomes, steps, processes and lights by their Chinese names (core.labels)."""
    from django.db.models.signals import post_save

    from tongban.core import labels

    from .models import ProcessDefinition

    labels.register("outcome", OUTCOMES)
    labels.register("light", LIGHTS)
    labels.cached("element", _element_names)
    labels.cached("process", _process_names)
    labels.register("outcome", lambda code: labels.name("element", code) if code != labels.name("element", code)
                    else None)
    post_save.connect(labels.clear_cache, sender=ProcessDefinition, dispatch_uid="labels.ProcessDefinition.save")
