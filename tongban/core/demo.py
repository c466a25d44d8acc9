"""Demo data for core: the fictional 云溪市 (Yunxi City) in 东川省, its departments, centres and accounts.

All demo accounts share the password ``DEMO_PASSWORD``; they are listed on the login page and in the README.
"""

from __future__ import annotations

from django.db import transaction
from rich.console import Console

from . import services, site
from .models import Division, Organisation, Role, User

DEMO_PASSWORD = "tongban-demo"

DIVISIONS: list[tuple[str, str, str, str | None]] = [
    ("910000000000", "东川省", Division.Level.PROVINCE, None),
    ("910100000000", "云溪市", Division.Level.CITY, "910000000000"),
    ("910102000000", "青山区", Division.Level.COUNTY, "910100000000"),
    ("910103000000", "河东区", Division.Level.COUNTY, "910100000000"),
    ("910102001000", "翠湖街道", Division.Level.TOWNSHIP, "910102000000"),
    ("910102101000", "石桥镇", Division.Level.TOWNSHIP, "910102000000"),
    ("910103001000", "东门街道", Division.Level.TOWNSHIP, "910103000000"),
    ("910102001001", "翠湖社区", Division.Level.VILLAGE, "910102001000"),
    ("910102101201", "石桥村", Division.Level.VILLAGE, "910102101000"),
]

# (code, name, short name, kind, division code, parent code)
ORGANISATIONS: list[tuple[str, str, str, str, str, str | None]] = [
    ("yx-gov", "云溪市人民政府", "市政府", Organisation.Kind.GOVERNMENT, "910100000000", None),
    ("yx-zwfw", "云溪市政务服务管理局", "市政务服务局", Organisation.Kind.DEPARTMENT, "910100000000", "yx-gov"),
    ("yx-scjg", "云溪市市场监督管理局", "市市场监管局", Organisation.Kind.DEPARTMENT, "910100000000", "yx-gov"),
    ("yx-ga", "云溪市公安局", "市公安局", Organisation.Kind.DEPARTMENT, "910100000000", "yx-gov"),
    ("yx-wsjk", "云溪市卫生健康委员会", "市卫健委", Organisation.Kind.DEPARTMENT, "910100000000", "yx-gov"),
    ("yx-rsj", "云溪市人力资源和社会保障局", "市人社局", Organisation.Kind.DEPARTMENT, "910100000000", "yx-gov"),
    ("yx-ybj", "云溪市医疗保障局", "市医保局", Organisation.Kind.DEPARTMENT, "910100000000", "yx-gov"),
    ("yx-gjj", "云溪市住房公积金管理中心", "市公积金中心", Organisation.Kind.DEPARTMENT, "910100000000", "yx-gov"),
    ("yx-sw", "国家税务总局云溪市税务局", "市税务局", Organisation.Kind.DEPARTMENT, "910100000000", None),
    ("yx-xf", "云溪市消防救援支队", "市消防救援支队", Organisation.Kind.DEPARTMENT, "910100000000", None),
    ("yx-cg", "云溪市城市管理局", "市城管局", Organisation.Kind.DEPARTMENT, "910100000000", "yx-gov"),
    ("yx-zrzy", "云溪市自然资源和规划局", "市自然资源局", Organisation.Kind.DEPARTMENT, "910100000000", "yx-gov"),
    ("yx-zjj", "云溪市住房和城乡建设局", "市住建局", Organisation.Kind.DEPARTMENT, "910100000000", "yx-gov"),
    ("yx-mz", "云溪市民政局", "市民政局", Organisation.Kind.DEPARTMENT, "910100000000", "yx-gov"),
    ("yx-sthj", "云溪市生态环境局", "市生态环境局", Organisation.Kind.DEPARTMENT, "910100000000", "yx-gov"),
    ("yx-jt", "云溪市交通运输局", "市交通运输局", Organisation.Kind.DEPARTMENT, "910100000000", "yx-gov"),
    ("yx-zwzx", "云溪市政务服务中心", "市民中心", Organisation.Kind.SERVICE_CENTRE, "910100000000", "yx-zwfw"),
    ("yx-zwzx-w01", "云溪市政务服务中心综合受理1号窗口", "综合窗口1", Organisation.Kind.WINDOW, "910100000000",
     "yx-zwzx"),
    ("yx-zwzx-w02", "云溪市政务服务中心综合受理2号窗口", "综合窗口2", Organisation.Kind.WINDOW, "910100000000",
     "yx-zwzx"),
    ("qs-gov", "云溪市青山区人民政府", "青山区政府", Organisation.Kind.GOVERNMENT, "910102000000", None),
    ("qs-zwzx", "青山区政务服务中心", "青山区政务服务中心", Organisation.Kind.SERVICE_CENTRE, "910102000000",
     "qs-gov"),
    ("qs-scjg", "云溪市青山区市场监督管理局", "青山区市场监管局", Organisation.Kind.DEPARTMENT, "910102000000",
     "qs-gov"),
    ("qs-ch-bmfw", "青山区翠湖街道便民服务中心", "翠湖街道便民服务中心", Organisation.Kind.SERVICE_CENTRE,
     "910102001000", "qs-gov"),
    ("qs-sq-bmfw", "青山区石桥镇便民服务中心", "石桥镇便民服务中心", Organisation.Kind.SERVICE_CENTRE,
     "910102101000", "qs-gov"),
    ("qs-ch-sq", "翠湖社区党群服务中心", "翠湖社区服务站", Organisation.Kind.SERVICE_CENTRE, "910102001001",
     "qs-ch-bmfw"),
]

# (username, display name, kind, organisation code or None, [(role, org code)])
USERS: list[tuple[str, str, str, str | None, list[tuple[str, str]]]] = [
    ("admin", "平台管理员", User.Kind.STAFF, "yx-zwfw", [(Role.ADMINISTRATOR, "yx-gov")]),
    ("clerk", "王晓窗（综合窗口）", User.Kind.STAFF, "yx-zwzx-w01", [(Role.WINDOW_CLERK, "yx-zwzx")]),
    ("clerk-ch", "刘便民（翠湖街道）", User.Kind.STAFF, "qs-ch-bmfw", [(Role.WINDOW_CLERK, "qs-ch-bmfw")]),
    ("clerk-sq", "马便民（石桥镇）", User.Kind.STAFF, "qs-sq-bmfw", [(Role.WINDOW_CLERK, "qs-sq-bmfw")]),
    ("clerk-chsq", "许代办（翠湖社区）", User.Kind.STAFF, "qs-ch-sq", [(Role.WINDOW_CLERK, "qs-ch-sq")]),
    ("approver-scjg", "陈审批（市场监管局）", User.Kind.STAFF, "yx-scjg", [(Role.APPROVER, "yx-scjg")]),
    ("approver-ga", "赵审批（公安局）", User.Kind.STAFF, "yx-ga", [(Role.APPROVER, "yx-ga")]),
    ("approver-wsjk", "孙审批（卫健委）", User.Kind.STAFF, "yx-wsjk", [(Role.APPROVER, "yx-wsjk")]),
    ("approver-rsj", "周审批（人社局）", User.Kind.STAFF, "yx-rsj", [(Role.APPROVER, "yx-rsj")]),
    ("approver-ybj", "吴审批（医保局）", User.Kind.STAFF, "yx-ybj", [(Role.APPROVER, "yx-ybj")]),
    ("approver-gjj", "郑审批（公积金中心）", User.Kind.STAFF, "yx-gjj", [(Role.APPROVER, "yx-gjj")]),
    ("approver-sw", "冯审批（税务局）", User.Kind.STAFF, "yx-sw", [(Role.APPROVER, "yx-sw")]),
    ("approver-xf", "何审批（消防救援支队）", User.Kind.STAFF, "yx-xf", [(Role.APPROVER, "yx-xf")]),
    ("approver-cg", "吕审批（城管局）", User.Kind.STAFF, "yx-cg", [(Role.APPROVER, "yx-cg")]),
    ("approver-zrzy", "施审批（自然资源局）", User.Kind.STAFF, "yx-zrzy", [(Role.APPROVER, "yx-zrzy")]),
    ("approver-zjj", "张审批（住建局）", User.Kind.STAFF, "yx-zjj", [(Role.APPROVER, "yx-zjj")]),
    ("approver-mz", "曹审批（民政局）", User.Kind.STAFF, "yx-mz", [(Role.APPROVER, "yx-mz")]),
    ("approver-sthj", "严审批（生态环境局）", User.Kind.STAFF, "yx-sthj", [(Role.APPROVER, "yx-sthj")]),
    ("approver-jt", "金审批（交通运输局）", User.Kind.STAFF, "yx-jt", [(Role.APPROVER, "yx-jt")]),
    ("approver-qsscjg", "魏审批（青山区市场监管局）", User.Kind.STAFF, "qs-scjg", [(Role.APPROVER, "qs-scjg")]),
    # 下沉: township and community centres review the items delegated to them
    ("approver-ch", "陶审批（翠湖街道）", User.Kind.STAFF, "qs-ch-bmfw", [(Role.APPROVER, "qs-ch-bmfw")]),
    ("approver-sq", "姜审批（石桥镇）", User.Kind.STAFF, "qs-sq-bmfw", [(Role.APPROVER, "qs-sq-bmfw")]),
    ("approver-chsq", "戚审批（翠湖社区）", User.Kind.STAFF, "qs-ch-sq", [(Role.APPROVER, "qs-ch-sq")]),
    ("supervisor", "钱监管（市场监管局）", User.Kind.STAFF, "yx-scjg", [(Role.SUPERVISOR, "yx-scjg")]),
    ("security", "孔安全（信息安全队伍）", User.Kind.STAFF, "yx-zwfw", [(Role.SECURITY_ADMIN, "yx-zwfw")]),
    ("zhangsan", "张三", User.Kind.NATURAL_PERSON, None, []),
    ("lisi", "李四", User.Kind.NATURAL_PERSON, None, []),
    ("yunxi-tech", "云溪星火科技有限公司", User.Kind.LEGAL_PERSON, None, []),
]

# The demo city's site record (core/site.py): what a real city sets in the admin or with `tongban site set`.
SITE: dict[str, str] = {
    "city_name": "云溪市", "platform_name": "云溪市一网通办", "division_code": "910100", "reference_prefix": "YX",
    "reference_format": "{prefix}{date:%Y%m%d}{seq:06d}", "service_centre": "yx-zwzx", "operator": "yx-zwfw",
    "hotline": "12345", "accent_colour": "#b3261e",
}

# Fictional identity numbers of the demo applicants (division prefix 91xxxx does not exist).
ID_NUMBERS: dict[str, str] = {
    "zhangsan": "910102199001011234",
    "lisi": "91010219880315432X",
    "yunxi-tech": "91910100MA1YX0001K",  # unified social credit code (统一社会信用代码)
}


@transaction.atomic
def load(console: Console) -> None:
    services.ensure_standard_roles()
    divisions: dict[str, Division] = {}
    for code, name, level, parent in DIVISIONS:
        divisions[code] = services.upsert_division(code, name, level, divisions.get(parent) if parent else None)
    orgs: dict[str, Organisation] = {}
    for code, name, short, kind, division, parent in ORGANISATIONS:
        orgs[code] = services.upsert_organisation(
            code, name, division=divisions[division], short_name=short, kind=kind,
            parent=orgs.get(parent) if parent else None,
        )
    site.configure(**SITE)
    for username, display, kind, org, grants in USERS:
        user = services.upsert_user(
            username, password=DEMO_PASSWORD, display_name=display, kind=kind,
            organisation=orgs.get(org) if org else None,
            is_staff=kind == User.Kind.STAFF, is_superuser=username == "admin",
            id_number=ID_NUMBERS.get(username, ""),
        )
        for role, org_code in grants:
            # A centre's clerks serve at every window of the centre.
            services.grant_role(user, role, orgs[org_code], include_children=role == Role.WINDOW_CLERK)
    console.print(f"[green]core[/green]: {len(DIVISIONS)} 个行政区划, {len(ORGANISATIONS)} 个机构, "
                  f"{len(USERS)} 个演示账号（密码 {DEMO_PASSWORD}）")
