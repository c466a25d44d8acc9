from django.urls import path
from django.views.generic import RedirectView

from . import views

app_name = "workflow"

urlpatterns = [
    path("workflow/", RedirectView.as_view(url="/workflow/tasks/", permanent=False)),
    path("workflow/definitions/", views.definition_list, name="definitions"),
    path("workflow/definitions/<slug:key>/", RedirectView.as_view(pattern_name="workflow:diagram", query_string=True)),
    path("workflow/definitions/<slug:key>/diagram/", views.definition_diagram, name="diagram"),
    path("workflow/instances/", views.instance_list, name="instances"),
    path("workflow/instances/<int:pk>/", views.instance_detail, name="instance"),
    path("workflow/tasks/", views.my_tasks, name="tasks"),
    path("workflow/tasks/<int:pk>/claim/", views.task_claim, name="task_claim"),
    path("workflow/tasks/<int:pk>/unclaim/", views.task_unclaim, name="task_unclaim"),
    path("workflow/tasks/<int:pk>/complete/", views.task_complete, name="task_complete"),
    path("workflow/tasks/<int:pk>/opinion/", views.task_opinion, name="task_opinion"),
    path("workflow/tasks/<int:pk>/clock/", views.task_clock, name="task_clock"),
]
