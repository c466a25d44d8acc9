"""Object-level permission predicates (django-rules), scoped to organisations."""

from __future__ import annotations

import rules

from .models import Role
from .selectors import has_role


@rules.predicate
def is_administrator(user) -> bool:
    return has_role(user, Role.ADMINISTRATOR)


@rules.predicate
def is_org_administrator(user, organisation) -> bool:
    return organisation is not None and has_role(user, Role.ADMINISTRATOR, organisation)


rules.add_perm("core.manage_organisation", is_org_administrator)
