"""What a question not understood may be about: the entities whose names or texts have its words,
found through the text index (ftz_kg/search), offered as links beside the catalogue's questions.

A question is not understood when no canned query reads it; its words may still name or describe
something the graph has (*bonded jet fuel*, 企业集团). Each word of the question that is not a word
of how questions ask (the catalogue's patterns: *which*, 举措, 有哪些 …) is looked up on its own, and
the entities most of those words lead to come first. These are suggestions to look at, never an
answer: the answer stays "not understood".
"""

from __future__ import annotations

from ftz_kg.ask.normalise import STOPWORDS, stem

MAX_WORDS = 12          # words looked up per question
PER_WORD = 20           # hits read per word


def related(question: str, interpreter, index, lang: str, limit: int = 5) -> list[dict]:
    """Up to `limit` entities (iri, label, type label) the question's own words lead to, those that
    more of its words lead to first, then by how well the best word matched (name before text)."""
    if index is None or not question.strip():
        return []
    interpreter._asking()
    asking = interpreter._asking_words
    required, optional = index.words(question)
    words = []
    for word in dict.fromkeys(required + optional):
        if word.isascii():
            if len(word) < 3 or word in STOPWORDS or stem(word) in asking:
                continue
        elif len(word) < 2 or word in asking or all(word[i:i + 2] in asking for i in range(len(word) - 1)):
            continue
        words.append(word)
    scores: dict[str, list] = {}
    for word in words[:MAX_WORDS]:
        for hit in index.search(word, lang, PER_WORD):
            entry = scores.setdefault(hit.iri, [0, 9, hit])
            entry[0] += 1
            entry[1] = min(entry[1], hit.rank)
    ranked = sorted(scores.values(), key=lambda e: (-e[0], e[1], e[2].iri))[:limit]
    if not ranked:
        return []
    names = index.labels([e[2].iri for e in ranked] + [e[2].type for e in ranked], lang)
    return [{"iri": hit.iri, "label": names.get(hit.iri, hit.iri), "type": names.get(hit.type, "")}
            for _, _, hit in ranked]
