"""Pages of a person's messages (我的消息) and their choice of channels (消息接收设置); any signed-in user, their
own messages only (another person's message is not found)."""

from __future__ import annotations

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from tongban.core.auth import AuthedRequest

from . import channels, selectors, services
from .errors import NotificationError
from .messages import TEMPLATES


@login_required
def inbox(request: AuthedRequest) -> HttpResponse:
    unread_only = request.GET.get("unread") == "1"
    page = Paginator(selectors.messages_for(request.user, unread_only=unread_only), 30).get_page(request.GET.get("page"))
    labels = {key: t.label for key, t in TEMPLATES.items()}
    return render(request, "notifications/inbox.html", {
        "page": page, "rows": [(m, labels.get(m.event, "通知")) for m in page], "unread_only": unread_only,
        "unread": selectors.unread_count(request.user)})


@login_required
def message_detail(request: AuthedRequest, message_id: int) -> HttpResponse:
    message = selectors.message_for(request.user, message_id)
    if message is None:
        raise Http404("消息不存在")
    services.mark_read(request.user, message)
    labels = {c.key: c.label for c in channels.CHANNELS.values()}
    return render(request, "notifications/message.html", {
        "message": message, "label": getattr(TEMPLATES.find(message.event), "label", ""),
        "deliveries": [(labels.get(d.channel, d.channel), d) for d in message.deliveries.all()]})


@login_required
@require_POST
def read_all(request: AuthedRequest) -> HttpResponse:
    count = services.mark_all_read(request.user)
    flash.success(request, f"已将 {count} 条消息标记为已读")
    return redirect("notifications:inbox")


@login_required
def preferences(request: AuthedRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST":
        try:
            services.set_channels(user, request.POST.getlist("channels"), email=request.POST.get("email"),
                                  phone=request.POST.get("phone"))
        except NotificationError as exc:
            flash.error(request, exc.message)
        else:
            flash.success(request, "消息接收设置已保存")
            return redirect("notifications:preferences")
    chosen = set(selectors.chosen_channels(user))
    return render(request, "notifications/preferences.html", {
        "channels": [(c.key, c.label, c.key in chosen) for c in channels.optional_channels()],
        "email": user.email, "phone": user.phone,
        "events": [t.label for t in TEMPLATES.values()]})
