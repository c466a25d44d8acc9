"""Test helpers shared by the contexts' HTTP-level tests: an API client signed in with a bearer token."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tongban.core.demo import DEMO_PASSWORD

PDF = b"%PDF-1.4\n% test material\n"


class Api:
    """A JSON API client for one demo account (``Authorization: Bearer <token>``)."""

    def __init__(self, username: str, password: str = DEMO_PASSWORD) -> None:
        self.client = Client()
        r = self.client.post("/api/auth/token", {"username": username, "password": password},
                             content_type="application/json")
        assert r.status_code == 200, r.content
        self.headers = {"Authorization": f"Bearer {r.json()['token']}"}

    def get(self, path: str, **kw: Any):
        return self.client.get(path, headers=self.headers, **kw)

    def post(self, path: str, data: Any = None, **kw: Any):
        return self.client.post(path, data or {}, content_type="application/json", headers=self.headers, **kw)

    def upload(self, path: str, content: bytes = PDF, name: str = "m.pdf", **fields: Any):
        return self.client.post(path, {"file": SimpleUploadedFile(name, content, "application/pdf"), **fields},
                                headers=self.headers)


def ok(response: Any, status: int = 200) -> Any:
    """The JSON body of a response that must have ``status`` (the body is shown when it has not)."""
    assert response.status_code == status, response.content.decode()
    return response.json()
