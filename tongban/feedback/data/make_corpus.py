"""Generate the shipped 12345 training corpus: labelled demo work orders for every demo department.

Deterministic (a fixed seed): ``python -m tongban.feedback.data.make_corpus`` rewrites ``hotline_corpus.json``
byte for byte. Each example is a citizen's request as an operator writes it down: an opening, the matter (a
department's typical consultation, request for help, complaint, report or suggestion), a place in the demo city
(青山区 or 河东区), and sometimes details and a closing wish. Market-regulation matters in 青山区 go to the
district bureau (qs-scjg), elsewhere to the city bureau (yx-scjg), as a real routing rule would.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

OUT = Path(__file__).with_name("hotline_corpus.json")
PER_DEPARTMENT = 75
SEED = 12345

QINGSHAN = ["青山区翠湖街道翠湖社区", "青山区翠湖路", "青山区青山大道", "青山区石桥镇石桥村", "青山区翠湖花园小区",
            "青山区创新大厦附近", "青山区石桥镇集贸市场旁", "青山区青山公园东门"]
HEDONG = ["河东区东门街道", "河东区滨江路", "河东区河东大道", "河东区东门菜市场附近", "河东区滨江花园小区",
          "河东区火车站广场", "河东区东门老街", "河东区体育中心南侧"]
CITY = QINGSHAN + HEDONG

OPENINGS = ["", "", "来电人反映：", "市民来电称，", "来电咨询：", "网友留言：", "您好，", "市民反映，"]
CLOSINGS = ["", "", "请尽快处理。", "希望尽快答复。", "谢谢！", "请相关部门核实。", "望予以解决。", "盼复。"]

# type → templates; {m} is the matter, {p} the place
TEMPLATES = {
    "consult": ["请问{m}？", "想咨询一下{m}？", "{m}？在哪里可以办理？", "我在{p}，想了解{m}。",
                "咨询{m}，网上能不能办？", "{m}，麻烦告诉一下。", "关于{m}的问题。"],
    "help": ["{p}{m}，请帮忙协调解决。", "{m}，地点在{p}，请尽快派人处理。", "求助：{p}{m}。",
             "{p}有情况，{m}，已经好几天了。", "反映{p}{m}。", "{p}{m}，不知道该找谁。"],
    "complaint": ["投诉{p}{m}。", "我要投诉，{m}，地点在{p}。", "{p}{m}，多次反映无果，现投诉。",
                  "对{m}不满，要求处理，地点{p}。", "反映{p}{m}。", "{p}{m}，太不像话了。"],
    "report": ["举报{p}{m}。", "实名举报：{m}，位于{p}。", "匿名举报，{p}{m}，请查处。", "发现{p}{m}，特此举报。", "反映{p}{m}。",
               "{p}{m}，请有关部门查一查。"],
    "suggestion": ["建议{m}。", "对{p}提个建议：{m}。", "希望{m}，方便市民。", "市民建议{m}，供参考。", "能不能{m}？",
                   "关于{m}的想法。"],
}

SCJG = {
    "consult": ["办理个体工商户营业执照需要哪些材料", "食品经营许可证到期怎么延续", "公司变更法定代表人怎么办理",
                "企业年报什么时候截止", "开一家小餐馆需要办哪些证", "公司注销需要多长时间"],
    "help": ["网购的商品质量有问题商家拒绝退货", "预付卡充值后理发店突然关门", "买到过期的食品商家不认账",
             "装修公司收了定金不开工", "电动车电池刚买一个月就坏了"],
    "complaint": ["超市价签和结账价格不一致", "健身房退卡时乱扣费", "商场专卖店以次充好", "餐馆后厨卫生脏乱",
                  "菜市场商贩缺斤短两"],
    "report": ["一家小作坊无证生产食品", "药店销售过期药品", "商店销售假冒名牌服装", "餐馆使用地沟油",
               "美容店无照经营还打虚假广告"],
    "suggestion": ["加强对校园周边小卖部食品安全的检查", "在菜市场设置公平秤", "简化个体户开办流程",
                   "公示餐饮店的卫生等级"],
}

DEPARTMENTS: dict[str, dict[str, list[str]]] = {
    "yx-zwfw": {
        "consult": ["政务服务中心周末是否上班", "一网通办平台怎么实名注册", "政务服务中心可以预约办理吗",
                    "一件事一次办有哪些事项", "好差评在哪里评价"],
        "help": ["在网上办事系统提交申请一直报错", "政务服务中心排队取号机故障", "一网通办账号被锁定登录不了",
                 "材料已经上传但是系统显示未提交"],
        "complaint": ["政务服务中心窗口工作人员态度生硬", "窗口让我来回跑了三次还没办好", "政务服务中心午休时间窗口无人",
                      "帮办代办人员推诿不作为"],
        "report": ["政务服务中心门口有黄牛代办收费", "有人冒充工作人员收取办证费用", "窗口人员私下收取好处费"],
        "suggestion": ["政务服务中心增加自助办理终端", "一网通办增加适老化模式", "延长政务服务中心周末服务时间",
                       "办事指南写得更通俗一些"],
    },
    "yx-scjg": SCJG,
    "qs-scjg": SCJG,
    "yx-ga": {
        "consult": ["身份证丢了怎么补办", "新生儿落户需要什么材料", "办理居住证需要哪些条件", "护照到期怎么换发",
                    "驾驶证异地可以换证吗"],
        "help": ["钱包在公交车上被偷了", "家里老人走失联系不上", "小区电动车频繁被盗", "深夜有人在楼下聚众吵闹",
                 "接到疑似诈骗电话被骗了钱"],
        "complaint": ["派出所办理户口迁移拖了很久", "交警执法态度粗暴", "报警后很久没人出警", "户籍窗口要求重复提交材料"],
        "report": ["有人在出租屋里聚众赌博", "小区附近有人贩卖管制刀具", "有人在路口非法改装车辆飙车",
                   "发现一处电信诈骗窝点"],
        "suggestion": ["在学校门口增加上下学时段的护学岗", "增加小区周边夜间巡逻", "身份证办理增加自助拍照"],
    },
    "yx-wsjk": {
        "consult": ["新生儿出生医学证明怎么办理", "孩子打疫苗需要预约吗", "二孩生育登记怎么办", "医师执业证书变更注册流程",
                    "婚前检查在哪里做"],
        "help": ["医院挂号难一直挂不上专家号", "家里老人需要家庭医生上门", "孩子发烧社区卫生服务中心不接诊",
                 "急需献血证明用于报销"],
        "complaint": ["医院收费不透明重复收费", "医生看病态度冷淡", "医院排队时间太长", "社区卫生服务中心疫苗缺货"],
        "report": ["一家诊所无证行医", "有人在小区非法行医卖假药", "医院医生收受红包", "美容院违规开展医疗美容"],
        "suggestion": ["社区卫生服务中心延长夜间门诊", "医院增加停车位", "推广检查结果互认减少重复检查"],
    },
    "yx-rsj": {
        "consult": ["工伤认定需要准备哪些材料", "失业保险金怎么申领", "养老保险转移接续怎么办理", "灵活就业人员怎么参保",
                    "职业技能补贴怎么申请"],
        "help": ["公司拖欠工资三个月不发", "单位不给缴纳社会保险", "在工地受伤老板不管", "被公司无故辞退没有补偿",
                 "社保卡丢失急需补办"],
        "complaint": ["劳动监察大队处理欠薪案件太慢", "社保窗口工作人员推诿", "工伤认定超过时限还没结果"],
        "report": ["一家工厂雇用童工", "公司强迫员工超时加班不给加班费", "有人冒领去世老人的养老金",
                   "中介机构非法收取求职押金"],
        "suggestion": ["增加面向高校毕业生的招聘会", "社保业务全部实现网上办理", "加大对农民工欠薪的查处力度"],
    },
    "yx-ybj": {
        "consult": ["异地就医备案怎么办理", "门诊慢特病怎么申请", "医保卡余额怎么查询", "新生儿怎么参加城乡居民医保",
                    "医保报销比例是多少"],
        "help": ["住院费用医保结算不了", "医保卡突然无法使用", "跨省住院回来报销被拒", "医保账户个人缴费信息有误"],
        "complaint": ["定点药店刷医保卡买生活用品", "医保报销窗口要求提供不必要的材料", "医保报销到账太慢"],
        "report": ["有人借用他人医保卡开药转卖", "定点医院虚构住院骗取医保基金", "药店用医保卡套现"],
        "suggestion": ["扩大门诊统筹定点药店范围", "医保电子凭证在更多医院通用", "简化异地就医备案手续"],
    },
    "yx-gjj": {
        "consult": ["住房公积金提取需要什么材料", "公积金贷款额度怎么计算", "租房可以提取公积金吗", "离职后公积金怎么转移",
                    "公积金缴存基数怎么调整"],
        "help": ["单位一直没给缴纳住房公积金", "公积金提取申请被退回", "公积金账户被冻结无法使用"],
        "complaint": ["公积金贷款审批时间太长", "公积金中心热线一直打不通", "公积金提取要求重复提交证明"],
        "report": ["有中介帮人伪造材料违规提取公积金", "单位少缴职工住房公积金", "有人用虚假购房合同提取公积金"],
        "suggestion": ["公积金提取实现全程网办", "提高公积金贷款最高额度", "灵活就业人员也能缴存公积金"],
    },
    "yx-sw": {
        "consult": ["个人所得税汇算清缴怎么办理", "小规模纳税人增值税怎么申报", "发票怎么在网上申领",
                    "二手房交易要交哪些税", "个税专项附加扣除怎么填报"],
        "help": ["电子税务局登录不上无法申报", "发票开错了不知道怎么作废", "个税APP显示有陌生单位给我报了收入"],
        "complaint": ["办税服务厅排队时间太长", "税务窗口人员业务不熟", "退税申请迟迟没有到账"],
        "report": ["一家饭店不开发票偷逃税款", "公司虚开增值税发票", "商家收款要求私人账户避税"],
        "suggestion": ["增加办税服务厅自助终端", "个税汇算开放更多咨询渠道", "推广全面数字化电子发票"],
    },
    "yx-xf": {
        "consult": ["公众聚集场所投入使用前消防安全检查怎么申请", "家里灭火器怎么检查是否过期", "消防设计审查去哪里办"],
        "help": ["楼道里堆满杂物堵住了消防通道", "小区消防栓没有水", "高层住宅消防设施长期损坏",
                 "电动车在楼道里充电很危险"],
        "complaint": ["商场安全出口被锁", "消防检查走过场", "小区物业不维修消防设施"],
        "report": ["一家网吧安全出口被堵", "有人在地下室违规住人还私拉电线", "仓库违规储存易燃易爆物品",
                   "KTV消防通道被占用"],
        "suggestion": ["在老旧小区增设电动车集中充电桩", "加强高层住宅消防宣传", "在社区配备微型消防站"],
    },
    "yx-cg": {
        "consult": ["户外广告牌设置需要审批吗", "在路边临时占道施工怎么办手续", "大件垃圾怎么预约清运",
                    "店铺门头招牌更换需要办理什么手续"],
        "help": ["路边垃圾好几天没人清运", "人行道上的井盖丢失很危险", "路灯坏了一整条街晚上很黑",
                 "小区门口占道经营堵塞交通", "垃圾桶满了发出恶臭"],
        "complaint": ["夜间渣土车抛撒泥土", "烧烤摊油烟扰民", "城管执法人员粗暴对待摊贩", "工地夜间施工噪音扰民"],
        "report": ["有人在路边违规搭建棚屋", "商铺私自占用人行道摆摊", "夜里有人偷倒建筑垃圾", "楼顶违规加盖房屋"],
        "suggestion": ["增加公共厕所数量", "在夜市附近规划临时摊位区", "增设分类垃圾投放点"],
    },
    "yx-zrzy": {
        "consult": ["不动产登记需要哪些材料", "房产证加名字怎么办理", "建设工程规划许可证怎么申请", "农村宅基地怎么申请"],
        "help": ["买的新房五年了还办不了房产证", "不动产登记信息有误需要更正", "山体滑坡隐患威胁村民房屋"],
        "complaint": ["不动产登记中心办事拖拉", "规划调整没有公示征求意见", "不动产登记预约号太难约"],
        "report": ["有人非法占用耕地建房", "企业未批先建违规开工", "有人私挖乱采河砂山石"],
        "suggestion": ["不动产登记和水电气过户一次办", "公园绿地规划多听取居民意见", "加快老旧小区不动产确权"],
    },
    "yx-zjj": {
        "consult": ["商品房预售资金监管怎么查询", "建筑施工许可证怎么办理", "公租房申请条件是什么", "物业维修资金怎么使用"],
        "help": ["房子漏水物业一直不修", "电梯经常故障困人", "楼盘延期交房开发商失联", "小区外墙瓷砖脱落砸坏车"],
        "complaint": ["开发商交房质量差", "物业公司乱收费", "建筑工地扬尘严重", "房屋中介隐瞒房屋真实情况"],
        "report": ["建筑工地工人不戴安全帽高空作业", "开发商违规收取认筹金", "房产中介发布虚假房源"],
        "suggestion": ["加快老旧小区加装电梯", "公租房申请实现网上办理", "规范物业收费公示"],
    },
    "yx-mz": {
        "consult": ["结婚登记需要带什么证件", "低保怎么申请", "高龄老人补贴怎么领取", "残疾人两项补贴怎么申请",
                    "社会组织怎么登记"],
        "help": ["家里生活困难想申请临时救助", "街上有流浪人员需要救助", "独居老人无人照料", "孤儿生活没有着落"],
        "complaint": ["养老院护工虐待老人", "婚姻登记处预约系统难用", "低保审核不公平"],
        "report": ["有人冒领低保金", "非法社会组织以公益名义敛财", "养老机构无证经营"],
        "suggestion": ["增加社区老年食堂", "扩大居家养老服务覆盖面", "婚姻登记周末也能办理"],
    },
    "yx-sthj": {
        "consult": ["建设项目环评怎么办理", "排污许可证怎么申请", "噪声污染的标准是多少", "餐饮油烟净化有什么要求"],
        "help": ["河道里漂满垃圾还有异味", "附近工厂晚上排放刺鼻气体", "小区旁边的水塘被污染发黑"],
        "complaint": ["工厂排放黑烟污染空气", "化工厂异味严重影响生活", "企业夜间偷排污水"],
        "report": ["一家工厂偷排工业废水进河道", "有人焚烧电子垃圾", "企业环评造假未批先建", "非法倾倒危险废物"],
        "suggestion": ["公开重点企业排污数据", "增加城区空气质量监测点", "加强河道生态修复"],
    },
    "yx-jt": {
        "consult": ["网约车驾驶员证怎么办理", "公交线路调整在哪里查询", "道路运输经营许可证怎么申请", "公交卡老年优惠怎么办"],
        "help": ["公交车到站不停", "出租车拒载还绕路", "道路上有大坑车辆容易出事故", "公交站牌被撞倒"],
        "complaint": ["公交司机开车太猛", "出租车不打表乱收费", "网约车平台乱加价", "长途客运站服务差"],
        "report": ["黑车在火车站拉客", "货车严重超载", "无资质驾校违规招生"],
        "suggestion": ["增开夜间公交线路", "在学校附近增加公交站点", "优化地铁与公交换乘"],
    },
}

# Details a caller adds (only some examples), by type.
DETAILS = {
    "consult": ["家里人让我问一下", "着急用", "之前没办过", "网上没找到说明", "是帮父母咨询的"],
    "help": ["已经反映过一次", "家里有老人小孩", "影响出行", "情况比较紧急", "附近居民都很着急"],
    "complaint": ["周边居民意见很大", "已经持续一个多月", "多次协商没有结果", "有照片可以提供"],
    "report": ["有照片和视频为证", "附近居民都知道", "已经持续很久", "希望保护举报人信息"],
    "suggestion": ["供有关部门参考", "很多市民都有这个想法", "可以借鉴外地做法"],
}


def _place(department: str, rng: random.Random) -> str:
    if department == "qs-scjg":
        return rng.choice(QINGSHAN)
    if department == "yx-scjg":
        return rng.choice(HEDONG)
    return rng.choice(CITY)


def _example(department: str, type_: str, rng: random.Random) -> str:
    matter = rng.choice(DEPARTMENTS[department][type_])
    place = _place(department, rng)
    template = rng.choice(TEMPLATES[type_])
    text = template.format(m=matter, p=place)
    if "{p}" not in template and department in ("qs-scjg", "yx-scjg"):
        text = f"{place}，{text}"  # market matters always name the district (it decides the bureau)
    if rng.random() < 0.5:
        text = text.rstrip("。？！") + "，" + rng.choice(DETAILS[type_]) + "。"
    return (rng.choice(OPENINGS) + text + rng.choice(CLOSINGS)).strip()


def generate() -> list[dict[str, str]]:
    rng = random.Random(SEED)
    rows: list[dict[str, str]] = []
    types = list(TEMPLATES)
    for department in DEPARTMENTS:
        for i in range(PER_DEPARTMENT):
            type_ = types[i % len(types)]
            seen = {r["text"] for r in rows}
            text = _example(department, type_, rng)
            for _ in range(5):  # avoid exact duplicates (they would leak between cross-validation folds)
                if text not in seen:
                    break
                text = _example(department, type_, rng)
            rows.append({"text": text, "type": type_, "department": department})
    return rows


def main() -> None:
    rows = generate()
    OUT.write_text(json.dumps(rows, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"{len(rows)} examples, {len(DEPARTMENTS)} departments → {OUT}")


if __name__ == "__main__":
    main()
