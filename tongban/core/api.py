"""Core API: sign in for API clients, and who am I."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from .auth import API_AUTH, AuthedRequest, issue_token, login, max_age
from .masking import mask_id
from .models import RoleAssignment
from .openapi import ErrorOut, public

router = Router(tags=["auth 认证"])


class TokenIn(Schema):
    username: str
    password: str


class TokenOut(Schema):
    token: str
    token_type: str = "Bearer"
    expires_in: int



class RoleOut(Schema):
    role: str
    organisation: str
    organisation_name: str


class MeOut(Schema):
    username: str
    name: str
    kind: str
    id_number_masked: str
    organisation: str | None
    roles: list[RoleOut]


@router.post("/auth/token", response={200: TokenOut, 401: ErrorOut, 429: ErrorOut}, auth=None)
@public
def token(request: HttpRequest, payload: TokenIn):
    """Exchange a username and password for a bearer token (``Authorization: Bearer <token>``).

    Too many failed attempts lock the account or the client's address for a while: 429 ``auth.locked``."""
    user = login(request, payload.username, payload.password)
    if user is None:
        return 401, {"code": "auth.invalid_credentials", "message": "用户名或密码不正确"}
    return 200, {"token": issue_token(user), "expires_in": max_age()}


@router.get("/me", response=MeOut, auth=API_AUTH)
def me(request: AuthedRequest):
    user = request.user
    roles = RoleAssignment.objects.filter(user=user).select_related("role", "organisation")
    return {
        "username": user.username, "name": str(user), "kind": user.kind,
        "id_number_masked": mask_id(user.id_number),
        "organisation": user.organisation.code if user.organisation else None,
        "roles": [{"role": r.role.code, "organisation": r.organisation.code,
                   "organisation_name": r.organisation.name} for r in roles],
    }
