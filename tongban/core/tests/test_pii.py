"""Encrypted model fields, keyed-hash lookups, the data migration, rotation and status commands, masking of pages
and logs (tongban.core.pii, tongban.core.masking, ``{% load pii %}``, ``tongban keys ...``)."""

from __future__ import annotations

import logging

import pytest
import typer
from django.core.exceptions import FieldError
from django.db import connection
from django.template import Context, Template
from typer.testing import CliRunner

from tongban.core import cli, crypto, masking, pii
from tongban.core.models import User

ID = "910101199001011234"
PHONE = "13800005678"

pytestmark = pytest.mark.django_db


@pytest.fixture
def own_keyring(tmp_path, settings):
    """A keyring of this test alone (rotation and retirement must not touch the suite's shared keyring)."""
    settings.PII_KEYS_DIR = tmp_path / "pii"
    crypto.clear_cache()
    yield settings.PII_KEYS_DIR
    crypto.clear_cache()


def raw(model, pk, column):
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {connection.ops.quote_name(column)} FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_user_personal_fields_are_ciphertext_in_the_row_and_plain_in_python():
    user = User.objects.create(username="p1", id_number=ID, phone=PHONE)
    assert raw(User, user.pk, "id_number").startswith("pii1:") and ID not in raw(User, user.pk, "id_number")
    assert PHONE not in raw(User, user.pk, "phone")
    assert raw(User, user.pk, "id_number_hash") == crypto.lookup_hash(ID)
    again = User.objects.get(pk=user.pk)
    assert (again.id_number, again.phone) == (ID, PHONE)
    assert User.objects.filter(pk=user.pk).values_list("id_number", flat=True).get() == ID
    blank = User.objects.create(username="p2")
    assert raw(User, blank.pk, "id_number") == "" and raw(User, blank.pk, "id_number_hash") == ""


def test_lookup_through_the_keyed_hash_follows_changes():
    user = User.objects.create(username="p1", id_number=ID)
    assert list(User.objects.filter(pii.matching("id_number", f" {ID.lower()} "))) == [user]
    user.id_number = "910101199001011235"
    user.save()
    assert not User.objects.filter(pii.matching("id_number", ID)).exists()
    assert User.objects.filter(pii.matching("id_number", "910101199001011235")).get() == user
    User.objects.create(username="p2")  # no ID number: an empty value must not find everyone without one
    assert not User.objects.filter(pii.matching("id_number", "")).exists()


def test_lookups_that_cannot_match_ciphertext_are_refused_not_silently_empty():
    User.objects.create(username="p1", id_number=ID)
    with pytest.raises(FieldError, match="pii.matching"):
        list(User.objects.filter(id_number=ID))
    with pytest.raises(FieldError):
        list(User.objects.filter(id_number__startswith="9101"))
    assert User.objects.filter(id_number="").count() == User.objects.exclude(username="p1").count()


@pytest.fixture
def keys_cli():
    app = typer.Typer()
    cli.register(app)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, ["keys", *args])


def test_rotate_reencrypts_every_row_and_retire_drops_the_old_key(own_keyring, keys_cli):
    user = User.objects.create(username="p1", id_number=ID, phone=PHONE)
    assert crypto.key_id(raw(User, user.pk, "id_number")) == "k1"
    status = keys_cli("pii-status")
    assert status.exit_code == 0, status.output
    assert "core_user.id_number: k1=1" in status.output and "(primary k1)" in status.output

    done = keys_cli("rotate-pii")
    assert done.exit_code == 0, done.output
    assert "primary key: k2" in done.output and "re-encrypted core_user: 1 row(s)" in done.output
    assert crypto.key_id(raw(User, user.pk, "id_number")) == "k2"
    assert set(crypto.keyring().keys) == {"k1", "k2"}  # kept: other copies (backups) may still need it

    done = keys_cli("rotate-pii", "--retire")
    assert done.exit_code == 0, done.output
    assert "retired keys: k1, k2" in done.output
    assert set(crypto.keyring().keys) == {"k3"}
    assert "core_user.id_number: k3=1" in keys_cli("pii-status").output
    assert User.objects.filter(pii.matching("id_number", ID)).get().phone == PHONE


def test_retire_reencrypts_rows_written_meanwhile_and_refuses_while_an_old_key_is_in_use(own_keyring, keys_cli,
                                                                                        monkeypatch):
    user = User.objects.create(username="p1", id_number=ID)
    real = pii.reencrypt
    calls: list[str] = []

    def skips_users_once(model, **kwargs):  # the first pass misses the users (as if written meanwhile)
        calls.append(model._meta.db_table)
        if model is User and calls.count("core_user") == 1:
            return 0
        return real(model, **kwargs)

    monkeypatch.setattr(pii, "reencrypt", skips_users_once)
    report = pii.rotate(retire=True)
    assert report["retired"] == ["k1"] and calls.count("core_user") == 2
    assert crypto.key_id(raw(User, user.pk, "id_number")) == "k2"

    monkeypatch.setattr(pii, "reencrypt", lambda model, **kw: 0 if model is User else real(model, **kw))
    refused = keys_cli("rotate-pii", "--retire")
    assert refused.exit_code == 1 and "k2" in refused.output and "again" in refused.output
    assert set(crypto.keyring().keys) == {"k2", "k3"}  # nothing dropped while a row needs k2
    assert User.objects.get(pk=user.pk).id_number == ID


def test_status_counts_values_still_in_clear(own_keyring, keys_cli):
    user = User.objects.create(username="p1", id_number=ID)
    with connection.cursor() as cursor:  # as a row written before the migration would look
        cursor.execute("UPDATE core_user SET phone = %s WHERE id = %s", [PHONE, user.pk])
    assert "core_user.phone: clear=1" in keys_cli("pii-status").output
    assert pii.reencrypt(User) >= 1
    assert "core_user.phone: k1=1" in keys_cli("pii-status").output


# --- masking -----------------------------------------------------------------------------------------------


def test_masking_functions():
    assert masking.mask_id("110101199003071234") == "110***********1234"
    assert masking.mask_id("91010000MA0000000X") == "910***********000X"
    assert masking.mask_id("") == "" and masking.mask_id(None) == "" and masking.mask_id("1234") == "****"
    assert masking.mask_phone("13800005678") == "138****5678"
    assert masking.mask_phone("0871-6512345") == "********2345"
    assert masking.mask_name("张三") == "张*" and masking.mask_name("欧阳娜娜") == "欧阳**"
    assert masking.mask_name("云溪科技有限公司青山分公司") == "云溪科技有限公司青山分公司"
    assert masking.mask_address("云溪市青山区翠湖街道科创大道88号") == "云溪市青山区****"
    assert masking.mask_address("某省某市某县某镇某村1号") == "某省某市某县****"
    assert masking.mask_field("mother_id_number", ID) == masking.mask_id(ID)
    assert masking.mask_field("applicant_phone", PHONE) == "138****5678"
    assert masking.mask_field("household_address", "云溪市青山区1号") == "云溪市青山区****"
    assert masking.mask_field("note", f"身份证 {ID}，电话 {PHONE}") == "身份证 910***********1234，电话 138****5678"


def test_masking_in_free_text_leaves_other_numbers_alone():
    text = f"ID {ID} tel {PHONE} order 2026120512345678901234 ref YX-20261205-0001"
    masked = masking.mask_text(text)
    assert ID not in masked and PHONE not in masked
    assert "2026120512345678901234" in masked and "YX-20261205-0001" in masked


def test_log_filter_masks_messages_arguments_and_tracebacks(caplog):
    logger = logging.getLogger("tongban.test_pii")
    handler_filter = masking.PiiLogFilter()
    caplog.handler.addFilter(handler_filter)
    try:
        logger.warning("applicant %s phone %s", ID, PHONE)
        try:
            raise ValueError(f"bad id {ID}")
        except ValueError:
            logger.exception("failed")
    finally:
        caplog.handler.removeFilter(handler_filter)
    assert ID not in caplog.text and PHONE not in caplog.text
    assert "910***********1234" in caplog.text and "138****5678" in caplog.text


def test_the_server_log_masks():
    """The console handler configured by settings.LOGGING (the server's log) writes records masked."""
    import io

    console = next(h for h in logging.getLogger().handlers
                   if type(h) is logging.StreamHandler and any(isinstance(f, masking.PiiLogFilter) for f in h.filters))
    out = io.StringIO()
    previous = console.setStream(out)
    try:
        logging.getLogger("tongban.test_pii").warning("could not verify %s (phone %s)", ID, PHONE)
    finally:
        console.setStream(previous)
    assert out.getvalue() == "could not verify 910***********1234 (phone 138****5678)\n"


def test_template_filters():
    html = Template("{% load pii %}{{ i|mask_id }} {{ p|mask_phone }} {{ n|mask_name }} {{ a|mask_address }}").render(
        Context({"i": ID, "p": PHONE, "n": "张三", "a": "云溪市青山区翠湖街道"}))
    assert html == "910***********1234 138****5678 张* 云溪市青山区****"


def test_admin_search_finds_a_user_by_exact_id_number(client):
    admin = User.objects.create_superuser("root", password="pw-12345678")
    one = User.objects.create(username="p1", display_name="张三", id_number=ID)
    two = User.objects.create(username="p2", display_name="李四", id_number="910101199001011235")
    link = "/admin/core/user/{}/change/".format
    client.force_login(admin)
    page = client.get("/admin/core/user/", {"q": ID}).content.decode()
    assert link(one.pk) in page and link(two.pk) not in page
    page = client.get("/admin/core/user/", {"q": "李四"}).content.decode()  # the ordinary search still works
    assert link(two.pk) in page and link(one.pk) not in page
