"""Normalising question text and labels alike, so that both meet in one form.

NFKC (full-width digits, letters and punctuation become ASCII), case-folded, quotes and
punctuation of every kind become a space, and the traditional characters that occur in the
report's vocabulary become simplified ones. A full converter (OpenCC) would cover more; the graph's
vocabulary is small and this table covers its characters without a dependency.
"""

from __future__ import annotations

import re
import unicodedata

# traditional → simplified, for the characters of the report's vocabulary and of common question words
_T2S_PAIRS = (
    "動动 舉举 雲云 貿贸 試试 驗验 區区 資资 務务 創创 標标 準准 導导 關关 監监 營营 業业 與与 為为 這这 "
    "個个 們们 麼么 嗎吗 經经 濟济 開开 發发 歷历 現现 電电 線线 聯联 並并 簡简 實实 體体 權权 專专 欄栏 "
    "報报 告告 項项 類类 點点 國国 際际 貨货 運运 輸输 鐵铁 鄉乡 險险 銀银 會会 證证 稅税 務务 員员 "
    "產产 鏈链 環环 節节 場场 廣广 東东 蘇苏 徽徽 龍龙 陝陕 遼辽 瀋沈 慶庆 廈厦 門门 漢汉 鄭郑 長长 "
    "沙沙 陽阳 寧宁 覽览 揚扬 橫横 瓊琼 臺台 灣湾 澳澳 門门 審审 批批 證证 照照 務务 辦办 應应 "
    "機机 構构 總总 處处 單单 負负 責责 復复 製制 推推 廣广 範范 圍围 驗验 哪哪 些些 裡里 裏里 "
    "戰战 略略 帶带 諧谐 協协 調调 糾纠 紛纷 識识 產产 護护 務务 數数 據据 庫库 儲储 費费 價价 "
    "設设 立立 批批 屬属 於于 學学 術术 園园 區区 貸贷 款款 融融 擔担 保保 險险 匯汇 兌兑 "
    "貨货 幣币 結结 算算 換换 護护 規规 則则 條条 例例 擴扩 優优 勢势 際际 邊边 陸陆 岸岸 "
    "補补 貼贴 險险 統统 籌筹 組组 織织 團团 隊队 選选 舉举 職职 稱称 資资 質质 認认 "
    "許许 證证 銷销 售售 購购 買买 賣卖 進进 過过 還还 從从 後后 兩两 萬万 幾几 麼么 誰谁 "
    "問问 題题 說说 話话 讓让 給给 對对 將将 當当 時时 間间 點点 種种 樣样 裝装 貿贸 "
    "牽牵 頭头 聯联 繫系 係系 際际 網网 絡络 媒媒 輔辅 導导 級级 層层 屆届 歸归 檔档 案案 "
    "頒颁 佈布 務务 劃划 轉转 讀读 寫写 雙双 圈圈 濱滨 灣湾 港港 陝陕 黃黄 淮淮 貴贵 "
    "響响 動动 態态 獻献 願愿 傳传 統统 稱称 錢钱 錄录 華华 盧卢 鄰邻 尋寻 滬沪 蘭兰 齊齐"
)
_T2S = {pair[0]: pair[1] for pair in _T2S_PAIRS.split() if len(pair) == 2}
_T2S_TABLE = str.maketrans(_T2S)

# every kind of quote, bracket and punctuation, in their NFKC forms, that only separates words
_PUNCT = re.compile(r"[\s\"'`“”‘’「」『』《》〈〉【】〔〕()\[\]{}<>,.;:!?，。；：！？、…—–~·・|/\\*]+")
_CJK = r"\u3400-\u4dbf\u4e00-\u9fff"
_SPACE_CJK = re.compile(rf"(?<=[{_CJK}]) +(?=[{_CJK}])")


def to_simplified(text: str) -> str:
    return text.translate(_T2S_TABLE)


def fold(text: str) -> str:
    """NFKC, full-width → ASCII, case-folded, traditional → simplified (no punctuation removed)."""
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("－", "-").replace("‐", "-").replace("‑", "-").replace("−", "-")
    return to_simplified(text.casefold())


def normalise(text: str) -> str:
    """The form questions and labels are compared in: folded, punctuation and quotes as single
    spaces (hyphens between letters kept as spaces too), no space between two Chinese characters."""
    text = fold(text)
    text = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", text)   # sub-area → sub area, lin-gang → lin gang
    text = re.sub(r"\b(what|where|who|how|that|it|there)['’]s\b", r"\1 is", text)   # what's → what is
    text = re.sub(r"(?<=[a-z])['’]s\b", "", text)          # tianjin's → tianjin
    text = _PUNCT.sub(" ", text)
    text = _SPACE_CJK.sub("", text)
    return " ".join(text.split())


def is_cjk(char: str) -> bool:
    return "\u3400" <= char <= "\u4dbf" or "\u4e00" <= char <= "\u9fff"


def has_cjk(text: str) -> bool:
    return any(is_cjk(c) for c in text)


def language_of(text: str) -> str:
    """zh when the question has Chinese characters, else en."""
    return "zh" if has_cjk(text) else "en"


# English: a light stemmer and stop words, so that "innovate trade transport modes" meets the label
# "Innovating trade transport modes"
STOPWORDS = frozenset("a an the of and in on for to by at with its their from as or".split())


def stem(word: str) -> str:
    """A crude suffix stripper, the same on both sides: innovating/innovate/innovates → innovat."""
    if not word.isascii() or len(word) <= 2 or not word.isalpha():
        return word
    for suffix, repl in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 2 and not word.endswith("ss"):
            word = word[: len(word) - len(suffix)] + repl
            break
    if word.endswith("e") and len(word) > 2:
        word = word[:-1]
    return word


def tokens(text: str) -> list[str]:
    """A normalised text split into units: each Chinese character alone, each Latin word stemmed
    (stop words kept: whether they count is the caller's choice)."""
    out: list[str] = []
    for part in re.findall(rf"[{_CJK}]|[a-z0-9]+(?:-[0-9]+)?|[^\s{_CJK}a-z0-9]", text):
        out.append(part if is_cjk(part[0]) else stem(part))
    return out
