"""Demo data for supervision: who supervises which item (审管联动), 320 market entities of the demo city across its
divisions with some credit history, 15 inspectors in three departments, three 双随机 plans and one published draw.

Everything is generated from a fixed seed, so loading twice gives the same register (idempotent).
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from rich.console import Console

from tongban.catalog import services as catalog_services
from tongban.catalog.errors import CatalogError
from tongban.core.models import Division, Organisation, User

from . import services, uscc
from .models import CreditEvent, Draw, DrawPlan, Inspection, MarketEntity, RiskModel

# item code → (supervising department, what follows the approval)
SUPERVISION: dict[str, tuple[str, str]] = {
    "YX-SCJG-XK-0001-01-01": ("yx-scjg", "纳入企业双随机抽查；年度报告公示"),
    "YX-SCJG-XK-0001-01-02": ("yx-scjg", "登记事项变更后纳入日常监管"),
    "YX-SCJG-XK-0001-01-03": ("yx-scjg", "注销后移出抽查名录"),
    "YX-SCJG-XK-0002-01": ("yx-scjg", "告知承诺事后核查；纳入食品经营双随机抽查"),
    "YX-SCJG-XK-0002-02": ("yx-scjg", "变更事项现场核查"),
    "YX-SCJG-XK-0002-03": ("yx-scjg", "延续后纳入食品经营双随机抽查"),
    "YX-SCJG-XK-0002-04": ("yx-scjg", "注销后移出抽查名录"),
    "QS-SCJG-XK-0001-01": ("qs-scjg", "纳入个体工商户双随机抽查"),
    "YX-WSJK-XK-0001": ("yx-wsjk", "执业登记后现场监督检查"),
    "YX-XF-XK-0001": ("yx-xf", "投入使用后消防监督抽查"),
    "YX-CG-XK-0001": ("yx-cg", "招牌设置后安全巡查"),
    "YX-ZJJ-XK-0001": ("yx-zjj", "施工安全与质量监督"),
    "YX-STHJ-XK-0001": ("yx-sthj", "环评批复落实情况检查"),
    "YX-JT-XK-0001": ("yx-jt", "道路运输经营行为检查"),
}

# (division code, USCC division digits, share of entities, streets of that division)
AREAS: list[tuple[str, str, int, list[str]]] = [
    ("910102001000", "910102", 30, ["翠湖路", "湖滨大道", "柳岸街", "荷花巷", "翠湖北路"]),
    ("910102101000", "910102", 15, ["石桥镇桥东街", "石桥镇工业路", "石桥镇集贸街"]),
    ("910103001000", "910103", 30, ["东门大街", "东门南路", "仓前街", "鼓楼巷", "东关路"]),
    ("910102000000", "910102", 10, ["青山大道", "青山东路", "望山路"]),
    ("910103000000", "910103", 15, ["河东大道", "滨江路", "新河路", "港城路"]),
]

# industry section → (name stems, suffixes, supervising departments besides 市场监管)
TRADES: dict[str, tuple[list[str], list[str], list[str]]] = {
    "H": (["味", "食", "香", "鲜", "家常", "老街", "湘", "川", "粤"], ["餐饮有限公司", "饭店", "小吃店", "酒楼有限公司"],
          ["yx-xf"]),
    "F": (["惠民", "百佳", "优选", "邻里", "万家", "福满"], ["超市有限公司", "便利店", "商贸有限公司", "副食店"], []),
    "I": (["星火", "云端", "数智", "科讯", "启明"], ["科技有限公司", "信息技术有限公司", "软件有限公司"], []),
    "O": (["丽人", "清风", "匠心", "洁雅"], ["美容美发店", "洗浴中心", "家政服务有限公司"], ["yx-wsjk"]),
    "Q": (["仁和", "康宁", "济民", "安康"], ["诊所", "口腔门诊部", "医疗器械有限公司"], ["yx-wsjk"]),
    "R": (["欢乐", "星光", "悦动", "青春"], ["KTV", "健身有限公司", "影城有限公司", "网吧"], ["yx-xf", "yx-wsjk"]),
    "C": (["云溪", "青山", "河东", "恒力"], ["食品厂", "机械制造有限公司", "服装厂"], []),
    "E": (["建安", "恒基", "宏达"], ["建筑工程有限公司", "装饰工程有限公司"], []),
    "L": (["中联", "华信", "博远"], ["商务咨询有限公司", "人力资源服务有限公司"], []),
}
TRADE_WEIGHTS = {"H": 22, "F": 22, "I": 10, "O": 12, "Q": 8, "R": 8, "C": 8, "E": 5, "L": 5}
FAMILY = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段漕钱汤尹黎易常武乔贺赖龚文"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华慧巧美娟霞平刚桂兰玉凤建国志红春梅海燕晓东雪梅文斌"
ENTITY_COUNT = 320

# (code, name, department, division of residence, demo user)
INSPECTORS: list[tuple[str, str, str, str, str | None]] = [
    ("YXSCJG-0101", "钱立新", "yx-scjg", "910102001000", "supervisor"),
    ("YXSCJG-0102", "孙海燕", "yx-scjg", "910103001000", None),
    ("YXSCJG-0103", "李文斌", "yx-scjg", "910102101000", None),
    ("YXSCJG-0104", "周晓东", "yx-scjg", "910100000000", None),
    ("YXSCJG-0105", "吴静", "yx-scjg", "910103000000", None),
    ("YXWSJK-0201", "郑春梅", "yx-wsjk", "910102001000", None),
    ("YXWSJK-0202", "王志红", "yx-wsjk", "910103001000", None),
    ("YXWSJK-0203", "冯建国", "yx-wsjk", "910100000000", None),
    ("YXWSJK-0204", "陈玉凤", "yx-wsjk", "910102000000", None),
    ("YXWSJK-0205", "褚明", "yx-wsjk", "910102101000", None),
    ("YXXF-0301", "卫强", "yx-xf", "910103001000", None),
    ("YXXF-0302", "蒋磊", "yx-xf", "910102001000", None),
    ("YXXF-0303", "沈杰", "yx-xf", "910100000000", None),
    ("YXXF-0304", "韩涛", "yx-xf", "910103000000", None),
    ("YXXF-0305", "杨勇", "yx-xf", "910102101000", None),
]


def _plans(year: int) -> list[dict]:
    return [
        {"code": f"YXSCJG-{year}-01", "name": f"{year} 年度食品经营者双随机抽查", "department": "yx-scjg",
         "industries": ["H", "F"], "ratios": {"A": 0.03, "B": 0.08, "C": 0.2, "D": 0.5},
         "checklist": ["食品经营许可证是否在有效期内", "从业人员健康证明", "进货查验记录", "食品贮存条件",
                       "餐饮具清洗消毒"]},
        {"code": f"YXWSJK-{year}-01", "name": f"{year} 年度公共场所卫生双随机抽查", "department": "yx-wsjk",
         "industries": ["O", "R", "Q"], "ratios": {"A": 0.05, "B": 0.1, "C": 0.25, "D": 0.5},
         "checklist": ["卫生许可证公示", "从业人员健康检查", "公共用品用具清洗消毒", "空气质量与通风"]},
        {"code": f"YXXF-{year}-01", "name": f"{year} 年度人员密集场所消防安全双随机抽查", "department": "yx-xf",
         "industries": ["H", "R"], "ratios": {"A": 0.05, "B": 0.1, "C": 0.3, "D": 0.6},
         "checklist": ["疏散通道与安全出口畅通", "消防设施器材完好有效", "消防安全责任制落实", "员工消防培训记录"]},
    ]


def entity_rows(count: int = ENTITY_COUNT, seed: int = 20260101) -> list[dict]:
    """The demo register: ``count`` realistic entities (fixed seed), as rows :func:`services.load_entities` takes."""
    rng = random.Random(seed)
    areas = [a for a in AREAS for _ in range(a[2])]
    trades = [t for t, w in TRADE_WEIGHTS.items() for _ in range(w)]
    rows, seen = [], set()
    serial = 1
    while len(rows) < count:
        division, digits, _share, streets = rng.choice(areas)
        trade = rng.choice(trades)
        stems, suffixes, extra = TRADES[trade]
        suffix = rng.choice(suffixes)
        individual = not suffix.endswith("公司")
        area_name = {"910102": "青山区", "910103": "河东区"}[digits]
        owner = rng.choice(FAMILY) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
        name = (f"{area_name}{owner[:1]}{rng.choice(stems)}{suffix}" if individual
                else f"云溪{rng.choice(stems)}{rng.choice(stems)}{suffix}")
        if name in seen:
            continue
        seen.add(name)
        prefix = ("92" if individual else "91") + digits
        code = uscc.make(prefix, f"MA{serial:07d}")
        serial += 1
        depts = ["yx-scjg"] + (["qs-scjg"] if individual and digits == "910102" else []) + extra
        established = date(2008, 1, 1) + timedelta(days=rng.randrange(0, 6500))
        rows.append({"uscc": code, "name": name, "kind": "individual_business" if individual else "legal_person",
                     "division": division, "address": f"{rng.choice(streets)}{rng.randrange(1, 400)}号",
                     "industry": trade, "legal_representative": owner, "established_on": established.isoformat(),
                     "departments": depts})
    return rows


def _history(rng: random.Random, entity: MarketEntity, today: date) -> list[tuple[str, str, int]]:
    """Some credit events for an entity: (kind, description, days ago)."""
    out: list[tuple[str, str, int]] = []
    roll = rng.random()
    if roll < 0.04:
        out.append(("commitment_breach", "食品经营许可告知承诺经营场所与实际不符", rng.randrange(20, 200)))
    elif roll < 0.07:
        out.append(("serious_penalty", "销售不符合食品安全标准的食品，情节严重", rng.randrange(60, 700)))
    elif roll < 0.17:
        out.append(("penalty", rng.choice(["未按规定公示营业执照", "超范围经营", "未建立进货查验记录"]),
                    rng.randrange(30, 900)))
    if rng.random() < 0.1:
        out.append(("complaint_upheld", "12345 投诉：价格标示不清，经核查属实", rng.randrange(10, 400)))
    if rng.random() < 0.2:
        out.append(("inspection_passed", "上年度双随机抽查未发现问题", rng.randrange(200, 500)))
    return out


@transaction.atomic
def load(console: Console) -> None:
    for item_code, (dept, follow_up) in SUPERVISION.items():
        try:
            catalog_services.set_supervision(item_code, dept, follow_up, reason="演示数据：审管联动配置")
        except CatalogError:
            continue  # the item or department is not in this catalogue
    rows = entity_rows()
    company = User.objects.filter(username="yunxi-tech").first()
    if company is not None and company.id_number and Division.objects.filter(code="910100000000").exists():
        rows.append({"uscc": company.id_number, "name": company.display_name or company.username,
                     "kind": "legal_person", "division": "910100000000", "address": "云溪市青山区翠湖路88号",
                     "industry": "I", "legal_representative": "林云溪", "established_on": "2019-05-20",
                     "departments": ["yx-scjg"]})
    services.load_entities(rows, origin=MarketEntity.Source.DEMO)
    today = timezone.localdate()
    rng = random.Random(7)
    scjg = Organisation.objects.filter(code="yx-scjg").first()
    fresh = MarketEntity.objects.filter(source=MarketEntity.Source.DEMO, credit_events__isnull=True).order_by("uscc")
    if not CreditEvent.objects.filter(entity__source=MarketEntity.Source.DEMO).exists():
        for entity in fresh:
            for kind, description, days in _history(rng, entity, today):
                services.add_credit_event(entity, kind, description, department=scjg,
                                          occurred_on=today - timedelta(days=days), source_ref="demo")
    users = {u.username: u for u in User.objects.filter(username__in=[i[4] for i in INSPECTORS if i[4]])}
    for code, name, dept, division, username in INSPECTORS:
        services.save_inspector(code=code, name=name, department=dept, division=division,
                                user=users.get(username) if username else None)
    year = today.year
    for plan in _plans(year):
        services.save_plan(**plan, period_start=date(year, 1, 1), period_end=date(year, 12, 31))
    first = DrawPlan.objects.filter(code=f"YXSCJG-{year}-01").first()
    if first is not None and not Draw.objects.filter(plan=first).exists():
        draw = services.run_draw(first, seed=f"demo-{year}-0001")
        supervisor = users.get("supervisor")
        for inspection in Inspection.objects.filter(draw=draw).order_by("id")[:3]:
            if supervisor is not None:
                services.record_inspection(inspection, supervisor, passed=True,
                                           findings="经现场检查，未发现问题。")
    if not RiskModel.objects.exists():
        services.train_risk_model()
    warnings = services.scan_risks()
    grades = {g: MarketEntity.objects.filter(grade=g).count() for g in "ABCD"}
    console.print(f"[green]supervision[/green]: {MarketEntity.objects.count()} 个市场主体 "
                  f"（A {grades['A']} / B {grades['B']} / C {grades['C']} / D {grades['D']}）, "
                  f"{len(INSPECTORS)} 名检查人员, {DrawPlan.objects.count()} 个抽查计划, "
                  f"风险预警 {warnings['flagged']} 户（模型 AUC {warnings['auc']:.3f}）")
