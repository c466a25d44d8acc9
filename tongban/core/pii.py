"""Model fields that keep personal data encrypted at rest, and the keyed-hash lookups that find it again.

- :class:`EncryptedTextField`: a text column stored as ``pii1:<kid>:…`` (AES-256-GCM, :mod:`tongban.core.crypto`);
  Python code reads and writes plain ``str``. An empty value stays empty. Only ``isnull`` and ``exact`` with the
  empty string are allowed as lookups: anything else could never match ciphertext, so it raises instead of
  silently finding nothing.
- :class:`EncryptedJSONField`: the same for a JSON value (a dict or list), stored as encrypted JSON text.
- :class:`LookupHashField`: ``HMAC-SHA256(lookup key, normalised value)`` of another field of the same model, kept
  up to date on every ``save()`` (and ``bulk_create``); indexed for equality lookups.
- :func:`matching`: ``Q`` for "this encrypted field equals that value", e.g.
  ``User.objects.filter(pii.matching("id_number", "110101199003071234"))`` or across a relation
  ``pii.matching("applicant__id_number", value)``.

A hash field is named ``<field>_hash``. A ``QuerySet.update()`` or ``save(update_fields=[...])`` that changes an
encrypted field must also name its hash field (``save(update_fields=["id_number", "id_number_hash"])``).
"""

from __future__ import annotations

import json
import time
from typing import Any

from django import forms
from django.core.exceptions import FieldError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.db.models.lookups import Exact, IsNull

from . import crypto

HASH_SUFFIX = "_hash"


class _EmptyOnlyExact(Exact):
    """``field=""`` still works (empty values are stored empty); any other value must go through the hash."""

    def get_prep_lookup(self) -> Any:
        if self.rhs not in ("", None) and not hasattr(self.rhs, "resolve_expression"):
            raise FieldError(f"{self.lhs.target.name} is encrypted: look it up with tongban.core.pii.matching() "
                             "(its keyed hash), not by value")
        return super().get_prep_lookup()


class _EncryptedMixin:
    """Lookups allowed on encrypted columns."""

    encrypted_at_rest = True  # what tongban.core.store checks before its plain-text fast path

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "exact":
            return _EmptyOnlyExact
        if lookup_name == "isnull":
            return IsNull
        return None

    def get_transform(self, name: str) -> Any:
        return None


class EncryptedTextField(_EncryptedMixin, models.TextField):
    """Text encrypted at rest; reads and writes plain ``str``."""

    description = "Text encrypted at rest (AES-256-GCM)"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        return crypto.decrypt(value)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and crypto.is_encrypted(value):
            return crypto.decrypt(value)
        return super().to_python(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or hasattr(value, "resolve_expression"):
            return value
        value = str(value)
        return value if crypto.is_encrypted(value) else crypto.encrypt(value)

    def formfield(self, form_class: type[forms.Field] | None = None,
                  choices_form_class: type[forms.ChoiceField] | None = None, **kwargs: Any) -> forms.Field | None:
        # a one-line input, like the CharField it replaces
        return super().formfield(form_class=form_class, choices_form_class=choices_form_class,
                                 **{"widget": forms.TextInput, **kwargs})


class EncryptedJSONField(_EncryptedMixin, models.TextField):
    """A JSON value (dict, list, …) encrypted at rest as one JSON text."""

    # For django-stubs: the model attribute holds the decoded JSON value, not the str of a TextField.
    _pyi_private_set_type: Any
    _pyi_private_get_type: Any

    description = "JSON encrypted at rest (AES-256-GCM)"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        return self._loads(crypto.decrypt(value))

    @staticmethod
    def _loads(text: Any) -> Any:
        if not isinstance(text, str):
            return text  # a driver that already decoded a JSON column (before the migration altered it)
        if text == "":
            return None
        return json.loads(text)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            return self._loads(crypto.decrypt(value))
        return value

    def get_prep_value(self, value: Any) -> Any:
        if value is None or hasattr(value, "resolve_expression"):
            return value
        if isinstance(value, str) and crypto.is_encrypted(value):
            return value
        return crypto.encrypt(json.dumps(value, ensure_ascii=False, cls=DjangoJSONEncoder, sort_keys=True))

    def value_to_string(self, obj: models.Model) -> str:
        return json.dumps(self.value_from_object(obj), ensure_ascii=False, cls=DjangoJSONEncoder)

    def formfield(self, form_class: type[forms.Field] | None = None,
                  choices_form_class: type[forms.ChoiceField] | None = None, **kwargs: Any) -> forms.Field | None:
        return (form_class or forms.JSONField)(**{"encoder": DjangoJSONEncoder, "required": not self.blank, **kwargs})


class LookupHashField(models.CharField):
    """The keyed hash of ``source`` (another field of the model), recomputed on every save."""

    description = "Keyed hash (HMAC-SHA256) of a personal-data field, for equality lookups"

    def __init__(self, *args: Any, source: str = "", **kwargs: Any) -> None:
        self.source = source
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("db_index", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    _DEFAULTS = (("max_length", "max_length", 64), ("blank", "blank", True), ("editable", "editable", False),
                 ("db_index", "db_index", True), ("default", "default", ""))

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        for key, attr, default in self._DEFAULTS:  # only what differs from this field's own defaults
            value = getattr(self, attr)
            if value == default:
                kwargs.pop(key, None)
            else:
                kwargs[key] = value
        return name, path, args, kwargs

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        value = crypto.lookup_hash(str(getattr(model_instance, self.source) or ""))
        setattr(model_instance, self.attname, value)
        return value


def lookup_hash(value: str) -> str:
    return crypto.lookup_hash(value)


def matching(field_path: str, value: str) -> Q:
    """``Q`` matching rows whose encrypted ``field_path`` equals ``value`` (trimmed, case-insensitive), via its
    keyed hash. An empty value matches nothing (it does not mean "every row without a value")."""
    digest = crypto.lookup_hash(value or "")
    if not digest:
        return Q(pk__in=[])
    return Q(**{f"{field_path}{HASH_SUFFIX}": digest})


# --- bulk work over every encrypted column: the data migrations, key rotation, status -----------------------


def encrypted_fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return [f for f in model._meta.concrete_fields if isinstance(f, (EncryptedTextField, EncryptedJSONField))]


def hash_fields(model: type[models.Model]) -> list[LookupHashField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, LookupHashField)]


def models_with_personal_data() -> list[type[models.Model]]:
    """Every installed model with an encrypted column (found by field type: nothing to register)."""
    from django.apps import apps

    return [m for m in apps.get_models() if encrypted_fields(m) and not m._meta.proxy]


def reencrypt(model: type[models.Model], *, batch: int = 500) -> int:
    """Rewrite every row's encrypted columns with the primary key and recompute its keyed hashes (values stored in
    clear are encrypted). Works on historical models in data migrations too. Returns the number of rows."""
    from django.db import transaction

    fields = encrypted_fields(model)
    hashes = hash_fields(model)
    if not fields:
        return 0
    names = [f.name for f in fields] + [h.name for h in hashes]
    manager = model._base_manager
    done, last = 0, None
    while True:
        with transaction.atomic():
            rows = manager.order_by("pk")
            if last is not None:
                rows = rows.filter(pk__gt=last)
            chunk = list(rows.select_for_update()[:batch])
            if not chunk:
                return done
            for row in chunk:
                for h in hashes:
                    setattr(row, h.attname, crypto.lookup_hash(str(getattr(row, h.source) or "")))
            manager.bulk_update(chunk, names)
        done += len(chunk)
        last = chunk[-1].pk


def decrypt_in_place(model: type[models.Model]) -> int:
    """Write every encrypted column back in clear (the reverse of the data migrations); returns the row count."""
    from django.db import connection

    fields = encrypted_fields(model)
    table = connection.ops.quote_name(model._meta.db_table)
    pk = connection.ops.quote_name(model._meta.pk.column)
    count = 0
    with connection.cursor() as cursor:
        for f in fields:
            column = connection.ops.quote_name(f.column)
            cursor.execute(f"SELECT {pk}, {column} FROM {table}")  # noqa: S608 (quoted identifiers)
            for key, raw in cursor.fetchall():
                if crypto.is_encrypted(raw):
                    cursor.execute(f"UPDATE {table} SET {column} = %s WHERE {pk} = %s",  # noqa: S608
                                   [crypto.decrypt(raw), key])
                    count += 1
    return count


def key_usage(model: type[models.Model]) -> dict[str, dict[str, int]]:
    """``{column: {key id or "clear" or "empty": rows}}`` read from the raw column values."""
    from django.db import connection

    table = connection.ops.quote_name(model._meta.db_table)
    out: dict[str, dict[str, int]] = {}
    with connection.cursor() as cursor:
        for f in encrypted_fields(model):
            cursor.execute(f"SELECT {connection.ops.quote_name(f.column)} FROM {table}")  # noqa: S608
            counts: dict[str, int] = {}
            for (raw,) in cursor.fetchall():
                kid = crypto.key_id(raw) if raw else None
                label = kid or ("empty" if raw in ("", None) else "clear")
                counts[label] = counts.get(label, 0) + 1
            out[f.column] = counts
    return out


def status() -> dict[str, dict[str, dict[str, int]]]:
    """``{table: {column: {key id | "clear" | "empty": rows}}}`` for every encrypted column."""
    return {m._meta.db_table: key_usage(m) for m in models_with_personal_data()}


def rotate(*, retire: bool = False) -> dict[str, Any]:
    """A new data key becomes primary and every row is re-encrypted with it; with ``retire`` the old keys are
    dropped afterwards, but only once no row needs them any more."""
    old = set(crypto.keyring().keys)
    kid = crypto.add_primary_key()
    started = time.monotonic()
    targets = models_with_personal_data()
    rows = {m._meta.db_table: reencrypt(m) for m in targets}

    def old_keys_in_use() -> set[str]:
        return {k for table in status().values() for column in table.values() for k in column} & old

    retired: list[str] = []
    if retire:
        # every other process has seen the new primary key after this long: a row it writes from now on uses it
        time.sleep(max(0.0, crypto.RECHECK_SECONDS - (time.monotonic() - started)))
        still = old_keys_in_use()
        if still:  # rows written with an old key meanwhile (by a process that had not yet seen the new key)
            for m in targets:
                rows[m._meta.db_table] += reencrypt(m)
            still = old_keys_in_use()
        if still:
            raise crypto.PiiKeyError(f"仍有数据使用旧密钥 {sorted(still)}，未停用 rows still use old keys; "
                                     "run rotate-pii --retire again", code="pii.retire_refused")
        retired = crypto.retire_keys({kid})
    return {"primary": kid, "rows": rows, "retired": retired}


def encrypt_existing_rows(app_label: str, *model_names: str) -> Any:
    """The data-migration step that encrypts the rows stored in clear before the columns became encrypted (and,
    reversed, writes them back in clear)."""
    from django.db import migrations

    def settle(schema_editor: Any) -> None:
        # PostgreSQL: run the deferred constraint checks of the rows just written now, so that the schema changes
        # after this step in the same transaction do not meet "pending trigger events"
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    def forward(apps: Any, schema_editor: Any) -> None:
        for name in model_names:
            reencrypt(apps.get_model(app_label, name))
        settle(schema_editor)

    def backward(apps: Any, schema_editor: Any) -> None:
        for name in model_names:
            decrypt_in_place(apps.get_model(app_label, name))
        settle(schema_editor)

    return migrations.RunPython(forward, backward, elidable=False)


class PiiSearchMixin:
    """For a ``ModelAdmin``: the search box also finds rows whose encrypted ``pii_search_fields`` equal the term
    exactly (through their keyed hashes); encrypted fields cannot be searched by part of a value."""

    pii_search_fields: tuple[str, ...] = ()

    def get_search_results(self, request: Any, queryset: Any, search_term: str) -> Any:
        found, may_have_duplicates = super().get_search_results(  # type: ignore[misc]  # a mixin: the ModelAdmin after it defines it
            request, queryset, search_term)
        term = search_term.strip()
        if term and self.pii_search_fields:
            q = Q()
            for name in self.pii_search_fields:
                q |= matching(name, term)
            found = found | queryset.filter(q)
        return found, may_have_duplicates
