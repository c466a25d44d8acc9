"""Catalogue search that understands people (事项智能检索): "我想开一家饭店" finds 餐饮 and 食品经营许可.

A query is normalised (full-width → half-width, lower case), expanded with the colloquial-phrase table
(``search_terms.json``: 开饭店 → 餐饮, 生孩子 → 出生, 开公司 → 企业开办, ...), segmented with jieba (search mode)
and stripped of filler words (我想, 要办什么, ...). Each published item and bundle is scored:

- every query term found in the name counts 3 × its weight × idf, in the other text (result name, conditions,
  service object; for a bundle its description and its items' names) 1 × weight × idf; terms from the phrase table
  weigh 1.0, words the person typed 1.0, single characters 0.3;
- typo tolerance: the share of the query's character bigrams found in the name or the result name
  ("营业执找" still shares 营业, 业执 with 营业执照) adds up to 2 when at least half of them are found;
- the whole query inside the name adds 5.

Results keep the documents scoring at least a quarter of the best one; when the whole query is in some names, only
those. Bundles (一件事) whose life event (the
name without 一件事) a term matches come first. The index of published items and bundles is kept in memory and
rebuilt when an item or a bundle is saved in this process, and at the latest every ``INDEX_SECONDS`` otherwise.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from .models import Bundle, ItemStatus, ServiceItem

TERMS_FILE = Path(__file__).resolve().parent / "search_terms.json"
INDEX_SECONDS = 60.0
KEEP_SHARE = 0.25  # of the best score
MIN_SCORE = 0.5
NAME_WEIGHT, TEXT_WEIGHT = 3.0, 1.0

# Filler words of spoken questions: they say nothing about which service is meant.
STOPWORDS = frozenset(["我", "我们", "想", "想要", "要", "需要", "得", "该", "应该", "怎么", "怎样", "如何", "什么", "哪些", "哪个", "哪里", "在哪", "办", "办理", "去", "的", "了", "吗", "呢", "吧", "啊", "呀", "和", "与", "及", "或", "一家", "一个", "个", "家", "请问", "可以", "能", "能不能", "是", "有", "没有", "手续", "流程", "材料", "需要", "东西", "事", "事情", "事项", "相关", "有关", "一下", "下", "给", "帮", "帮我", "自己", "多久", "多少", "钱", "费用", "网上", "在线", "哪", "怎么办", "咋办", "咋", "啥", "准备", "申请", "我家", "孩子", "小孩", "刚", "刚刚", "新", "现在", "最近", "本市"])

# Words of the catalogue's own vocabulary that say what kind of act, not which service: they count, but little.
GENERIC = frozenset(["审批", "申领", "登记", "许可", "备案", "证", "办证", "核发", "审核", "确认", "认定", "办事", "业务", "服务"])
GENERIC_WEIGHT = 0.4
TYPO_WEIGHT = 0.8
NEW_HANDLING_BONUS = 0.5  # 新设 (the handling item a person applies for) before its main item

_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)
_CJK = re.compile(r"[\u4e00-\u9fff]")


@lru_cache(maxsize=1)
def colloquial_terms() -> dict[str, tuple[str, ...]]:
    data = json.loads(TERMS_FILE.read_text(encoding="utf-8"))
    return {k.lower(): tuple(v) for k, v in data.items() if not k.startswith("_")}


@lru_cache(maxsize=1)
def _jieba() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    for phrase in colloquial_terms():
        jieba.add_word(phrase, freq=2000)
    return jieba


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").lower().strip()


def _bigrams(text: str) -> set[str]:
    chars = "".join(_CJK.findall(text))
    return {chars[i:i + 2] for i in range(len(chars) - 1)}


@dataclass(frozen=True)
class Term:
    text: str
    weight: float
    origin: str  # typed / phrase / char / typo


def _city_words() -> frozenset[str]:
    """The served city's own name (from the site record, e.g. "某某市" and "某某"): every service here is of that
    city, so naming it says nothing about which service is meant."""
    from tongban.core import site

    name = site.current().city_name.strip()
    short = name[:-1] if len(name) > 2 and name[-1] in "市县区州盟旗" else name
    return frozenset(w for w in (name, short) if w)


def query_terms(q: str, idx: Index | None = None) -> list[Term]:
    """The weighted terms of a query: phrase-table expansions, the typed words (jieba, search mode), and with an
    index the corrections of typed windows that are one character away from the catalogue's words (typos)."""
    text = normalise(q)
    terms: dict[str, Term] = {}
    for phrase, targets in colloquial_terms().items():
        if phrase in text:
            for target in targets:
                terms.setdefault(target, Term(target, 1.0, "phrase"))
    words = [w.strip() for w in _jieba().cut_for_search(text)]
    skip = STOPWORDS | _city_words()
    words = [w for w in words if w and not _PUNCT.fullmatch(w) and w not in skip]
    for word in words:
        if word in colloquial_terms():
            continue  # already replaced by what it means
        if len(word) >= 2 or word.isascii():
            terms.setdefault(word, Term(word, GENERIC_WEIGHT if word in GENERIC else 1.0, "typed"))
        elif _CJK.match(word):
            terms.setdefault(word, Term(word, 0.3, "char"))
    if idx is not None:
        for fixed in idx.corrections(text):
            terms.setdefault(fixed, Term(fixed, TYPO_WEIGHT, "typo"))
    if any(t.origin != "char" for t in terms.values()):  # single characters only when nothing else is there
        return [t for t in terms.values() if t.origin != "char"]
    return list(terms.values())


@dataclass
class Doc:
    kind: str  # item / bundle
    pk: int
    code: str
    name: str
    text: str
    bigrams: set[str]
    life_event: str = ""
    bonus: float = 0.0
    display: tuple[str, str] = ("", "")  # a bundle's name and description as written (shown without a query)


@dataclass
class Index:
    docs: list[Doc]
    built: float
    df_cache: dict[str, int] = field(default_factory=dict)
    vocabulary: set[str] = field(default_factory=set)  # 3–5 character windows of the names
    masks: dict[str, set[str]] = field(default_factory=dict)  # a window with one character masked → windows

    def add_words(self, text: str) -> None:
        chars = "".join(_CJK.findall(text))
        for size in (3, 4, 5):
            for i in range(len(chars) - size + 1):
                window = chars[i:i + size]
                if window in self.vocabulary:
                    continue
                self.vocabulary.add(window)
                for j in range(size):
                    self.masks.setdefault(window[:j] + "?" + window[j + 1:], set()).add(window)

    def corrections(self, text: str) -> list[str]:
        """Catalogue words one character away from a window of the query that the catalogue does not know."""
        chars = "".join(_CJK.findall(text))
        found: list[str] = []
        for size in (5, 4, 3):
            for i in range(len(chars) - size + 1):
                window = chars[i:i + size]
                if window in self.vocabulary or any(window in f for f in found):
                    continue
                near = set().union(*(self.masks.get(window[:j] + "?" + window[j + 1:], set())
                                     for j in range(size)))
                if len(near) == 1:  # one unambiguous correction only
                    found.append(near.pop())
        return found

    def df(self, term: str) -> int:
        if term not in self.df_cache:
            self.df_cache[term] = sum(1 for d in self.docs if term in d.name or term in d.text)
        return self.df_cache[term]


_INDEX: list[Index | None] = [None]
_LOCK = threading.Lock()


def clear_index(**_: Any) -> None:
    """Drop the in-memory index (connected to saves of items and bundles)."""
    _INDEX[0] = None


def build_index() -> Index:
    docs: list[Doc] = []
    rows = list(ServiceItem.objects.filter(status=ItemStatus.PUBLISHED).values_list(
        "pk", "code", "name", "result_name", "conditions", "service_object", "parent__name", "handling_kind"))
    names: dict[int, str] = {}
    idx = Index(docs=docs, built=time.monotonic())
    for pk, code, name, result_name, conditions, service_object, parent, handling in rows:
        names[pk] = name
        n = normalise(name)
        docs.append(Doc("item", pk, code, n,
                        normalise(f"{parent or ''} {result_name} {conditions[:200]} {service_object}"),
                        _bigrams(n) | _bigrams(normalise(result_name)),
                        bonus=NEW_HANDLING_BONUS if handling == ServiceItem.HandlingKind.NEW else 0.0))
        idx.add_words(n)
        idx.add_words(normalise(result_name))
    for bundle in Bundle.objects.filter(status=ItemStatus.PUBLISHED).prefetch_related("items"):
        n = normalise(bundle.name)
        item_names = " ".join(names.get(i.pk, i.name) for i in bundle.items.all())
        docs.append(Doc("bundle", bundle.pk, bundle.code, n, normalise(f"{bundle.description} {item_names}"),
                        _bigrams(n), life_event=n.replace("一件事", "").strip(),
                        display=(bundle.name, bundle.description)))
        idx.add_words(n)
    for phrase, targets in colloquial_terms().items():
        idx.add_words(phrase)
        for target in targets:
            idx.add_words(target)
    return idx


def index() -> Index:
    current = _INDEX[0]
    if current is None or time.monotonic() - current.built > INDEX_SECONDS:
        with _LOCK:
            current = _INDEX[0]
            if current is None or time.monotonic() - current.built > INDEX_SECONDS:
                current = build_index()
                _INDEX[0] = current
    return current


@dataclass(frozen=True)
class Hit:
    kind: str
    pk: int
    code: str
    score: float
    life_event: bool  # a bundle whose life event the query names
    exact: bool = False  # the whole query is in the name
    display: tuple[str, str] = ("", "")


def rank(q: str, idx: Index | None = None) -> list[Hit]:
    """Bundles matching the life event first, then everything else by score (ties by code)."""
    idx = idx or index()
    text = normalise(q)
    terms = query_terms(q, idx)
    if not text or (not terms and not _bigrams(text)):
        return []
    n = max(1, len(idx.docs))
    weighted = [(t, t.weight * math.log(1 + n / (1 + idx.df(t.text)))) for t in terms]
    qgrams = _bigrams("".join(t.text for t in terms if t.origin != "phrase") or text)
    hits: list[Hit] = []
    for doc in idx.docs:
        score, event = 0.0, False
        for term, w in weighted:
            if term.text in doc.name:
                score += NAME_WEIGHT * w
                event = event or (doc.kind == "bundle" and term.origin != "char" and bool(doc.life_event)
                                  and (term.text in doc.life_event or doc.life_event in term.text))
            elif term.text in doc.text:
                score += TEXT_WEIGHT * w
        if qgrams:
            share = len(qgrams & doc.bigrams) / len(qgrams)
            if share >= 0.5:
                score += 2.0 * share
        exact = len(text) >= 2 and text in doc.name
        if exact:
            score += 5.0
        if score >= MIN_SCORE:
            hits.append(Hit(doc.kind, doc.pk, doc.code, score + doc.bonus, event, exact, doc.display))
    if not hits:
        return []
    best = max(h.score for h in hits)
    if any(h.exact for h in hits):  # the query names items: those (and the life event's bundles) only
        kept = [h for h in hits if h.exact or h.life_event]
    else:
        kept = [h for h in hits if h.score >= KEEP_SHARE * best or h.life_event]
    # an item the query names exactly, then bundles of the life event, then by score
    return sorted(kept, key=lambda h: (0 if h.exact else 1 if h.life_event else 2, -h.score, h.code))


def ranked_codes(q: str, idx: Index | None = None) -> list[str]:
    """Codes of the matching bundles and items in rank order (the evaluation's result list)."""
    return [h.code for h in rank(q, idx)]


def evaluate(cases: list[dict[str, Any]], idx: Index | None = None) -> dict[str, Any]:
    """Mean reciprocal rank over ``[{"q": ..., "expected": [code, ...]}]``: 1/rank of the first expected code
    in the result list (0 when none is found), and recall@5."""
    idx = idx or index()
    rows = []
    for case in cases:
        codes = ranked_codes(case["q"], idx)
        rank_ = next((i + 1 for i, c in enumerate(codes) if c in set(case["expected"])), None)
        rows.append({"q": case["q"], "rank": rank_, "top": codes[:3]})
    rr = [1.0 / r["rank"] if r["rank"] else 0.0 for r in rows]
    return {"queries": len(rows), "mrr": sum(rr) / max(1, len(rr)),
            "recall_at_5": sum(1 for r in rows if r["rank"] and r["rank"] <= 5) / max(1, len(rows)),
            "rows": rows}
