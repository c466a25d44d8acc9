from django.apps import AppConfig


class PoliciesConfig(AppConfig):
    name = "tongban.policies"
    label = "policies"
    verbose_name = "免申即享 policies"

    def ready(self) -> None:
        from tongban.core import events

        from . import receivers, tasks  # noqa: F401  (tasks registers the nightly batch)

        events.decision_made.connect(receivers.on_decision_made, dispatch_uid="policies.match_on_decision")
        events.entity_graded.connect(receivers.on_entity_graded, dispatch_uid="policies.match_on_grade")
