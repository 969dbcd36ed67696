"""Negation in a question: where it is, and which names it denies.

"Which experiences are not promoted nationwide?" asks for the opposite of "… promoted
nationwide?". A reading that fills a parameter with a denied name would answer the opposite
question, and a reading whose patterns say nothing of the negation would ignore it: both are
refused, so such a question is read by a query made for it (`negation:` in its patterns, or a
pattern that itself says 不在全国 / not nationwide) or is not understood.
"""

from __future__ import annotations

import re

from ftz_kg.ask.normalise import is_cjk

# before what they deny (at most a few characters or words before it)
_ZH_BEFORE = ("不是", "不在", "不属于", "不包括", "不包含", "不含", "不由", "不涉及", "不需要", "不用", "不被",
              "并非", "没有", "没在", "没被", "没", "未被", "未在", "未", "非", "除了", "除")
# after what they deny: 四川以外 / 海关之外
_ZH_AFTER = ("以外", "之外", "除外")
_ZH = re.compile("|".join(sorted(_ZH_BEFORE + _ZH_AFTER, key=len, reverse=True)))
# words that contain a negation character but do not deny: 有没有 (whether), 未来 (future), 非常 (very)
_ZH_NOT_NEGATION = re.compile("有没有|是不是|能不能|会不会|可不可以|要不要|是否|未来|非常|并非常")
# English, stemmed as questions are: not, never, excluding → exclud; n't is left as a lone "t"
_EN = frozenset({"not", "non", "never", "except", "exclud", "without", "t", "no", "apart"})
_WORD = re.compile(r"[a-z0-9]+")

ZH_WINDOW = 3      # characters between a Chinese negation and the name it denies (不在全国: 1)
EN_WINDOW = 3      # words between an English negation and the name ("not promoted nationwide": 1)


def negations(text: str) -> list[tuple[int, int]]:
    """The character spans of the negations in a normalised question."""
    masked = _ZH_NOT_NEGATION.sub(lambda m: " " * len(m.group()), text)
    found = [(m.start(), m.end()) for m in _ZH.finditer(masked)]
    words = list(_WORD.finditer(text))
    for i, word in enumerate(words):
        w = word.group()
        stemmed = "exclud" if w.startswith("exclud") else w
        if stemmed in _EN and not (w == "t" and (i == 0 or not words[i - 1].group().endswith("n"))):
            found.append((word.start(), word.end()))
        elif w == "other" and i + 1 < len(words) and words[i + 1].group() == "than":
            found.append((word.start(), words[i + 1].end()))
    return sorted(found)


def says_negation(phrase: str) -> bool:
    """Whether a pattern phrase (as the interpreter keeps it: tokens joined by spaces) is itself a
    negation, such as 不在全国 or "not nationwide"."""
    zh = "".join(t for t in phrase.split() if t and is_cjk(t[0]))
    en = " ".join(t for t in phrase.split() if t and not is_cjk(t[0]))
    return bool(negations(zh)) or bool(negations(en))


def denied(text: str, spans: list[tuple[int, int]], start: int, end: int) -> bool:
    """Whether the name at text[start:end] is denied by one of the negation spans."""
    for s, e in spans:
        if e <= start:
            between = text[e:start]
            if _is_zh(text[s:e]):
                if len(between.replace(" ", "")) <= ZH_WINDOW and text[s:e] not in _ZH_AFTER:
                    return True
            elif len(_WORD.findall(between)) <= EN_WINDOW:
                return True
        elif s >= end and text[s:e] in _ZH_AFTER and len(text[end:s].strip()) <= 1:
            return True
    return False


def _is_zh(word: str) -> bool:
    return bool(word) and is_cjk(word[0])
