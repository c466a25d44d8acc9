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
