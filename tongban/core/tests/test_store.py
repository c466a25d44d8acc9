"""The assumptions of ``tongban.core.store`` (the hot-path SQL layer), on whichever database the suite runs on.

The store builds its statements from model metadata: every statement names its columns in the order of the
model's concrete fields, and rows are mapped back by that order. So a table whose physical column order differs
from the model (a migration appends a column at the end) must still read and write correctly, and statements
built for an older version of a model keep working after a migration added a nullable column.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.apps.registry import Apps
from django.db import connection, models
from django.utils import timezone

from tongban.core import store

pytestmark = pytest.mark.django_db(transaction=True)  # schema changes (SQLite cannot alter inside a transaction)

TABLE = "tb_store_probe"


def _probe(version: int) -> type[models.Model]:
    """The probe model before (1) and after (2) a migration that adds the nullable column ``note``. Version 2
    declares ``note`` in the middle; the migration appends it at the end of the table."""
    registry = Apps(["tongban.core"])
    fields: dict[str, object] = {"name": models.CharField(max_length=20)}
    if version == 2:
        fields["note"] = models.CharField(max_length=20, null=True)
    fields |= {"count": models.IntegerField(default=0), "at": models.DateTimeField(null=True),
               "day": models.DateField(null=True), "data": models.JSONField(default=dict)}
    meta = type("Meta", (), {"app_label": "core", "db_table": TABLE, "apps": registry})
    return type(f"Probe{version}", (models.Model,), {"__module__": __name__, "Meta": meta, **fields})


@pytest.fixture
def probes():
    v1, v2 = _probe(1), _probe(2)
    with connection.schema_editor() as editor:
        editor.create_model(v1)
    try:
        yield v1, v2
    finally:
        with connection.schema_editor() as editor:
            editor.delete_model(v1)


def _migrate(v2: type[models.Model]) -> None:
    """What the migration's ``AddField`` does."""
    with connection.schema_editor() as editor:
        editor.add_field(v2, v2._meta.get_field("note"))


def _physical_columns() -> list[str]:
    with connection.cursor() as cur:
        return [c.name for c in connection.introspection.get_table_description(cur, TABLE)]


def _unquote(sql_list: str) -> list[str]:
    return [c.strip().replace('"', "").replace("`", "") for c in sql_list.split(",")]


def test_columns_follow_the_model_metadata_not_the_table(probes):
    v1, v2 = probes
    _migrate(v2)
    assert _physical_columns() == ["id", "name", "count", "at", "day", "data", "note"]  # appended by the migration
    declared = [f.column for f in v2._meta.concrete_fields]
    assert declared == ["id", "name", "note", "count", "at", "day", "data"]
    assert _unquote(store.columns(v2)) == declared
    assert _unquote(store.columns(v2, "p")) == [f"p.{c}" for c in declared]
    assert _unquote(store.columns(v1)) == ["id", "name", "count", "at", "day", "data"]


def test_a_row_written_and_read_by_the_store_matches_the_orm_after_the_migration(probes):
    v1, v2 = probes
    now = timezone.now().replace(microsecond=123456)
    [old] = [store.new(v1, name="old", count=3, at=now, day=dt.date(2026, 5, 1), data={"k": [1, "二"]})]
    store.insert(v1, [old])
    assert old.pk is not None
    _migrate(v2)
    new = store.new(v2, name="new", note="备注", count=7, at=now, data=[])
    store.insert(v2, [new])

    by_store = {o.name: o for o in store.select(v2, f"{store.column(v2, 'id')} > %s", [0])}
    by_orm = {o.name: o for o in v2.objects.all()}
    for name in ("old", "new"):
        for field in v2._meta.concrete_fields:
            assert getattr(by_store[name], field.attname) == getattr(by_orm[name], field.attname), (name, field)
    assert by_store["old"].note is None and by_store["old"].data == {"k": [1, "二"]}
    assert by_store["old"].at == now and by_store["old"].day == dt.date(2026, 5, 1)
    assert by_store["new"].note == "备注" and by_store["new"].count == 7 and by_store["new"].data == []

    # an update by column name, and the generic row reader (a model, a field, a bare value)
    by_store["old"].note = "补"
    store.update(v2, [by_store["old"]], ["note"])
    rows = store.rows([v2, v2._meta.get_field("at"), None],
                      f"SELECT {store.columns(v2)}, {store.column(v2, 'at')}, 1 FROM {store.table(v2)} "
                      f"ORDER BY {store.column(v2, 'id')}", [])
    assert [(r[0].name, r[0].note, r[1], r[2]) for r in rows] == [("old", "补", now, 1), ("new", "备注", now, 1)]
    [only] = store.select_fields(v2, ["name", "count"], f"{store.column(v2, 'name')} = %s", ["new"])
    assert (only.name, only.count) == ("new", 7) and "note" not in only.__dict__  # the rest is deferred


def test_statements_of_the_old_model_keep_working_after_the_migration(probes):
    """A process that built its statements before the migration (the old model) still reads and writes."""
    v1, v2 = probes
    store.insert(v1, [store.new(v1, name="before")])
    assert [o.name for o in store.select(v1, f"{store.column(v1, 'count')} = %s", [0])] == ["before"]
    _migrate(v2)
    store.insert(v1, [store.new(v1, name="after", count=1)])
    assert sorted(o.name for o in store.select(v1, f"{store.column(v1, 'id')} > %s", [0])) == ["after", "before"]
    assert set(v2.objects.values_list("name", "note")) == {("before", None), ("after", None)}


def test_values_round_trip_as_the_orm_writes_them(probes):
    """JSON (empty containers, a string that looks like JSON, nesting), aware datetimes and NULLs written by the
    store read back the same through the ORM, and ORM rows read back the same through the store."""
    v1, _ = probes
    now = timezone.now()
    values = [{}, [], "{}", {"a": {"b": [None, True, 1.5]}}, "文本"]
    objs = [store.new(v1, name=f"s{i}", data=v, at=now if i % 2 else None) for i, v in enumerate(values)]
    store.insert(v1, objs)
    for i, v in enumerate(values):
        orm = v1.objects.get(name=f"s{i}")
        assert orm.data == v and orm.at == (now if i % 2 else None)
    v1.objects.create(name="orm", data={"x": []}, at=now)
    [row] = store.select(v1, f"{store.column(v1, 'name')} = %s", ["orm"])
    assert row.data == {"x": []} and row.at == now and row.day is None


def test_column_refuses_a_relation_that_is_not_a_column():
    from tongban.core.models import Organisation

    with pytest.raises(AssertionError):
        store.column(Organisation, "children")
