"""Licence types (电子证照类型): code, Chinese name, VC type, number prefix, data schema, validity.

Every type is a spec in :data:`LICENCE_TYPES` (a :class:`~tongban.core.registry.Registry` keyed by code): the
built-in ones below, and any a deployment adds with :func:`register_licence_type` (another spec under a code
already taken is refused unless ``replace=True``). ``services.ensure_licence_types`` stores them all. The
codes are the ones the catalogue uses in ``Material.licence_type``. ``holder_fields`` names the data fields that
are filled from the holder when the data leaves them out (``name`` or ``id_number``). The built-in types name no
issuing organisation (organisation codes differ per city): a deployment sets each type's default issuer in the
admin or passes ``issuers`` to ``services.ensure_licence_types`` (the demo does, ``credentials/demo.py``).
"""

from __future__ import annotations

from typing import Any

from tongban.core.registry import Registry

LicenceTypeSpec = dict[str, Any]
LICENCE_TYPES: Registry[str, LicenceTypeSpec] = Registry("电子证照类型 licence types")

DATE = {"type": "string", "format": "date"}
NON_EMPTY = {"type": "string", "minLength": 1}


def _schema(title: str, properties: dict[str, dict[str, Any]], required: list[str]) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": title,
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def _props(fields: dict[str, tuple[str, dict[str, Any]]]) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    properties = {key: {**spec, "title": label} for key, (label, spec) in fields.items()}
    labels = {key: label for key, (label, _spec) in fields.items()}
    return properties, labels


def register_licence_type(spec: LicenceTypeSpec, *, replace: bool = False) -> LicenceTypeSpec:
    """Offer a licence type (a spec as :func:`licence_type` builds it) under its code."""
    return LICENCE_TYPES.register(spec["code"], spec, replace=replace)


def licence_type(code: str, name: str, vc_type: str, prefix: str, holder_kind: str, issuing_org: str,
                 validity_years: int | None, fields: dict[str, tuple[str, dict[str, Any]]], required: list[str],
                 holder_fields: dict[str, str], description: str = "") -> LicenceTypeSpec:
    """A licence type spec: ``fields`` maps each data field to (Chinese label, JSON Schema)."""
    properties, labels = _props(fields)
    return {
        "code": code, "name": name, "vc_type": vc_type, "number_prefix": prefix, "holder_kind": holder_kind,
        "issuing_org": issuing_org, "validity_years": validity_years, "schema": _schema(name, properties, required),
        "field_labels": labels, "holder_fields": holder_fields, "description": description,
    }


_type = licence_type  # the short name for the table below

BUILTIN_TYPES: list[LicenceTypeSpec] = [
    _type("business_licence", "营业执照", "BusinessLicenceCredential", "YYZZ", "legal", "", None, {
        "name": ("名称", NON_EMPTY),
        "credit_code": ("统一社会信用代码", {"type": "string", "pattern": "^[0-9A-Z]{18}$"}),
        "entity_type": ("类型", {"type": "string"}),
        "legal_representative": ("法定代表人", {"type": "string"}),
        "registered_capital": ("注册资本", {"type": "string"}),
        "established_on": ("成立日期", DATE),
        "business_term": ("营业期限", {"type": "string"}),
        "address": ("住所", {"type": "string"}),
        "business_scope": ("经营范围", {"type": "string"}),
    }, ["name", "credit_code"], {"name": "name", "credit_code": "id_number"},
        "市场主体登记后核发的营业执照（电子营业执照）"),
    _type("food_operation_licence", "食品经营许可证", "FoodOperationLicenceCredential", "JY", "legal", "", 5, {
        "operator_name": ("经营者名称", NON_EMPTY),
        "credit_code": ("社会信用代码", {"type": "string", "pattern": "^[0-9A-Z]{18}$"}),
        "legal_representative": ("法定代表人（负责人）", {"type": "string"}),
        "address": ("经营场所", {"type": "string"}),
        "main_business": ("主体业态", {"type": "string"}),
        "business_items": ("经营项目", {"type": "string"}),
    }, ["operator_name", "credit_code"], {"operator_name": "name", "credit_code": "id_number"}),
    _type("birth_medical_certificate", "出生医学证明", "BirthMedicalCertificateCredential", "CSYXZM", "natural",
          "", None, {
        "child_name": ("新生儿姓名", NON_EMPTY),
        "sex": ("性别", {"type": "string", "enum": ["男", "女"]}),
        "birth_date": ("出生日期", DATE),
        "birth_place": ("出生地点", {"type": "string"}),
        "gestational_weeks": ("出生孕周", {"type": "integer", "minimum": 20, "maximum": 45}),
        "weight_g": ("出生体重（克）", {"type": "integer", "minimum": 300, "maximum": 7000}),
        "mother_name": ("母亲姓名", NON_EMPTY),
        "mother_id_number": ("母亲有效身份证件号码", {"type": "string"}),
        "father_name": ("父亲姓名", {"type": "string"}),
        "father_id_number": ("父亲有效身份证件号码", {"type": "string"}),
        "institution": ("接生机构", {"type": "string"}),
    }, ["child_name", "sex", "birth_date", "mother_name"], {}),
    _type("public_gathering_fire_safety", "公众聚集场所投入使用营业前消防安全检查合格证",
          "PublicGatheringFireSafetyCredential", "XFAJ", "legal", "", None, {
        "venue_name": ("场所名称", NON_EMPTY),
        "operator": ("使用单位", {"type": "string"}),
        "address": ("场所地址", NON_EMPTY),
        "usage": ("使用性质", {"type": "string"}),
        "floor_area_m2": ("使用面积（平方米）", {"type": "number", "exclusiveMinimum": 0}),
    }, ["venue_name", "address"], {"operator": "name"}),
    _type("outdoor_signboard", "户外招牌设置许可", "OutdoorSignboardPermitCredential", "HWZP", "any", "", 3, {
        "applicant": ("设置人", NON_EMPTY),
        "location": ("设置地点", NON_EMPTY),
        "content": ("招牌内容", NON_EMPTY),
        "size": ("规格（长×宽，米）", {"type": "string"}),
        "material": ("材质", {"type": "string"}),
    }, ["applicant", "location", "content"], {"applicant": "name"}),
    _type("social_security_card", "社会保障卡", "SocialSecurityCardCredential", "SBK", "natural", "", 10, {
        "name": ("姓名", NON_EMPTY),
        "id_number": ("社会保障号码", NON_EMPTY),
        "card_number": ("卡号", {"type": "string"}),
        "bank": ("服务银行", {"type": "string"}),
    }, ["name", "id_number"], {"name": "name", "id_number": "id_number"}),
    _type("resident_id_card", "居民身份证", "ResidentIdCardCredential", "SFZ", "natural", "", 20, {
        "name": ("姓名", NON_EMPTY),
        "sex": ("性别", {"type": "string", "enum": ["男", "女"]}),
        "ethnicity": ("民族", {"type": "string"}),
        "birth_date": ("出生", DATE),
        "address": ("住址", {"type": "string"}),
        "id_number": ("公民身份号码", NON_EMPTY),
    }, ["name", "id_number"], {"name": "name", "id_number": "id_number"}),
    _type("household_register_booklet", "居民户口簿", "HouseholdRegisterCredential", "HKB", "natural", "", None, {
        "householder": ("户主姓名", NON_EMPTY),
        "household_type": ("户别", {"type": "string"}),
        "address": ("住址", NON_EMPTY),
        "members": ("户内成员", {"type": "array", "items": {"type": "object", "properties": {
            "name": {"type": "string"}, "relation": {"type": "string"}, "id_number": {"type": "string"}}}}),
    }, ["householder", "address"], {"householder": "name"}),
    _type("vaccination_certificate", "预防接种证", "VaccinationCertificateCredential", "YFJZ", "natural", "",
          None, {
        "child_name": ("儿童姓名", NON_EMPTY),
        "birth_date": ("出生日期", DATE),
        "guardian_name": ("监护人姓名", {"type": "string"}),
        "clinic": ("接种单位", {"type": "string"}),
    }, ["child_name"], {"guardian_name": "name"}),
]

for _spec in BUILTIN_TYPES:
    register_licence_type(_spec)
