"""The market-entity register (市场主体名录): validation, upsert and bulk loading."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from tongban.core.models import Division, Organisation
from tongban.core.services import audit

from .. import uscc
from ..errors import InvalidInput
from ..models import MarketEntity
from .crediting import recompute_credit, regrade

#: GB/T 4754-2017 industry sections (行业门类) used by the register and draw scopes.
INDUSTRIES: dict[str, str] = {
    "A": "农、林、牧、渔业", "B": "采矿业", "C": "制造业", "D": "电力、热力、燃气及水生产和供应业", "E": "建筑业",
    "F": "批发和零售业", "G": "交通运输、仓储和邮政业", "H": "住宿和餐饮业", "I": "信息传输、软件和信息技术服务业",
    "J": "金融业", "K": "房地产业", "L": "租赁和商务服务业", "M": "科学研究和技术服务业",
    "N": "水利、环境和公共设施管理业", "O": "居民服务、修理和其他服务业", "P": "教育", "Q": "卫生和社会工作",
    "R": "文化、体育和娱乐业", "S": "公共管理、社会保障和社会组织",
}

KIND_ALIASES = {"legal_person": MarketEntity.Kind.LEGAL_PERSON, "法人": MarketEntity.Kind.LEGAL_PERSON,
                "企业": MarketEntity.Kind.LEGAL_PERSON, "individual_business": MarketEntity.Kind.INDIVIDUAL_BUSINESS,
                "个体工商户": MarketEntity.Kind.INDIVIDUAL_BUSINESS, "个体": MarketEntity.Kind.INDIVIDUAL_BUSINESS}

CSV_COLUMNS = ["uscc", "name", "kind", "division", "address", "industry", "legal_representative", "established_on",
               "departments"]

# --- the market-entity register --------------------------------------------------------------------------------

def division_of_code(code: str) -> Division | None:
    """The division a USCC's characters 3–8 name (its 6-digit division code, padded to 12), if it exists."""
    digits = code[2:8]
    if not digits.isdigit():
        return None
    return Division.objects.filter(code=digits + "000000").first()


def _clean_entity(row: dict[str, Any], *, row_no: int | None = None,
                  divisions: dict[str, Division] | None = None,
                  orgs: dict[str, Organisation] | None = None) -> dict[str, Any]:
    """Validate one entity's fields; raises :class:`InvalidInput` naming the field (and the row)."""
    def bad(field: str, message: str) -> InvalidInput:
        where = f"第 {row_no} 行 " if row_no is not None else ""
        return InvalidInput(f"{where}{field}：{message}", field=field, row=row_no)

    code = uscc.normalise(str(row.get("uscc") or ""))
    if not code:
        raise bad("uscc", "统一社会信用代码不能为空")
    if (problem := uscc.problem(code)) is not None:
        raise bad("uscc", problem)
    name = str(row.get("name") or "").strip()
    if not name:
        raise bad("name", "名称不能为空")
    kind_raw = str(row.get("kind") or "legal_person").strip()
    kind = KIND_ALIASES.get(kind_raw)
    if kind is None:
        raise bad("kind", f"主体类型“{kind_raw}”不正确（法人 / 个体工商户）")
    division_code = str(row.get("division") or "").strip()
    division = (divisions or {}).get(division_code) if divisions is not None else \
        Division.objects.filter(code=division_code).first()
    if division is None:
        raise bad("division", f"行政区划代码“{division_code}”不存在")
    industry = str(row.get("industry") or "").strip().upper()
    if industry and industry not in INDUSTRIES:
        raise bad("industry", f"行业门类“{industry}”不是 GB/T 4754 门类代码（A–S）")
    established: date | None = None
    raw_date = str(row.get("established_on") or "").strip()
    if raw_date:
        try:
            established = date.fromisoformat(raw_date)
        except ValueError:
            raise bad("established_on", f"成立日期“{raw_date}”不是 YYYY-MM-DD 格式") from None
    departments: list[Organisation] = []
    raw_depts = row.get("departments") or []
    dept_codes = raw_depts if isinstance(raw_depts, list) else \
        [c.strip() for c in str(raw_depts).replace("、", ";").replace(",", ";").split(";") if c.strip()]
    for dc in dept_codes:
        org = (orgs or {}).get(dc) if orgs is not None else Organisation.objects.filter(code=dc).first()
        if org is None:
            raise bad("departments", f"监管部门“{dc}”不存在")
        departments.append(org)
    return {"uscc": code, "name": name, "kind": kind, "division": division,
            "address": str(row.get("address") or "").strip(), "industry": industry,
            "legal_representative": str(row.get("legal_representative") or "").strip(),
            "established_on": established, "departments": departments}


def upsert_entity(*, source: str = MarketEntity.Source.REGISTER, **fields: Any) -> MarketEntity:
    """Create or update one entity (fields as :func:`_clean_entity` takes them); validates first."""
    data = _clean_entity(fields)
    departments = data.pop("departments")
    entity, created = MarketEntity.objects.update_or_create(uscc=data.pop("uscc"), defaults={**data, "source": source})
    if departments:
        entity.supervising_departments.add(*departments)
    if created:
        regrade(entity)
    return entity


def load_entities(source: str | Path | Iterable[dict[str, Any]], *,
                  origin: str = MarketEntity.Source.REGISTER) -> int:
    """Load a register file (CSV with the header ``CSV_COLUMNS``; departments separated by ``;``) or rows.

    Every row is checked before anything is written: the first bad row raises :class:`InvalidInput` naming the row
    (the header is row 1) and the field, and the register is unchanged. Returns the number of rows loaded."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise InvalidInput(f"文件不存在：{path}", field="file") from None
        except UnicodeDecodeError:
            raise InvalidInput(f"文件不是 UTF-8 编码：{path}", field="file") from None
        reader = csv.DictReader(io.StringIO(text))
        missing = [c for c in ("uscc", "name", "division") if c not in (reader.fieldnames or [])]
        if missing:
            raise InvalidInput(f"第 1 行（表头）缺少列：{', '.join(missing)}（应为 {','.join(CSV_COLUMNS)}）",
                               field=missing[0], row=1)
        rows: list[tuple[int, dict[str, Any]]] = [(i + 2, r) for i, r in enumerate(reader)]
    else:
        rows = [(i + 1, r) for i, r in enumerate(source)]
    divisions = {d.code: d for d in Division.objects.all()}
    orgs = {o.code: o for o in Organisation.objects.all()}
    cleaned = []
    seen: dict[str, int] = {}
    for row_no, row in rows:
        if None in row:  # DictReader puts surplus cells under the key None
            raise InvalidInput(f"第 {row_no} 行：列数多于表头", field="row", row=row_no)
        data = _clean_entity(row, row_no=row_no, divisions=divisions, orgs=orgs)
        if data["uscc"] in seen:
            raise InvalidInput(f"第 {row_no} 行 uscc：与第 {seen[data['uscc']]} 行重复", field="uscc", row=row_no)
        seen[data["uscc"]] = row_no
        cleaned.append(data)
    with transaction.atomic():
        existing = {e.uscc: e for e in MarketEntity.objects.filter(uscc__in=list(seen))}
        new = [MarketEntity(**{k: v for k, v in d.items() if k != "departments"}, source=origin)
               for d in cleaned if d["uscc"] not in existing]
        MarketEntity.objects.bulk_create(new, batch_size=1000)
        for d in cleaned:
            if d["uscc"] in existing:
                e = existing[d["uscc"]]
                for k, v in d.items():
                    if k not in ("departments", "uscc"):
                        setattr(e, k, v)
        MarketEntity.objects.bulk_update(list(existing.values()), ["name", "kind", "division", "address", "industry",
                                                                   "legal_representative", "established_on"],
                                         batch_size=1000)
        ids = dict(MarketEntity.objects.filter(uscc__in=list(seen)).values_list("uscc", "pk"))
        through = MarketEntity.supervising_departments.through
        links = [through(marketentity_id=ids[d["uscc"]], organisation_id=o.pk) for d in cleaned for o in d["departments"]]
        through.objects.bulk_create(links, ignore_conflicts=True, batch_size=1000)
        recompute_credit(MarketEntity.objects.filter(pk__in=[ids[e.uscc] for e in new]))
        audit("supervision.load_entities", detail={"rows": len(cleaned), "new": len(new)})
    return len(cleaned)


def _entity_for_subject(code: str, name: str, department: Organisation | None,
                        source: str = MarketEntity.Source.LICENCE) -> MarketEntity | None:
    """The register's entity for an approval's holder (created when the code is a valid USCC), or None."""
    code = uscc.normalise(code)
    if not uscc.is_valid(code):
        return None
    entity = MarketEntity.objects.filter(uscc=code).first()
    if entity is None:
        division = division_of_code(code) or (department.division if department is not None else None)
        if division is None:
            return None
        kind = MarketEntity.Kind.INDIVIDUAL_BUSINESS if code[:2] == "92" else MarketEntity.Kind.LEGAL_PERSON
        entity = MarketEntity.objects.create(uscc=code, name=name or code, kind=kind, division=division,
                                             source=source, established_on=timezone.localdate())
        regrade(entity)
    if department is not None:
        entity.supervising_departments.add(department)
    return entity

