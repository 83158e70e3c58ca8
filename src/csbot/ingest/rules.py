"""The vocabulary and patterns cleaning uses to recognise spam, site chrome and mojibake.

Rules match the *normalised* line (full-width folded, Traditional→Simplified, lower case),
so one rule covers both scripts. Each rule names the reason a trainer sees in
``csbot clean DOC --removed``.
"""

from __future__ import annotations

import re

# Gambling, porn, illicit trade and contact-me advertising that web scrapes pick up.
SPAM_TERMS: dict[str, tuple[str, ...]] = {
    "gambling spam": (
        "棋牌",
        "炸金花",
        "宝运莱",
        "娱乐平台",
        "视讯",
        "博彩",
        "赌场",
        "百家乐",
        "老虎机",
        "六合彩",
        "时时彩",
        "真人娱乐",
        "斗地主",
        "捕鱼",
        "体育投注",
        "彩票",
    ),
    "porn spam": ("做受", "高潮", "色情", "成人视频", "黄色网站", "av女", "xxxx", "一级毛片"),
    "illicit-trade spam": ("献血黑市", "黑市", "代开发票", "办证", "枪支", "迷药"),
    "advertising": (
        "客户端下载",
        "app下载",
        "app官网",
        "安卓版",
        "唯一正版",
        "最新下载",
        "qq号码",
        "有事点这里",
        "加微信",
        "名企招聘",
        "加入知乎",
    ),
}

# Furniture of the news and document-sharing sites the seeds were scraped from.
CHROME_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (reason, re.compile(pattern))
    for reason, pattern in (
        ("download disclaimer", r"下载文档前请自行甄别|仅部分预览|如文档侵犯您的权益|可反馈申请退款"),
        ("document-sharing site furniture", r"由会员分享|可在线阅读|请在.{0,12}上搜索|珍藏版"),
        ("document-sharing site furniture", r"^-?\s*(格式|大小|文档页数|配套讲稿|特殊限制|关\s*键\s*词)\s*:"),
        ("document-sharing site furniture", r"首页显示word图标|作品整体效果示例|禁止商用"),
        ("site promotion", r"更多精彩资讯|持续为您更新|查看全部|推荐文章|猜你喜欢|附近的人在看"),
        ("site promotion", r"^(推荐阅读|拓展阅读|相关资讯|最新资讯|网友关注|热门推荐)$"),
        ("page furniture", r"打印此页|【返回|^返回顶部|^上一篇|^下一篇"),
        ("copyright footer", r"版权所有|copyright|all rights reserved|©"),
        ("link", r"^链接地址\s*:|^!\[[^\]]*\]\(https?://|^https?://\S+$"),
        ("site header", r"发布者\s*:.*来源|来源\s*:\s*本站|人气\s*:\s*\d|更新日期\s*:\s*\d{4}"),
        ("breadcrumb navigation", r"^首页\s*>|^>\s*\S"),
        ("search-engine keywords", r"_专业资料。"),
        ("template placeholder", r"^\[!--[\w.]+--\]$"),
    )
)

# In-line chrome: removed from within a line that is otherwise content.
INLINE_CHROME: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("page navigation", re.compile(r"(详细解答[:：])?下一题\(\d+/\d+\)")),
    ("page navigation", re.compile(r"\(\d+/\d+\)(?=案例)")),
)

HTML_TAG = re.compile(r"</?[a-zA-Z][^<>]*>|<!--.*?-->")

# A numbered page marker at the start of a line: "2、户服务信息管理…"
PAGE_MARKER = re.compile(r"^(\d{1,3})、")
# Line ends that close a sentence; a page break elsewhere splits a word or sentence.
TERMINAL = "。！？；!?;」』”)）】"
# "…;2。" — an item number the scraper punctuated as a sentence end and broke after.
DANGLING_ITEM_NUMBER = re.compile(r"(?<![\d.])(\d{1,2})。$")

# Headings and list markers: a short line starting with one of these is structure, not a link.
STRUCTURE_START = re.compile(
    r"^(第[一二三四五六七八九十百\d]+[章节篇部分]|[一二三四五六七八九十]+[、.]|"
    r"[(（][一二三四五六七八九十\d]+[)）]|\d+[.、．]|[①-⑳]|[ⅰ-ⅻⅠ-Ⅻ]|"
    r"(单元|案例|题库|模块)[一二三四五六七八九十\d]+)"
)

# Table-of-contents entries: a heading followed by a page number ("一、宏观环境分析 2").
TOC_HEADING = r"(?:第[一二三四五六七八九十]+[章节]|[一二三四五六七八九十]+、|[ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩ])"
TOC_WITH_PAGES = re.compile(rf"(?:目\s*录)?(?:\s*{TOC_HEADING}\s*[^\d。；;]{{2,30}}?\s*\d{{1,3}}){{5,}}")
TOC_MARKER = re.compile(TOC_HEADING)
SENTENCE_END = re.compile(r"[。!?！？]")

# A PDF extraction that puts spaces between Chinese characters (``客户服 务管理 师``): in a
# document where that happens at least once per PDF_SPACED_SHARE⁻¹ Chinese characters (the
# occupational standard: 10 per 100, 766 in all; the other documents: at most 0.3 and 11), those spaces go.
_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
PDF_SPACE = re.compile(rf"(?<=[{_CJK}])[ \t\u3000]+(?=[{_CJK}])")
CJK_CHAR = re.compile(rf"[{_CJK}]")
PDF_SPACED_SHARE = 0.01
PDF_SPACED_MIN = 20  # … and at least this many in all: a few spaces in a short text are no sign
