"""Demo data of enforcement: the benchmark table (six real items), the enforcement staff of 市场监管局 and 城管局,
and cases at several steps (one decided, served, closed and published). Idempotent; everything is fictional
except the laws, articles and statutory ranges.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from django.db import transaction
from rich.console import Console

from tongban.core import events
from tongban.core import services as core_services
from tongban.core.demo import DEMO_PASSWORD
from tongban.core.models import Organisation, Role, User

from . import importing, services
from .models import EnforcementCase, Lead

BENCHMARKS = Path(__file__).parent / "demo" / "benchmarks.yaml"

# (username, display name, organisation, role)
CERTIFICATES = {"officer-scjg": ("91010012026001", "市场监管"), "officer-cg": ("91010022026001", "城市管理")}
ACCOUNTS: list[tuple[str, str, str, str]] = [
    ("officer-scjg", "林执法（市场监管局执法人员）", "yx-scjg", Role.ENFORCEMENT_OFFICER),
    ("legal-scjg", "许法审（市场监管局法制审核）", "yx-scjg", Role.LEGAL_REVIEWER),
    ("head-scjg", "高局长（市场监管局负责人）", "yx-scjg", Role.ENFORCEMENT_HEAD),
    ("officer-cg", "马执法（城管局执法人员）", "yx-cg", Role.ENFORCEMENT_OFFICER),
    ("legal-cg", "罗法审（城管局法制审核）", "yx-cg", Role.LEGAL_REVIEWER),
    ("head-cg", "宋局长（城管局负责人）", "yx-cg", Role.ENFORCEMENT_HEAD),
]

WEIDAO = ("云溪味道餐饮管理有限公司", "91910102MA1YX0002L")
BIANLI = ("东门便利店", "92910103MA1YX0003M")
WANGFANG = ("王芳", "910103199207081526")
PHOTO = b"\x89PNG\r\n\x1a\n demo photo of the inspected kitchen"


def accounts() -> dict[str, User]:
    core_services.ensure_standard_roles()
    users = {}
    for username, display, org_code, role in ACCOUNTS:
        org = Organisation.objects.get(code=org_code)
        user = core_services.upsert_user(username, password=DEMO_PASSWORD, display_name=display,
                                         kind=User.Kind.STAFF, organisation=org, is_staff=True)
        core_services.grant_role(user, role, org)
        if username in CERTIFICATES:
            number, field = CERTIFICATES[username]
            services.certify(user, org, number, field=field, valid_until=date(2030, 12, 31))
        users[username] = user
    return users


def _cases(users: dict[str, User]) -> int:
    if EnforcementCase.objects.filter(summary__startswith="【演示】").exists():
        return 0
    officer, legal, head = users["officer-scjg"], users["legal-scjg"], users["head-scjg"]
    # 1. decided, served, executed, closed and published
    lead = services.report_lead(source=Lead.Source.POST_CHECK, entity_name=WEIDAO[0], entity_uscc=WEIDAO[1],
                                item_code="SP-122", description="【演示】告知承诺制事后核查：未取得食品经营许可即开展经营",
                                department_code="yx-scjg")
    case = services.open_case(officer, item_code="SP-122", lead=lead, facts={"goods_value": 1500},
                              summary="【演示】事后核查发现未取得食品经营许可从事餐饮经营，货值金额1500元")
    services.decide_filing(case, head, approve=True, opinion="同意立案")
    services.append_record(case, officer, "现场检查", "现场检查后厨，制作现场检查笔录并拍照",
                           attachments=[{"name": "后厨照片.png", "kind": "photo", "content": PHOTO},
                                        {"name": "执法记录仪视频.mp4", "kind": "video",
                                         "uri": "evidence://yx-scjg/2026/bodycam-0001.mp4",
                                         "sha256": "9f2b5c0e4a6d4a8f1b3c7e9d2a4f6b8c0e2d4f6a8b0c2e4f6a8b0c2d4e6f8a0b",
                                         "size": 10485760}])
    services.finish_investigation(case, officer, penalty_kinds=["confiscate_income", "fine"], fine=50000,
                                  note="调查终结：货值金额1500元，属轻微情节")
    services.give_notice(case, officer, "送达行政处罚告知书，告知陈述、申辩和听证权利")
    services.end_notice(case, officer, waived=True, text="当事人书面放弃陈述申辩和听证")
    services.decide(case, head, penalty_kinds=["confiscate_income", "fine"], fine=50000,
                    decision_text="没收违法所得，并处罚款五万元")
    services.serve(case, officer, method="直接送达")
    services.execute(case, officer, note="罚款已缴纳")
    services.close(case, officer, "结案")
    services.publish(case, officer)
    # 2. a major case waiting for 法制审核
    case = services.open_case(officer, item_code="SP-122", party_name=BIANLI[0], party_id_number=BIANLI[1],
                              facts={"goods_value": 20000}, summary="【演示】投诉举报：无证销售预包装食品，货值金额2万元")
    services.decide_filing(case, head, approve=True, opinion="同意立案")
    services.finish_investigation(case, officer, penalty_kinds=["confiscate_income", "fine"], fine=200000,
                                  note="货值金额2万元，拟处货值金额十倍罚款")
    # 3. 城管: a natural person, notified, within the hearing window
    officer_cg, head_cg = users["officer-cg"], users["head-cg"]
    case = services.open_case(officer_cg, item_code="DQ-118", party_name=WANGFANG[0], party_id_number=WANGFANG[1],
                              party_kind=EnforcementCase.PartyKind.NATURAL, facts={"exceed_multiple": 1.2},
                              summary="【演示】巡查发现烧烤店油烟超标排放，超标1.2倍")
    services.decide_filing(case, head_cg, approve=True, opinion="同意立案")
    services.finish_investigation(case, officer_cg, penalty_kinds=["fine"], fine=20000, note="超标1.2倍，较重情节")
    services.give_notice(case, officer_cg, "送达行政处罚告知书")
    del legal
    # 4. a lead from a risk warning, waiting
    events.enforcement_lead_reported.send(
        sender="demo", source="risk", entity_uscc="91910103MA1YX0009Q", entity_name="云溪河东冷链仓储有限公司",
        item_code="SP-126", description="【演示】风险预警：冷链食品进货查验记录缺失", department_code="yx-scjg")
    return 3


@transaction.atomic
def load(console: Console) -> None:
    result = importing.import_file(BENCHMARKS)
    users = accounts()
    cases = _cases(users)
    console.print(f"[green]enforcement[/green]: {result.items} 个执法事项（{result.levels} 个裁量等级，"
                  f"{result.factors} 个裁量因素）, {len(users)} 个执法账号, {cases} 个演示案件")
