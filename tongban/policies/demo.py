"""Demo data for 免申即享: the grant the demo policies need to read another department's data (住建局 reads 人社局's
social insurance record for 青年人租房补贴), the policies of ``demo/policies.json`` (idempotent), then one batch
match."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from . import services

DEMO_FILE = Path(__file__).resolve().parent / "demo" / "policies.json"

# (consumer, resource, fields, unmasked fields, purpose, legal basis, the data owner who approves)
GRANTS = [
    ("yx-zjj", "social_insurance", ["status", "months_paid"], ["months_paid"],
     "免申即享：青年人租房补贴资格认定（按政策规则比对参保状态和缴费月数，不另行索要材料）",
     "《中华人民共和国个人信息保护法》第十三条第一款第三项；《国务院办公厅关于加快发展保障性租赁住房的意见》", "data-rsj"),
]


def _grants() -> int:
    """Request and approve (consent-exempt: a statutory duty, PIPL art. 13(1)(3)) each grant not yet held."""
    from tongban.core.models import User
    from tongban.exchange import selectors as exchange_selectors
    from tongban.exchange import services as exchange
    from tongban.exchange.models import Grant

    made = 0
    for consumer, code, fields, unmasked, purpose, basis, owner in GRANTS:
        resource = exchange_selectors.resource(code)
        if resource is None or Grant.objects.filter(resource=resource, consumer__code=consumer, purpose=purpose,
                                                     status=Grant.Status.APPROVED).exists():
            continue
        grant = exchange.request_grant(resource=resource, consumer=consumer, fields=fields, unmasked_fields=unmasked,
                                       purpose=purpose, legal_basis=basis)
        if grant.status == Grant.Status.REQUESTED:
            exchange.decide_grant(grant, actor=User.objects.filter(username=owner).first(), approve=True,
                                  consent_exempt=True, note="演示数据：依法履行法定职责所必需，免个人授权",
                                  check_role=False)
        made += 1
    return made


def load(console: Console) -> None:
    grants = _grants()
    policies = services.load_policies(DEMO_FILE)
    result = services.match()
    matched = ", ".join(f"{r['code']} {r['matched']}" for r in result["policies"])
    refused = "".join(f"；{r['code']} 未能认定：{r['refused']}" for r in result["policies"] if r["refused"])
    console.print(f"[green]policies[/green]: 政策 {len(policies)} 项（新增共享授权 {grants} 项）；批量匹配 {matched}{refused}")
