"""HTML pages: public verification (what the QR code opens), the licence wallet, and issuer management."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from . import selectors, services, verification
from .errors import CredentialError, NotFound

MAX_UPLOAD = 20 * 1024 * 1024


def _verify_submission(request: HttpRequest) -> verification.VerificationResult | str:
    upload = request.FILES.get("file")
    token = (request.POST.get("vc") or "").strip()
    if upload is not None:
        if upload.size > MAX_UPLOAD:
            return "文件过大（最大 20 MB）"
        result = verification.verify_pdf(upload.read())
    elif token:
        result = verification.verify_vc(token)
    else:
        return "请选择 PDF 文件，或粘贴可验证凭证（JWS）"
    services.record_verification(result.credential_id, method=result.method, valid=result.valid, code=result.code,
                                 actor=request.user)
    return result


@require_http_methods(["GET", "POST"])
def verify_page(request: HttpRequest, credential_id: str | None = None) -> HttpResponse:
    """Public: a credential's validity and status without personal data, and a form to verify a PDF or VC."""
    credential = None
    if credential_id is not None:
        try:
            credential = selectors.public_view(selectors.get_credential(credential_id))
        except NotFound:
            raise Http404("证照不存在") from None
    result = error = None
    if request.method == "POST":
        outcome = _verify_submission(request)
        if isinstance(outcome, str):
            error = outcome
        else:
            result = outcome
    response = render(request, "credentials/verify.html", {"credential": credential, "result": result,
                                                           "error": error})
    response["Cache-Control"] = "no-store"
    return response


@login_required
def wallet_page(request: HttpRequest) -> HttpResponse:
    """The holder's licence wallet (证照夹)."""
    items = [{"credential": c, "view": selectors.public_view(c), "token": services.download_token(c)}
             for c in selectors.credentials_for_holder(request.user)]
    return render(request, "credentials/wallet.html", {"items": items,
                                                       "has_id_number": bool(request.user.id_number)})


@login_required
def manage_page(request: HttpRequest) -> HttpResponse:
    """Issuer staff: the credentials their organisation issued, with suspend / reinstate / revoke."""
    credentials = selectors.credentials_issued_for_staff(request.user)
    if not request.user.is_superuser and not credentials.exists() and request.user.kind != "staff":
        return HttpResponseForbidden("仅发证机关工作人员可访问")
    status = request.GET.get("status", "")
    if status:
        credentials = credentials.filter(status=status)
    return render(request, "credentials/manage.html", {"credentials": credentials[:200], "status": status})


@login_required
@require_POST
def change_status_view(request: HttpRequest, credential_id: str) -> HttpResponse:
    try:
        credential = selectors.get_credential(credential_id)
    except NotFound:
        raise Http404("证照不存在") from None
    if not selectors.is_issuer_staff(request.user, credential.issuer):
        return HttpResponseForbidden("只有发证机关的工作人员可以变更证照状态")
    try:
        services.change_status(credential.id, request.POST.get("action", ""), reason=request.POST.get("reason", ""),
                               actor=request.user)
        messages.success(request, f"已更新 {credential.licence_number} 的状态")
    except CredentialError as exc:
        messages.error(request, exc.message)
    return redirect("credentials:manage")
