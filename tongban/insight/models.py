"""insight's own tables (the figures it computes are read from the other contexts).

- :class:`IndicatorSet`: one stored version of the declarative indicator file (like the catalogue's versions: a
  changed file loads as a new version, an identical one changes nothing).
- :class:`WorkdayNumber`: the working-day calendar as numbers (``seq`` = working days up to and including
  ``day``), so that "working days between two dates" is a subtraction in SQL.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class IndicatorSet(models.Model):
    """One version of the indicator definitions (指标体系版本): the parsed file, its SHA-256 and where it came from."""

    version = models.PositiveIntegerField("版本", unique=True)
    sha256 = models.CharField("内容摘要", max_length=64, db_index=True)
    source_name = models.CharField("来源文件", max_length=255, blank=True)
    definitions = models.JSONField("指标定义")
    loaded_at = models.DateTimeField("加载时间", default=timezone.now)

    class Meta:
        ordering = ["-version"]
        verbose_name = "指标体系版本"
        verbose_name_plural = "指标体系版本"

    def __str__(self) -> str:
        return f"指标体系 v{self.version}（{self.sha256[:12]}）"


class WorkdayNumber(models.Model):
    """A calendar day and the number of working days up to and including it (national calendar + global local
    overrides): working days in (a, b] = seq(b) − seq(a)."""

    day = models.CharField("日期（YYYY-MM-DD）", max_length=10, unique=True)  # text: compared with SQL day strings
    seq = models.PositiveIntegerField("累计工作日")
    is_workday = models.BooleanField("是否工作日")

    class Meta:
        ordering = ["day"]
        verbose_name = "工作日序号"
        verbose_name_plural = "工作日序号"

    def __str__(self) -> str:
        return f"{self.day} #{self.seq}"


# 容错纠错 (docs/insight.md): accountability leads and fault-tolerance applications
from .accountability.models import AccountabilityLead, ToleranceApplication  # noqa: E402,F401
