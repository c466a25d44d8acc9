from __future__ import annotations

import copy
import csv
import io
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tongban.catalog import importing, selectors
from tongban.catalog.models import Bundle, DutyList, Material, PowerEntry, ServiceItem, Situation
from tongban.core.models import AuditLog, Organisation

from .conftest import SMALL, line_of

pytestmark = pytest.mark.django_db


def _write(tmp_path: Path, doc: dict[str, Any], name: str = "bad.json") -> tuple[Path, str]:
    text = json.dumps(doc, ensure_ascii=False, indent=2)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path, text


def _errors(path: Path) -> list[str]:
    with pytest.raises(importing.CatalogFileError) as exc:
        importing.load_catalog(path)
    return [str(i) for i in exc.value.issues]


def _snapshot() -> tuple[Any, ...]:
    return (
        list(ServiceItem.objects.order_by("code").values_list("code", "name", "version", "status")),
        Material.objects.count(), Situation.objects.count(), Bundle.objects.count(),
        list(DutyList.objects.order_by("organisation__code", "version").values_list("organisation__code", "version")),
        PowerEntry.objects.count(), AuditLog.objects.count(), ServiceItem.history.count(),
    )


# --- a good file -------------------------------------------------------------------------------


def test_good_file_loads_everything(demo_core):
    result = importing.load_catalog(SMALL)
    assert result.items == {"created": 6}
    assert result.bundles == {"created": 1}
    assert result.versions_created == [("yx-scjg", 1, "published"), ("yx-scjg", 2, "published"),
                                       ("yx-ga", 1, "published")]
    child = ServiceItem.objects.get(code="T-SCJG-XK-0001-01")
    assert child.parent.code == "T-SCJG-XK-0001" and child.handling_kind == "new"
    assert list(child.materials.values_list("code", flat=True)) == ["M01", "M02", "M03"]
    s2 = child.situations.get(code="S02")
    assert sorted(s2.materials.values_list("code", flat=True)) == ["M01", "M02"]
    assert child.materials.get(code="M02").issuing_department.code == "yx-scjg"
    main = ServiceItem.objects.get(code="T-SCJG-XK-0001")
    assert main.excluded_steps == ["现场核查"]
    bundle = Bundle.objects.get(code="T-YJS-KBQY")
    assert [(link.item.code, link.optional) for link in bundle.bundle_items.all()] == [
        ("T-SCJG-DJ-0001", False), ("T-GA-BA-0001", False), ("T-SW-QT-0001", True)]
    v2 = DutyList.objects.get(organisation__code="yx-scjg", version=2)
    assert str(v2.effective_date) == "2026-07-01" and v2.change_reason == "机构职能调整"
    assert list(v2.powers.values_list("code", flat=True)) == ["P01", "P02", "P04"]
    assert AuditLog.objects.filter(action="catalog.import").count() == 1


def test_loading_the_same_file_twice_changes_nothing(catalog_small):
    before = _snapshot()
    result = importing.load_catalog(SMALL)
    assert result.items == {"unchanged": 6} and result.bundles == {"unchanged": 1}
    assert result.versions_created == [] and result.lists_unchanged == 3
    assert _snapshot() == before


def test_a_later_version_in_the_file_is_appended(catalog_small, small_doc, tmp_path):
    third = copy.deepcopy(small_doc["duty_lists"][2])
    third["effective_date"] = "2026-09-01"
    third["powers"] = third["powers"][:2]
    third["responsibilities"] = third["responsibilities"][:2]
    small_doc["duty_lists"].append(third)
    path, _ = _write(tmp_path, small_doc, "v3.json")
    result = importing.load_catalog(path)
    assert result.versions_created == [("yx-scjg", 3, "published")]
    assert result.lists_unchanged == 3


def test_changed_item_is_updated_with_a_new_version(catalog_small, small_doc, tmp_path):
    small_doc["items"][2]["name"] = "企业设立登记（新）"
    path, _ = _write(tmp_path, small_doc, "changed.json")
    result = importing.load_catalog(path)
    assert result.items == {"updated": 1, "unchanged": 5}
    item = ServiceItem.objects.get(code="T-SCJG-DJ-0001")
    assert (item.name, item.version) == ("企业设立登记（新）", 2)
    assert item.history.latest().history_change_reason == "导入 changed.json"


def test_dry_run_writes_nothing(demo_core):
    before = _snapshot()
    result = importing.load_catalog(SMALL, dry_run=True)
    assert result.dry_run and result.items == {"created": 6} and len(result.versions_created) == 3
    assert _snapshot() == before


# --- errors, each with its exact line ----------------------------------------------------------


def test_json_syntax_error_names_its_line(demo_core, tmp_path):
    path = tmp_path / "syntax.json"
    path.write_text('{\n  "format": "tongban-catalog/1",\n  "items": [\n    {"code": "A",}\n  ]\n}\n')
    errors = _errors(path)
    assert len(errors) == 1 and errors[0].startswith(f"{path}:4: JSON 语法错误")


def test_duplicate_key(demo_core, tmp_path):
    path = tmp_path / "dup.json"
    path.write_text('{\n  "format": "tongban-catalog/1",\n  "items": [],\n  "items": []\n}\n')
    assert _errors(path) == [f"{path}:4: items: 字段重复（首次出现在第 3 行）"]


def test_schema_errors_are_all_reported_at_their_lines(demo_core, small_doc, tmp_path):
    del small_doc["items"][3]["name"]  # missing key: line of the object
    small_doc["items"][1]["materials"][0]["form"] = "paper-only"  # bad enum value
    small_doc["items"][4]["colour"] = "red"  # unknown key: line of the key
    small_doc["items"][5]["onsite_visits"] = "twice"  # wrong type
    small_doc["duty_lists"][1]["effective_date"] = "2026-02-30"  # not a date
    path, text = _write(tmp_path, small_doc)
    errors = _errors(path)
    assert errors == sorted(errors, key=lambda e: int(e.split(":")[1]))

    def at(marker: str, delta: int = 0) -> str:
        return f"{path}:{line_of(text, marker) + delta}: "

    assert at('"T-GA-BA-0001"', -1) + "items[3]: 缺少必填字段 “name”" in errors
    assert at('"paper-only"') + 'items[1].materials[0].form: 取值 "paper-only" 无效，' \
        "应为以下之一：original、copy、original_and_copy、electronic" in errors
    assert at('"colour"') + "items[4].colour: 不允许的字段 “colour”" in errors
    assert any(e.startswith(at('"twice"') + "items[5].onsite_visits: 类型错误") for e in errors)
    assert at('"2026-02-30"') + 'duty_lists[1].effective_date: 取值 "2026-02-30" 不是有效的日期（YYYY-MM-DD）' in errors
    assert len(errors) == 5


def test_semantic_errors(demo_core, small_doc, tmp_path):
    items = small_doc["items"]
    items[0]["implementing_org"] = "yx-nowhere"
    items[1]["parent"] = "T-NO-SUCH-ITEM"
    items[1]["situations"][1]["materials"].append("M99")
    items[2]["promised_limit_days"] = 30
    items[5]["code"] = "T-GA-BA-0001"  # duplicate of items[3]
    small_doc["bundles"][0]["items"][1] = "T-MISSING"
    small_doc["duty_lists"][0]["responsibilities"][2]["power_code"] = "P77"
    small_doc["duty_lists"][1]["powers"][0]["item_code"] = "T-GHOST"
    small_doc["duty_lists"][2]["effective_date"] = "2025-12-01"  # before v1 of the same organisation
    path, text = _write(tmp_path, small_doc)
    errors = _errors(path)

    def at(marker: str, occurrence: int = 1) -> str:
        return f"{path}:{line_of(text, marker, occurrence)}: "

    first_ga = line_of(text, '"T-GA-BA-0001"')
    first_date = line_of(text, '"2026-01-01"')
    expected = [
        at('"yx-nowhere"') + "items[0].implementing_org: 未知的机构编码 “yx-nowhere”",
        at('"T-NO-SUCH-ITEM"') + "items[1].parent: 未知的上级事项编码 “T-NO-SUCH-ITEM”（文件和数据库中都没有）",
        at('"M99"') + "items[1].situations[1].materials[2]: 办理情形引用了事项 T-SCJG-XK-0001-01 没有的材料编码 “M99”",
        at('"promised_limit_days": 30') + "items[2].promised_limit_days: 承诺时限 30 个工作日超过法定时限 3 个工作日",
        at('"T-GA-BA-0001"', 2) + f"items[5].code: 事项编码 “T-GA-BA-0001” 重复（首次出现在第 {first_ga} 行）",
        at('"T-MISSING"') + "bundles[0].items[1]: 一件事引用了未知的事项编码 “T-MISSING”",
        at('"P77"') + "duty_lists[0].responsibilities[2].power_code: 责任事项对应的职权编码 “P77” 不在本清单的 powers 中",
        at('"T-GHOST"') + "duty_lists[1].powers[0].item_code: 对应事项编码 “T-GHOST” 不存在",
        at('"2025-12-01"') + "duty_lists[2].effective_date: 生效日期 2025-12-01 早于同一机构前一版本的生效日期 "
        f"2026-01-01（第 {first_date} 行）",
    ]
    for line in expected:
        assert line in errors
    assert len(errors) == len(expected)


def test_hierarchy_rules(demo_core, small_doc, tmp_path):
    small_doc["items"][1]["node"] = "main"  # a main item with a parent
    del small_doc["items"][1]["handling_kind"]
    small_doc["items"][2]["node"] = "handling"  # a handling item without parent or kind
    path, text = _write(tmp_path, small_doc)
    errors = _errors(path)
    parent_at = f"{path}:" + str(line_of(text, '"parent": "T-SCJG-XK-0001"')) + ": "
    object_at = f"{path}:" + str(line_of(text, '"T-SCJG-DJ-0001"') - 1) + ": "
    assert any(e.startswith(parent_at + "items[1].parent: 主项") for e in errors)
    assert object_at + "items[2]: 业务办理项必须填写上级事项 parent" in errors
    assert len(errors) == 3


def test_bad_file_changes_nothing(catalog_small, small_doc, tmp_path):
    small_doc["items"][0]["name"] = "已修改的名称"  # a valid change ...
    small_doc["duty_lists"].append({**small_doc["duty_lists"][1], "effective_date": "2026-08-01"})
    small_doc["bundles"][0]["items"].append("T-NOPE")  # ... and one error
    path, _ = _write(tmp_path, small_doc)
    before = _snapshot()
    assert len(_errors(path)) == 1
    assert _snapshot() == before
    assert ServiceItem.objects.get(code="T-SCJG-XK-0001").name == "食品经营许可"


def test_unreadable_and_non_utf8_files(demo_core, tmp_path):
    path = tmp_path / "gbk.json"
    path.write_bytes('{\n"format": "tongban-catalog/1",\n"items": ["名称"]\n}'.encode("gbk"))
    assert _errors(path) == [f"{path}:3: 文件不是 UTF-8 编码"]
    with pytest.raises(importing.CatalogFileError) as exc:
        importing.load_file(tmp_path / "catalog.txt")
    assert "不支持的文件类型" in str(exc.value)


# --- hostile input (issue 17): clear errors at their own line, nothing written --------------------


def test_deeply_nested_arrays_are_refused_not_a_crash(catalog_small, tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 2000 + "]" * 2000)  # 4 KB that used to exhaust the stack (RecursionError)
    before = _snapshot()
    assert _errors(path) == [f"{path}:1: JSON 嵌套层数过深（超过 {importing.MAX_DEPTH} 层）"]
    assert _snapshot() == before


def test_nesting_error_names_the_line_where_the_limit_is_passed(demo_core, tmp_path):
    depth = importing.MAX_DEPTH
    # Line 1 opens level 1 (the brackets inside the string do not count); line 1 + k opens level 1 + k.
    text = '["[[[[{{{{",\n' + "[\n" * (depth + 5) + "]" * (depth + 6) + "\n"
    path = tmp_path / "deep.json"
    path.write_text(text)
    assert _errors(path) == [f"{path}:{depth + 1}: JSON 嵌套层数过深（超过 {depth} 层）"]


def test_nesting_up_to_the_limit_is_parsed(demo_core):
    depth = importing.MAX_DEPTH
    data, pos = importing.parse_json("[" * depth + "]" * depth, "ok.json")
    for _ in range(depth - 1):
        assert len(data) == 1
        data = data[0]
    assert data == [] and pos.line([0] * (depth - 1)) == 1
    with pytest.raises(importing.CatalogFileError, match="嵌套层数过深"):
        importing.parse_json("{\"a\": " + "[" * depth + "]" * depth + "}", "deep.json")


def test_nan_infinity_and_huge_numbers_are_reported_at_their_own_lines(catalog_small, small_doc, tmp_path):
    small_doc["items"][0]["onsite_visits"] = "@NAN@"
    small_doc["items"][1]["statutory_limit_days"] = "@BIG@"
    small_doc["items"][2]["conditions"] = "@INF@"
    small_doc["items"][3]["promised_limit_days"] = "@HUGE@"
    text = json.dumps(small_doc, ensure_ascii=False, indent=2)
    for marker, value in (("@NAN@", "NaN"), ("@BIG@", "1" * 5000), ("@INF@", "-Infinity"), ("@HUGE@", "1e400")):
        text = text.replace(f'"{marker}"', value)
    path = tmp_path / "numbers.json"
    path.write_text(text, encoding="utf-8")
    before = _snapshot()

    def at(marker: str) -> str:
        return f"{path}:{line_of(text, marker)}: "

    assert _errors(path) == [
        at('"onsite_visits": NaN') + "items[0].onsite_visits: JSON 不允许 NaN，数值须是有限的数字",
        at('"statutory_limit_days": 111') + "items[1].statutory_limit_days: 整数位数过多（5000 位，最多 "
        f"{importing.MAX_INT_DIGITS} 位）",
        at('"conditions": -Infinity') + "items[2].conditions: JSON 不允许 -Infinity，数值须是有限的数字",
        at('"promised_limit_days": 1e400') + "items[3].promised_limit_days: 数值 1e400 超出范围（绝对值须小于 1.8e308）",
    ]
    assert line_of(text, "NaN") > 1
    assert _snapshot() == before


def test_numbers_within_limits_still_load(demo_core):
    nines = "9" * importing.MAX_INT_DIGITS
    text = f'{{"format": "tongban-catalog/1", "x": [-0.5, 1e3, {nines}, -{nines}]}}'
    data, _ = importing.parse_json(text, "n.json")
    largest = 10 ** importing.MAX_INT_DIGITS - 1
    assert data["x"] == [-0.5, 1000.0, largest, -largest]


# --- export and round trip ---------------------------------------------------------------------


def test_export_import_round_trip(catalog_small, tmp_path):
    exported = selectors.export_catalog()
    assert [i["code"] for i in exported["items"]].index("T-SCJG-XK-0001") < \
        [i["code"] for i in exported["items"]].index("T-SCJG-XK-0001-01")
    path = tmp_path / "export.json"
    path.write_text(importing.export_catalog_json(), encoding="utf-8")
    before = _snapshot()
    result = importing.load_catalog(path)  # into the same database: nothing to do
    assert not result.changed and _snapshot() == before
    # Into an empty catalogue: the same catalogue again.
    DutyList.objects.all().delete()
    Bundle.objects.all().delete()
    ServiceItem.objects.filter(parent__isnull=False).delete()
    ServiceItem.objects.all().delete()
    result = importing.load_catalog(path)
    assert result.items == {"created": 6} and len(result.versions_created) == 3
    assert selectors.export_catalog() == exported


# --- CSV and Excel lists -----------------------------------------------------------------------


def _csv(tmp_path: Path, name: str, rows: list[list[str]]) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    path = tmp_path / name
    path.write_text(buffer.getvalue(), encoding="utf-8-sig")
    return path


POWER_HEADER = ["职权编码", "职权名称", "职权类型", "实施依据", "实施主体", "对应事项编码", "备注"]
RESP_HEADER = ["对应职权编码", "责任编码", "责任事项", "追责情形", "责任依据"]


def test_csv_powers_and_responsibilities(catalog_small, tmp_path):
    powers = _csv(tmp_path, "powers.csv", [
        POWER_HEADER,
        ["P01", "公章刻制备案", "行政备案", "《印铸刻字业暨指纹管理暂行办法》", "云溪市公安局", "T-GA-BA-0001", ""],
        ["P02", "户口登记", "other_power", "《中华人民共和国户口登记条例》", "云溪市公安局", "", "新增"],
    ])
    result = importing.load_list_table(powers, organisation="yx-ga", effective_date=selectors.current_duty_list(
        Organisation.objects.get(code="yx-ga")).effective_date)
    assert result.versions_created == [("yx-ga", 2, "published")]
    v2 = DutyList.objects.get(organisation__code="yx-ga", version=2)
    assert list(v2.powers.values_list("code", "power_type")) == [("P01", "filing"), ("P02", "other_power")]
    assert list(v2.responsibilities.values_list("code", flat=True)) == ["R01"]  # kept from v1
    # The same file again creates nothing.
    assert importing.load_list_table(powers, organisation="yx-ga").lists_unchanged == 1
    resps = _csv(tmp_path, "resps.csv", [
        RESP_HEADER,
        ["P01", "R01", "备案审查责任。", "违法备案的", ""],
        ["P02", "R02", "登记责任。", "违法登记的", "《户口登记条例》"],
    ])
    result = importing.load_list_table(resps, organisation="yx-ga", effective_date=v2.effective_date)
    assert result.versions_created == [("yx-ga", 3, "published")]


def test_csv_row_errors(catalog_small, tmp_path):
    path = _csv(tmp_path, "bad.csv", [
        POWER_HEADER,
        ["P01", "公章刻制备案", "行政备案", "依据", "云溪市公安局", "", ""],
        ["P01", "重复", "行政备案", "依据", "云溪市公安局", "", ""],
        [],
        ["P03", "", "许可", "依据", "云溪市公安局", "", ""],
        ["P 04", "名称", "licensing", "依据", "云溪市公安局", "", ""],
    ])
    before = _snapshot()
    with pytest.raises(importing.CatalogFileError) as exc:
        importing.load_list_table(path, organisation="yx-ga")
    assert [str(i) for i in exc.value.issues] == [
        f"{path}:3: “职权编码” “P01” 重复（首次出现在第 2 行）",
        f"{path}:5: “职权名称”不能为空",
        f"{path}:5: 职权类型 “许可” 无效，应为：行政许可、行政确认、行政裁决、行政给付、行政奖励、行政备案、其他行政权力、公共服务",
        f"{path}:6: “职权编码” “P 04” 格式不正确（字母、数字开头，只含字母、数字和 . _ -）",
    ]
    resps = _csv(tmp_path, "bad_resps.csv", [RESP_HEADER, ["P01", "R01", "责任", "追责", ""],
                                              ["P99", "R02", "责任", "追责", ""]])
    with pytest.raises(importing.CatalogFileError) as exc:
        importing.load_list_table(resps, organisation="yx-ga")
    assert [str(i) for i in exc.value.issues] == [f"{resps}:3: 对应职权编码 “P99” 不在现行权力清单中"]
    header = _csv(tmp_path, "header.csv", [["职权编码", "职权名称", "颜色"], ["P1", "x", "红"]])
    with pytest.raises(importing.CatalogFileError) as exc:
        importing.load_list_table(header, organisation="yx-ga", kind="powers")
    assert [str(i) for i in exc.value.issues] == [
        f"{header}:1: 第 3 列表头 “颜色” 无法识别",
        f"{header}:1: 缺少必需的列：职权类型、实施依据、实施主体",
    ]
    assert _snapshot() == before


def test_xlsx_import_with_sheet_row_errors(catalog_small, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "权力清单"
    sheet.append(POWER_HEADER)
    sheet.append(["P1", "职权一", "行政许可", "依据", "某局", "", ""])
    resp = book.create_sheet("责任清单")
    resp.append(RESP_HEADER)
    resp.append(["P1", "R1", "责任", "追责", ""])
    resp.append(["P2", "R2", "责任", "", ""])
    path = tmp_path / "lists.xlsx"
    book.save(path)
    with pytest.raises(importing.CatalogFileError) as exc:
        importing.load_list_table(path, organisation="yx-wsjk")
    assert [str(i) for i in exc.value.issues] == [
        f"{path}:3: 工作表“责任清单”：“追责情形”不能为空",
        f"{path}:3: 工作表“责任清单”：对应职权编码 “P2” 不在本文件的权力清单中",
    ]
    assert not DutyList.objects.filter(organisation__code="yx-wsjk").exists()
    resp.delete_rows(3)
    book.save(path)
    result = importing.load_list_table(path, organisation="yx-wsjk")
    assert result.versions_created == [("yx-wsjk", 1, "published")]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_list_export_import_round_trip(catalog_small, tmp_path, fmt):
    scjg = Organisation.objects.get(code="yx-scjg")
    current = selectors.current_duty_list(scjg)
    if fmt == "csv":
        powers = tmp_path / "p.csv"
        powers.write_bytes(importing.export_list_csv(current, "powers"))
        resps = tmp_path / "r.csv"
        resps.write_bytes(importing.export_list_csv(current, "responsibilities"))
        assert importing.load_list_table(powers, organisation="yx-scjg").lists_unchanged == 1
        importing.load_list_table(powers, organisation="yx-wsjk")
        importing.load_list_table(resps, organisation="yx-wsjk")
    else:
        path = tmp_path / "lists.xlsx"
        path.write_bytes(importing.export_list_xlsx(current))
        assert importing.load_list_table(path, organisation="yx-scjg").lists_unchanged == 1
        importing.load_list_table(path, organisation="yx-wsjk")
    copy_ = selectors.current_duty_list(Organisation.objects.get(code="yx-wsjk"))
    assert selectors.diff_duty_lists(current, copy_).empty


# --- worded situation guides (issue 16) ---------------------------------------------------------------


def _food_item(doc: dict[str, Any]) -> dict[str, Any]:
    return next(i for i in doc["items"] if any(s.get("conditions") for s in i.get("situations", [])))


def test_a_worded_guide_is_imported_and_exported(demo_core, small_doc, tmp_path):
    item = _food_item(small_doc)
    item["guide"] = {"business_kind": {"question": "您经营的是哪类食品业务？", "answers": {"餐饮": "餐饮服务（堂食、外卖）"}}}
    path, _ = _write(tmp_path, small_doc, "guide.json")
    importing.load_catalog(path)
    stored = ServiceItem.objects.get(code=item["code"])
    assert stored.guide["business_kind"]["question"] == "您经营的是哪类食品业务？"
    exported = json.loads(importing.export_catalog_json())
    again = next(i for i in exported["items"] if i["code"] == item["code"])
    assert again["guide"] == item["guide"]
    importing.load_catalog(path)  # the same file again changes nothing
    assert ServiceItem.objects.get(code=item["code"]).version == stored.version


@pytest.mark.parametrize("guide, message", [
    ({"no_such_key": {"question": "问？"}}, "不是任何办理情形的适用条件"),
    ({"business_kind": {"question": "问？", "answers": {"零售": "零售"}}}, "不是引导键 “business_kind” 的取值"),
    ({"business_kind": {"question": ""}}, "business_kind"),
])
def test_a_bad_guide_is_refused_and_nothing_changes(demo_core, small_doc, tmp_path, guide, message):
    _food_item(small_doc)["guide"] = guide
    path, _ = _write(tmp_path, small_doc)
    before = _snapshot()
    errors = _errors(path)
    assert any(message in e for e in errors), errors
    assert _snapshot() == before


def test_two_guide_keys_may_not_ask_the_same_question(demo_core, small_doc, tmp_path):
    item = _food_item(small_doc)
    item["situations"][1]["conditions"] = {"packaged": "是"}
    item["guide"] = {"business_kind": {"question": "经营什么？"}, "packaged": {"question": "经营什么？"}}
    path, _ = _write(tmp_path, small_doc)
    assert any("与引导键 “business_kind” 重复" in e for e in _errors(path))
