"""Demo data for the data exchange: five registers of 云溪市, their records, grants, a client, data owners.

Everything is fictional (the division prefix 91 does not exist). Idempotent.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from rich.console import Console

from tongban.core import services as core_services
from tongban.core.demo import DEMO_PASSWORD, ID_NUMBERS
from tongban.core.models import Organisation, Role, User

from . import services
from .models import MASKED_SENSITIVITIES, DataResource, ExchangeClient, Grant, SharingType, UpdateFrequency

ID = ID_NUMBERS  # zhangsan, lisi, yunxi-tech
WANGFANG = "910103199207081526"
ZHAOQIANG = "910102198512123456"
WEIDAO = "91910102MA1YX0002L"  # 云溪味道餐饮管理有限公司
BIANLI = "92910103MA1YX0003M"  # 东门便利店（个体工商户）

ID_PATTERN = r"^[0-9]{17}[0-9X]$"
CREDIT_PATTERN = r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$"
SUBJECT_PATTERN = r"^([0-9]{17}[0-9X]|[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10})$"


PUBLIC, INTERNAL, PERSONAL, SENSITIVE = "public", "internal", "personal", "sensitive_personal"
DATE = {"format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}


def _s(title: str, level: str, **kw: Any) -> tuple[dict[str, Any], str]:
    """A string field: its JSON Schema and its sensitivity."""
    return {"title": title, "type": "string", **kw}, level


def _resource(code: str, name: str, owner: str, description: str, sharing_type: str, update_frequency: str,
              sharing_conditions: str, subject_field: str, fields: dict[str, tuple[dict[str, Any], str]],
              required: list[str]) -> dict[str, Any]:
    """A demo register: ``fields`` maps each field to (JSON Schema, sensitivity)."""
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": name, "type": "object",
              "properties": {k: spec for k, (spec, _level) in fields.items()}, "required": required,
              "additionalProperties": False}
    return {"code": code, "name": name, "owner": owner, "description": description, "sharing_type": sharing_type,
            "update_frequency": update_frequency, "sharing_conditions": sharing_conditions,
            "subject_field": subject_field, "schema": schema,
            "sensitivity": {k: level for k, (_spec, level) in fields.items()}}


RESOURCES: list[dict[str, Any]] = [
    _resource(
        "household_register", "户籍人口基本信息", "yx-ga", "常住户口登记的人口基本信息（户籍），用于身份和户籍核验。",
        SharingType.CONDITIONAL, UpdateFrequency.REALTIME,
        "用于依法办理政务服务事项的身份、户籍核验；须取得本人授权。", "id_number", {
            "id_number": _s("公民身份号码", SENSITIVE, pattern=ID_PATTERN),
            "name": _s("姓名", PERSONAL),
            "gender": _s("性别", PERSONAL, enum=["男", "女"]),
            "ethnicity": _s("民族", SENSITIVE),
            "birth_date": _s("出生日期", PERSONAL, **DATE),
            "household_address": _s("户籍地址", PERSONAL),
            "household_type": _s("户口性质", INTERNAL, enum=["家庭户", "集体户"]),
            "household_head_name": _s("户主姓名", PERSONAL),
            "relation_to_head": _s("与户主关系", PERSONAL),
            "registration_authority": _s("户口登记机关", PUBLIC),
        }, ["id_number", "name", "gender", "birth_date", "household_address"]),
    _resource(
        "business_register", "市场主体登记信息", "yx-scjg", "企业、个体工商户等市场主体的登记信息（营业执照信息）。",
        SharingType.UNCONDITIONAL, UpdateFrequency.REALTIME,
        "无条件共享；法定代表人身份号码为敏感个人信息，默认脱敏。", "unified_credit_code", {
            "unified_credit_code": _s("统一社会信用代码", PUBLIC, pattern=CREDIT_PATTERN),
            "enterprise_name": _s("名称", PUBLIC),
            "enterprise_type": _s("类型", PUBLIC),
            "legal_representative": _s("法定代表人（负责人、经营者）", PUBLIC),
            "legal_representative_id_number": _s("法定代表人身份号码", SENSITIVE, pattern=ID_PATTERN),
            "registered_capital": ({"title": "注册资本（万元）", "type": "number", "minimum": 0}, PUBLIC),
            "established_on": _s("成立日期", PUBLIC, **DATE),
            "registered_address": _s("住所（经营场所）", PUBLIC),
            "business_scope": _s("经营范围", PUBLIC),
            "status": _s("登记状态", PUBLIC, enum=["存续", "吊销", "注销", "迁出"]),
            "registration_authority": _s("登记机关", PUBLIC),
        }, ["unified_credit_code", "enterprise_name", "enterprise_type", "legal_representative", "status"]),
    _resource(
        "social_insurance", "社会保险参保信息", "yx-rsj", "职工和城乡居民的社会保险参保登记与缴费状态。",
        SharingType.CONDITIONAL, UpdateFrequency.MONTHLY,
        "用于办理社保、医保、公积金等事项时核验参保状态；须取得本人授权。", "id_number", {
            "id_number": _s("公民身份号码", SENSITIVE, pattern=ID_PATTERN),
            "name": _s("姓名", PERSONAL),
            "insurance_types": ({"title": "参保险种", "type": "array", "items": {"type": "string"}}, INTERNAL),
            "employer_name": _s("参保单位", INTERNAL),
            "employer_credit_code": _s("参保单位统一社会信用代码", INTERNAL),
            "status": _s("参保状态", INTERNAL, enum=["正常参保", "暂停缴费", "终止参保"]),
            "first_insured_on": _s("首次参保日期", PERSONAL, **DATE),
            "months_paid": ({"title": "累计缴费月数", "type": "integer", "minimum": 0}, PERSONAL),
        }, ["id_number", "name", "status"]),
    _resource(
        "real_estate_register", "不动产登记信息", "yx-zrzy", "房屋等不动产的权属登记信息，用于住所（经营场所）证明。",
        SharingType.CONDITIONAL, UpdateFrequency.REALTIME,
        "用于核验住所、经营场所权属；须取得权利人授权。", "owner_id_number", {
            "certificate_no": _s("不动产权证书号", INTERNAL),
            "owner_name": _s("权利人", PERSONAL),
            "owner_id_number": _s("权利人证件号码", SENSITIVE, pattern=SUBJECT_PATTERN),
            "location": _s("坐落", PERSONAL),
            "usage": _s("用途", INTERNAL, enum=["住宅", "商业", "办公", "工业"]),
            "area_sqm": ({"title": "建筑面积（平方米）", "type": "number", "exclusiveMinimum": 0}, INTERNAL),
            "ownership_type": _s("共有情况", INTERNAL, enum=["单独所有", "共同共有", "按份共有"]),
            "registered_on": _s("登记日期", INTERNAL, **DATE),
            "encumbrances": _s("抵押、查封情况", INTERNAL),
        }, ["certificate_no", "owner_name", "owner_id_number", "location", "usage"]),
    _resource(
        "birth_medical_certificate", "出生医学证明信息", "yx-wsjk",
        "助产机构签发的出生医学证明信息，按监护人（申请人）身份号码查询。",
        SharingType.CONDITIONAL, UpdateFrequency.REALTIME,
        "用于出生一件事（出生登记、医保参保、社保卡申领）；须取得监护人授权。", "guardian_id_number", {
            "certificate_no": _s("出生医学证明编号", INTERNAL, pattern=r"^[A-Z][0-9]{9}$"),
            "child_name": _s("新生儿姓名", PERSONAL),
            "child_gender": _s("性别", PERSONAL, enum=["男", "女"]),
            "child_birth_date": _s("出生日期", PERSONAL, **DATE),
            "birth_place": _s("出生地点", PERSONAL),
            "birth_hospital": _s("接生机构", INTERNAL),
            "mother_name": _s("母亲姓名", PERSONAL),
            "mother_id_number": _s("母亲身份号码", SENSITIVE, pattern=ID_PATTERN),
            "father_name": _s("父亲姓名", PERSONAL),
            "father_id_number": _s("父亲身份号码", SENSITIVE, pattern=ID_PATTERN),
            "guardian_id_number": _s("监护人（申请人）身份号码", SENSITIVE, pattern=ID_PATTERN),
            "issued_on": _s("签发日期", INTERNAL, **DATE),
        }, ["certificate_no", "child_name", "child_gender", "child_birth_date", "mother_name",
            "guardian_id_number"]),
]

RECORDS: dict[str, list[dict[str, Any]]] = {
    "household_register": [
        {"id_number": ID["zhangsan"], "name": "张三", "gender": "男", "ethnicity": "汉族", "birth_date": "1990-01-01",
         "household_address": "东川省云溪市青山区翠湖街道翠湖路18号2栋301室", "household_type": "家庭户",
         "household_head_name": "张三", "relation_to_head": "户主", "registration_authority": "云溪市公安局青山分局翠湖派出所"},
        {"id_number": ID["lisi"], "name": "李四", "gender": "女", "ethnicity": "汉族", "birth_date": "1988-03-15",
         "household_address": "东川省云溪市青山区翠湖街道翠湖路18号2栋301室", "household_type": "家庭户",
         "household_head_name": "张三", "relation_to_head": "妻", "registration_authority": "云溪市公安局青山分局翠湖派出所"},
        {"id_number": WANGFANG, "name": "王芳", "gender": "女", "ethnicity": "回族", "birth_date": "1992-07-08",
         "household_address": "东川省云溪市河东区东门街道东门大街66号", "household_type": "家庭户",
         "household_head_name": "王芳", "relation_to_head": "户主", "registration_authority": "云溪市公安局河东分局东门派出所"},
        {"id_number": ZHAOQIANG, "name": "赵强", "gender": "男", "ethnicity": "汉族", "birth_date": "1985-12-12",
         "household_address": "东川省云溪市青山区石桥镇石桥村5组21号", "household_type": "家庭户",
         "household_head_name": "赵强", "relation_to_head": "户主", "registration_authority": "云溪市公安局青山分局石桥派出所"},
    ],
    "business_register": [
        {"unified_credit_code": ID["yunxi-tech"], "enterprise_name": "云溪星火科技有限公司",
         "enterprise_type": "有限责任公司（自然人投资或控股）", "legal_representative": "张三",
         "legal_representative_id_number": ID["zhangsan"], "registered_capital": 100.0, "established_on": "2024-05-20",
         "registered_address": "东川省云溪市青山区翠湖街道科创大道88号A座1201室",
         "business_scope": "软件开发；信息技术咨询服务；数据处理服务", "status": "存续",
         "registration_authority": "云溪市市场监督管理局"},
        {"unified_credit_code": WEIDAO, "enterprise_name": "云溪味道餐饮管理有限公司",
         "enterprise_type": "有限责任公司（自然人独资）", "legal_representative": "赵强",
         "legal_representative_id_number": ZHAOQIANG, "registered_capital": 50.0, "established_on": "2026-03-02",
         "registered_address": "东川省云溪市青山区翠湖街道美食街12号", "business_scope": "餐饮服务；食品销售",
         "status": "存续", "registration_authority": "云溪市青山区市场监督管理局"},
        {"unified_credit_code": BIANLI, "enterprise_name": "云溪市河东区东门便利店", "enterprise_type": "个体工商户",
         "legal_representative": "王芳", "legal_representative_id_number": WANGFANG, "registered_capital": 5.0,
         "established_on": "2021-09-10", "registered_address": "东川省云溪市河东区东门街道东门大街66号一层",
         "business_scope": "日用百货零售；预包装食品销售", "status": "存续",
         "registration_authority": "云溪市河东区市场监督管理局"},
    ],
    "social_insurance": [
        {"id_number": ID["zhangsan"], "name": "张三", "insurance_types": ["企业职工基本养老保险", "失业保险", "工伤保险"],
         "employer_name": "云溪星火科技有限公司", "employer_credit_code": ID["yunxi-tech"], "status": "正常参保",
         "first_insured_on": "2012-07-01", "months_paid": 172},
        {"id_number": ID["lisi"], "name": "李四", "insurance_types": ["城乡居民基本养老保险"], "employer_name": "",
         "employer_credit_code": "", "status": "正常参保", "first_insured_on": "2015-01-01", "months_paid": 130},
        {"id_number": WANGFANG, "name": "王芳", "insurance_types": ["企业职工基本养老保险（灵活就业）"],
         "employer_name": "", "employer_credit_code": "", "status": "正常参保", "first_insured_on": "2014-03-01",
         "months_paid": 148},
        {"id_number": ZHAOQIANG, "name": "赵强", "insurance_types": ["企业职工基本养老保险", "失业保险", "工伤保险"],
         "employer_name": "云溪味道餐饮管理有限公司", "employer_credit_code": WEIDAO, "status": "正常参保",
         "first_insured_on": "2008-09-01", "months_paid": 206},
    ],
    "real_estate_register": [
        {"certificate_no": "东(2019)云溪市不动产权第0012345号", "owner_name": "张三", "owner_id_number": ID["zhangsan"],
         "location": "青山区翠湖街道翠湖路18号2栋301室", "usage": "住宅", "area_sqm": 98.6,
         "ownership_type": "共同共有", "registered_on": "2019-06-11", "encumbrances": "抵押（云溪农商银行）"},
        {"certificate_no": "东(2025)云溪市不动产权第0034567号", "owner_name": "赵强", "owner_id_number": ZHAOQIANG,
         "location": "青山区翠湖街道美食街12号", "usage": "商业", "area_sqm": 156.0, "ownership_type": "单独所有",
         "registered_on": "2025-12-01", "encumbrances": "无"},
        {"certificate_no": "东(2024)云溪市不动产权第0023456号", "owner_name": "云溪星火科技有限公司",
         "owner_id_number": ID["yunxi-tech"], "location": "青山区翠湖街道科创大道88号A座1201室", "usage": "办公",
         "area_sqm": 210.5, "ownership_type": "单独所有", "registered_on": "2024-04-28", "encumbrances": "无"},
    ],
    "birth_medical_certificate": [
        {"certificate_no": "R910012345", "child_name": "张小溪", "child_gender": "女", "child_birth_date": "2026-11-02",
         "birth_place": "东川省云溪市青山区", "birth_hospital": "云溪市妇幼保健院", "mother_name": "李四",
         "mother_id_number": ID["lisi"], "father_name": "张三", "father_id_number": ID["zhangsan"],
         "guardian_id_number": ID["zhangsan"], "issued_on": "2026-11-04"},
        {"certificate_no": "R910012388", "child_name": "刘一诺", "child_gender": "男", "child_birth_date": "2026-10-15",
         "birth_place": "东川省云溪市河东区", "birth_hospital": "云溪市第一人民医院", "mother_name": "王芳",
         "mother_id_number": WANGFANG, "father_name": "刘明", "father_id_number": "910103199001205512",
         "guardian_id_number": WANGFANG, "issued_on": "2026-10-17"},
    ],
}

ALL = None  # every field of the resource

# (consumer, resource, fields or ALL, unmasked fields, purpose, legal basis)
GRANTS: list[tuple[str, str, list[str] | None, list[str], str, str]] = [
    # 开办企业一件事
    ("yx-scjg", "household_register", ["id_number", "name", "gender", "birth_date", "household_address"],
     ["id_number", "name"], "企业设立登记中核验法定代表人身份", "《中华人民共和国市场主体登记管理条例》"),
    ("yx-scjg", "real_estate_register", ["certificate_no", "owner_name", "owner_id_number", "location", "usage",
                                         "area_sqm"],
     ["owner_name", "location"], "核验住所（经营场所）使用证明", "《中华人民共和国市场主体登记管理条例》"),
    ("yx-ga", "business_register", ALL, [], "公章刻制备案核验企业登记信息", "《印铸刻字业暨印章业治安管理办法》"),
    ("yx-sw", "business_register", ALL, [], "新办纳税人发票申领", "《中华人民共和国税收征收管理法》"),
    ("yx-rsj", "business_register", ALL, [], "单位社会保险登记", "《中华人民共和国社会保险法》"),
    ("yx-gjj", "business_register", ALL, [], "单位住房公积金缴存登记", "《住房公积金管理条例》"),
    ("yx-gjj", "social_insurance", ["id_number", "name", "employer_name", "status"], ["name"],
     "核验职工就业参保状态", "《住房公积金管理条例》"),
    # 出生一件事
    ("yx-wsjk", "household_register", ["id_number", "name", "gender", "household_address"], ["id_number", "name"],
     "签发出生医学证明时核验父母身份", "《中华人民共和国母婴保健法》"),
    ("yx-ga", "birth_medical_certificate", ALL,
     ["child_name", "child_gender", "child_birth_date", "birth_place", "mother_name", "mother_id_number",
      "father_name", "father_id_number"], "新生儿出生登记（报户口）", "《中华人民共和国户口登记条例》"),
    ("yx-ybj", "household_register", ["id_number", "name", "household_address"], ["id_number", "name"],
     "城乡居民医保参保登记", "《中华人民共和国社会保险法》"),
    ("yx-ybj", "birth_medical_certificate", ["certificate_no", "child_name", "child_gender", "child_birth_date",
                                             "mother_name", "father_name"],
     ["child_name", "child_gender", "child_birth_date"], "新生儿城乡居民医保参保", "《中华人民共和国社会保险法》"),
    ("yx-ybj", "social_insurance", ["id_number", "name", "status"], [], "核验参保状态", "《中华人民共和国社会保险法》"),
    ("yx-rsj", "household_register", ["id_number", "name", "gender", "birth_date"], ["id_number", "name"],
     "社会保障卡申领", "《社会保障卡管理办法》"),
    ("yx-rsj", "birth_medical_certificate", ["certificate_no", "child_name", "child_gender", "child_birth_date",
                                             "guardian_id_number"],
     ["child_name", "child_gender", "child_birth_date"], "新生儿社会保障卡申领", "《社会保障卡管理办法》"),
    # 餐饮店开店一件事
    ("yx-scjg", "business_register", ALL, [], "食品经营许可核验主体资格", "《食品经营许可和备案管理办法》"),
    ("qs-scjg", "business_register", ALL, [], "营业执照与食品经营许可", "《中华人民共和国市场主体登记管理条例》"),
    ("qs-scjg", "real_estate_register", ["certificate_no", "owner_name", "location", "usage", "area_sqm"],
     ["owner_name", "location"], "核验经营场所", "《中华人民共和国市场主体登记管理条例》"),
    ("yx-xf", "business_register", ALL, [], "公众聚集场所投入使用营业前消防安全检查", "《中华人民共和国消防法》"),
    ("yx-xf", "real_estate_register", ["certificate_no", "owner_name", "location", "usage", "area_sqm"],
     ["location"], "核验场所用途和面积", "《中华人民共和国消防法》"),
    ("yx-cg", "business_register", ALL, [], "户外招牌设置审批", "《城市市容和环境卫生管理条例》"),
    ("yx-cg", "real_estate_register", ["location", "usage", "owner_name"], ["location"],
     "核验招牌设置场所", "《城市市容和环境卫生管理条例》"),
    # 综合窗口（一窗受理时核验申请人身份）
    ("yx-zwzx", "household_register", ["id_number", "name", "gender"], [], "综合窗口受理时核验申请人身份",
     "《国务院关于加快推进全国一体化在线政务服务平台建设的指导意见》"),
    ("yx-zwzx", "business_register", ALL, [], "综合窗口受理时核验企业信息",
     "《国务院关于加快推进全国一体化在线政务服务平台建设的指导意见》"),
]

# A request still waiting for the owner's decision, so the data owner has something to decide.
PENDING = ("yx-jt", "real_estate_register", ["certificate_no", "owner_name", "location", "usage", "area_sqm"],
           "道路运输经营场所核验", "《中华人民共和国道路运输条例》")

# Data owners (数据提供部门人员) of the five registers; password as every demo account.
DATA_OWNERS = [
    ("data-ga", "钱数据（公安局）", "yx-ga"),
    ("data-scjg", "孔数据（市场监管局）", "yx-scjg"),
    ("data-rsj", "曹数据（人社局）", "yx-rsj"),
    ("data-zrzy", "严数据（自然资源局）", "yx-zrzy"),
    ("data-wsjk", "华数据（卫健委）", "yx-wsjk"),
]

DEMO_CLIENT_NAME = "人社局社会保险业务系统"
DEMO_CLIENT_KEY = "demo0001.tongban-demo-exchange-client-key"  # demo only: printed on the docs page


def _grants_for_catalogue(resources: dict[str, DataResource], orgs: dict[str, Organisation], admin: User | None
                          ) -> int:
    """Every department whose catalogue item asks for a shared-data material gets a grant for it, so
    that each such material can be fetched in the demo (免证办理). Personal fields come in clear:
    the department handles the applicant's own case."""
    from tongban.catalog.models import Material

    wanted = set()
    rows = Material.objects.filter(source=Material.Source.SHARED).values_list(
        "item__competent_department__code", "item__implementing_org__code", "data_resource")
    for competent, implementing, code in rows:
        for org in {competent, implementing}:
            if org and org in orgs and code in resources and org != resources[code].owner.code:
                wanted.add((org, code))
    created = 0
    for org, code in sorted(wanted):
        resource = resources[code]
        personal = [f for f in resource.field_names if resource.sensitivity_of(f) in MASKED_SENSITIVITIES]
        created += _approved_grant(resource, orgs[org], resource.field_names, personal,
                                   "办理本部门政务服务事项（免证办理）",
                                   "《优化营商环境条例》第三十五条；《政务信息资源共享管理暂行办法》", admin,
                                   note="演示数据：按事项材料清单批准")
    return created


def _approved_grant(resource: DataResource, consumer: Organisation, fields: list[str], unmasked: list[str],
                    purpose: str, basis: str, admin: User | None, *, note: str) -> int:
    """Request and approve a grant unless the consumer already holds an approved one; 1 when one was made."""
    if Grant.objects.filter(consumer=consumer, resource=resource, status=Grant.Status.APPROVED).exists():
        return 0
    grant = services.request_grant(resource=resource, consumer=consumer, fields=fields, unmasked_fields=unmasked,
                                   purpose=purpose, legal_basis=basis)
    if grant.status == Grant.Status.REQUESTED:
        services.decide_grant(grant, actor=admin, approve=True, note=note)
    return 1


@transaction.atomic
def load(console: Console) -> None:
    orgs = {o.code: o for o in Organisation.objects.all()}
    resources: dict[str, DataResource] = {}
    for spec in RESOURCES:
        resources[spec["code"]] = services.save_resource(
            code=spec["code"], name=spec["name"], owner=orgs[spec["owner"]], schema=spec["schema"],
            field_sensitivity=spec["sensitivity"], subject_field=spec["subject_field"],
            sharing_type=spec["sharing_type"], update_frequency=spec["update_frequency"],
            description=spec["description"], sharing_conditions=spec["sharing_conditions"],
        )
    records = 0
    for code, rows in RECORDS.items():
        for row in rows:
            services.upsert_provider_record(resources[code], row)
            records += 1
    for username, display, org in DATA_OWNERS:
        user = core_services.upsert_user(username, password=DEMO_PASSWORD, display_name=display,
                                         kind=User.Kind.STAFF, organisation=orgs[org], is_staff=True)
        core_services.grant_role(user, Role.DATA_OWNER, orgs[org])
    admin = User.objects.filter(username="admin").first()
    created = 0
    for consumer, code, fields, unmasked, purpose, basis in GRANTS:
        if consumer in orgs:
            resource = resources[code]
            created += _approved_grant(resource, orgs[consumer], resource.field_names if fields is None else fields,
                                       unmasked, purpose, basis, admin, note="演示数据：已批准")
    created += _grants_for_catalogue(resources, orgs, admin)
    consumer, code, fields, purpose, basis = PENDING
    if consumer in orgs and not Grant.objects.filter(consumer=orgs[consumer], resource=resources[code]).exists():
        services.request_grant(resource=resources[code], consumer=orgs[consumer], fields=fields, purpose=purpose,
                               legal_basis=basis)
    prefix, secret = DEMO_CLIENT_KEY.split(".", 1)
    if not ExchangeClient.objects.filter(key_prefix=prefix).exists():
        ExchangeClient.objects.create(name=DEMO_CLIENT_NAME, organisation=orgs["yx-rsj"], key_prefix=prefix,
                                      key_hash=services.hash_client_key(secret))
    console.print(f"[green]exchange[/green]: {len(resources)} 个数据资源, {records} 条本地记录, "
                  f"新增 {created} 项共享授权, {len(DATA_OWNERS)} 个数据管理员账号, 演示接入系统密钥 {DEMO_CLIENT_KEY}")
