"""Documents: downloads of notices, material files and authorisation letters (files live outside the web root;
every download checks access), and the public verification of notices (告知文书真伪查验)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect

from tongban.core.auth import AuthedRequest
from tongban.core.models import Role
from tongban.core.selectors import has_role

from .. import files, selectors
from ..documents import mask_name
from ..models import ProxyAuthorisation
from .common import app_or_404, forbidden, page


def _file_response(stored: Any, filename: str, *, inline: bool) -> FileResponse:
    response = FileResponse(files.open_file(stored), content_type=stored.content_type, as_attachment=not inline,
                            filename=filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def notice_pdf(request: AuthedRequest, ref: str, code: str) -> HttpResponse | FileResponse:
    app = app_or_404(ref)
    if not selectors.can_view(request.user, app):
        return forbidden(request, "您无权下载该文书")
    notice = app.notices.select_related("file").filter(code=code).first()
    if notice is None:
        raise Http404("文书不存在")
    return _file_response(notice.file, f"{app.ref}-{notice.get_kind_display()}.pdf", inline=True)


@login_required
def material_file(request: AuthedRequest, ref: str, pk: int) -> HttpResponse | FileResponse:
    app = app_or_404(ref)
    if not selectors.can_view(request.user, app):
        return forbidden(request, "您无权查看该材料")
    row = app.materials.select_related("file").filter(pk=pk, file__isnull=False).first()
    if row is None or row.file is None:
        raise Http404("材料文件不存在")
    return _file_response(row.file, row.file.original_name or f"{row.name}", inline=True)


@login_required
def proxy_letter(request: AuthedRequest, pk: int) -> HttpResponse | FileResponse:
    proxy = get_object_or_404(ProxyAuthorisation.objects.select_related("document"), pk=pk, document__isnull=False)
    user = request.user
    allowed = (user.pk in {proxy.agent_id, proxy.principal_id} or user.is_superuser
               or has_role(user, Role.WINDOW_CLERK)
               or (user.id_number and user.id_number == proxy.principal_id_number))
    if not allowed:
        return forbidden(request, "您无权查看该授权委托书")
    document = proxy.document
    if document is None:
        raise Http404("授权委托书不存在")
    return _file_response(document, document.original_name or "授权委托书", inline=True)


def verify_notice(request: HttpRequest, code: str = "") -> HttpResponse:
    """Public: is this notice genuine? Shows the masked applicant name only."""
    code = (code or request.GET.get("code") or "").strip()
    notice = selectors.verify_notice(code) if code else None
    if code and request.GET.get("code") and notice is not None:
        return redirect("applications:verify_notice", code=notice.code)
    context = {"code": code, "notice": notice,
               "masked_name": mask_name(notice.application.applicant_name) if notice else ""}
    response = page(request, "verify.html", context, status=404 if code and notice is None else 200)
    response["Cache-Control"] = "no-store"
    return response
