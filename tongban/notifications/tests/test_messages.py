"""Every event's wording renders completely: no placeholder left, no empty phrase where a fact belongs."""

from __future__ import annotations

import re
import string

import pytest

from tongban.notifications import messages

SAMPLE = {"name": "张三", "title": "食品经营许可", "ref": "YX2026000001", "accepted_on": "2026年12月7日",
          "promised_days": 5, "owed": "", "missing": "1. 营业执照", "missing_short": "营业执照", "note": "",
          "reason": "不属于本机关职权范围", "deadline": "2026年12月10日", "days": 3, "materials": "场所平面图",
          "results": "· 食品经营许可（市场监管局）：准予许可", "results_short": "准予许可",
          "licence_name": "食品经营许可证", "number": "JY1234", "valid_until": "2031年12月6日",
          "item_name": "食品经营许可", "department": "云溪市市场监督管理局", "rate_until": "2027年1月6日",
          "due_on": "2027年1月5日", "text": "我们发现……"}
EVENTS = [messages.ACCEPTED, messages.ONE_TIME_NOTICE, messages.REFUSED, messages.SUPPLEMENT_DUE, messages.DECIDED,
          messages.LICENCE_ISSUED, messages.RATING_INVITATION, messages.POST_CHECK_DUE, messages.SECURITY_NOTICE]


def test_the_events_of_the_brief_all_have_a_template():
    assert set(EVENTS) <= set(messages.TEMPLATES.keys())


@pytest.mark.parametrize("event", EVENTS)
def test_each_template_uses_only_known_facts_and_renders_fully(event):
    template = messages.TEMPLATES.get(event)
    fields = {f for text in (template.subject, template.body, template.sms)
              for _, f, _, _ in string.Formatter().parse(text) if f}
    assert fields <= set(SAMPLE), fields - set(SAMPLE)
    subject, body, sms = messages.render(template, SAMPLE)
    for text in (subject, body, sms):
        assert "{" not in text and "}" not in text
        assert not re.search(r"“”|（）|编号 ）|编号）", text), text
    assert len(sms) <= 120  # fits in two SMS segments with the signature
    assert template.label and "，您好" in body or event == messages.SECURITY_NOTICE or "您" in body


def test_missing_facts_render_empty_not_as_placeholders():
    subject, body, _ = messages.render(messages.TEMPLATES.get(messages.ACCEPTED), {"title": "食品经营许可"})
    assert subject == "您的申请已受理：食品经营许可" and "{" not in body
