from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "tongban.supervision"
    label = "supervision"
    verbose_name = "事中事后监管 supervision"

    def ready(self) -> None:
        from tongban.core import credit_gate, events, subject_facts

        from . import jobs, receivers  # noqa: F401 - jobs registers the periodic check

        events.decision_made.connect(receivers.on_decision_made, dispatch_uid="supervision.record_on_decision")
        events.commitment_approved.connect(receivers.on_commitment_approved,
                                           dispatch_uid="supervision.post_check_on_commitment")
        credit_gate.COMMITMENT_GATES.register("supervision.credit_grade", receivers.commitment_refusal)
        subject_facts.PROVIDERS.register("credit_grade", receivers.credit_grade)
