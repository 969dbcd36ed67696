"""From a question to readings: which canned query, with which parameters, answering how.

Each query with question patterns is scored against the question: its phrases found (outside the
entity mentions), plus one for every parameter filled by a mention of the parameter's class (types
checked), less one for every mention the reading leaves unexplained. The best reading is the answer;
two or more with the same best score make the question ambiguous and are offered; none means "not
understood", with the closest catalogue questions. A different question is never answered silently.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import itertools
import re
from dataclasses import dataclass, field

from ftz_kg.ask.intents import NUMBER_KINDS, Intent, load_intents
from ftz_kg.ask.lexicon import Lexicon, Mention, spans
from ftz_kg.ask.negation import denied, negations, says_negation
from ftz_kg.ask.normalise import language_of, normalise
from ftz_kg.query.binding import ANY_ENTITY
from ftz_kg.query.catalogue import Catalogue

MAX_QUESTION = 500
DEF = "https://w3id.org/ftz-kg/def#"
OTHER_NAMED = ("PublicBody", "Organization", "Theme", "ZoneGroup", "PolicyDocument", "Law",
               "InternationalAgreement", "LocalGovernment")


def phrase_key(text: str) -> str:
    """A phrase as it is looked for in a masked question: normalised, stemmed, space-separated."""
    return " ".join(t for t, _, _ in spans(normalise(text)))


COUNT_PHRASES = tuple(phrase_key(p) for p in (
    "多少", "几个", "几项", "几种", "几家", "几条", "几批", "几所", "几行", "数量", "一共", "how many", "number of"))
# 一共 ("altogether") counts only when the question does not also ask which (一共列了哪些: the list)
COUNT_IF_NOT_WHICH = tuple(phrase_key(p) for p in ("一共", "总共", "共"))
WHICH = tuple(phrase_key(p) for p in ("哪些", "什么", "啥", "which", "what"))
TABLE_WORDS = tuple(phrase_key(p) for p in ("表", "表格", "table", "tables"))
NOT_COUNT = phrase_key("哪几")
NOT_COUNT_THOSE = phrase_key("那几")   # 那几条经验: "those", a list
# asking for the names as well as the number: the list says both (黑龙江自贸区分几个片区，都叫啥)
NAMES_TOO = tuple(phrase_key(p) for p in ("都叫啥", "叫什么", "叫啥", "分别是", "分别叫", "都是哪些", "都有哪些",
                                          "which are they", "what are they", "name them", "list them", "and which"))
TOP_PHRASES = tuple(phrase_key(p) for p in ("最多", "最", "most", "the largest number", "top", "rank"))
# a question asking for a judgement (the best zone, what one thinks) is not one the report's facts answer
OPINION_PHRASES = tuple(phrase_key(p) for p in (
    "你觉得", "你认为", "最好", "最差", "好不好", "哪个好", "办得好", "best", "worst", "better", "opinion",
    "do you think", "should"))
# "US" / "U.S." in capitals is the country, not the pronoun
_US = re.compile(r"(?<![A-Za-z])U\.?S\.?A?\.?(?![A-Za-z])")


@dataclass(frozen=True)
class Reading:
    query: str
    params: tuple[tuple[str, str], ...]     # (name, value): IRIs for entities, text for the rest
    score: float = 0.0
    answer: str = "list"                    # list | count | top
    column: str = ""

    @property
    def values(self) -> dict[str, str]:
        return dict(self.params)

    def key(self) -> tuple:
        return (self.query, self.params)


@dataclass
class Interpretation:
    question: str
    lang: str
    status: str                              # answered | ambiguous | not-understood | too-long | empty
    readings: list[Reading] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)
    suggestions: list[tuple[str, str]] = field(default_factory=list)   # (query, example question)

    @property
    def reading(self) -> Reading | None:
        return self.readings[0] if self.status == "answered" else None


class Interpreter:
    def __init__(self, engine, catalogue: Catalogue | None = None, intents: list[Intent] | None = None,
                 lexicon: Lexicon | None = None):
        self.catalogue = catalogue or Catalogue.load()
        self.intents = intents if intents is not None else load_intents(self.catalogue)
        classes = {p.entity_class for i in self.intents for n, how in i.params.items() if how == "entity"
                   for p in [i.query.param(n)] if p.entity_class and p.entity_class != ANY_ENTITY}
        # names of other things too, so that a question naming something no parameter takes is not
        # answered as if it had not named it
        classes |= {DEF + c for c in OTHER_NAMED}
        self.lexicon = lexicon or Lexicon.from_engine(engine, classes)
        self.engine = engine
        # the intents in this lexicon's terms: phrases are looked for as questions are, with their
        # mentions masked (a phrase that is nothing but a name is said by the mention itself)
        self.intents = [dataclasses.replace(
            intent,
            phrases={m: w for p, w in intent.phrases.items() if (m := self._mask_phrase(p)).replace("¤", "").strip()},
            exclude=tuple(sorted({f(p) for p in intent.exclude for f in (self._mask_phrase, phrase_key)})),
            params={name: ({v: [self._mask_phrase(p) for p in ps] for v, ps in how.items()}
                           if isinstance(how, dict) else how) for name, how in intent.params.items()})
            for intent in self.intents]
        self.lexicon.pattern_words = {t for i in self.intents for p in i.phrases for t in p.split()}
        self.lexicon.__dict__.pop("_vocabulary", None)    # made while the patterns were read: again with their words
        # the phrases that are themselves a negation (不在全国, not nationwide), per query
        self._negative = {i.name: {p for p in i.phrases if says_negation(p)} for i in self.intents}

    def _mask_phrase(self, text: str) -> str:
        return self._masked(text, self.lexicon.mentions(text)).strip()

    # -- the steps -------------------------------------------------------------------------------

    def interpret(self, question: str, lang: str | None = None) -> Interpretation:
        """The question's reading(s). A question not understood as written, or understood only through
        a generic word (金融 in 金融服务实体经济这块有啥新模式), is tried once more with names said
        shortened, described or one character off; the reading then says which name it took."""
        first = self._interpret(question, lang, False)
        generic_only = first.status == "answered" and all(m.weak for m in first.mentions if m.kind == "entity")
        # words in quotes are a name: a reading that takes only part of them read another name
        quotes = _quoted(question)
        unquoted = first.status == "answered" and not _quotes_named(quotes, first.mentions)
        if first.status != "not-understood" and not generic_only and not unquoted:
            return first
        second = self._interpret(question, lang, True)
        if unquoted:
            return second if second.status == "answered" and _quotes_named(quotes, second.mentions) else first
        if generic_only:   # a name said in other words is more than the generic word beside it
            named = second.status == "answered" and any(not m.weak for m in second.mentions if m.kind == "entity")
            return second if named else first
        return second if second.status != "not-understood" else first

    def _interpret(self, question: str, lang: str | None, misspelt: bool) -> Interpretation:
        lang = lang or language_of(question)
        if len(question) > MAX_QUESTION:
            return Interpretation(question, lang, "too-long")
        text = normalise(question)
        if not text:
            return Interpretation(question, lang, "empty", suggestions=self.suggest("", lang))
        mentions = self.lexicon.mentions(text, misspelt)
        if _US.search(question):
            mentions.append(Mention(0, 0, "US", "outside", value="United States"))
        masked = self._masked(text, mentions)
        plain = self._masked(text, [])   # the same tokens unmasked: an excluding phrase may contain a name
        counting = masked.replace(NOT_COUNT, " ").replace(NOT_COUNT_THOSE, " ")
        if _has(counting, WHICH):
            for phrase in COUNT_IF_NOT_WHICH:
                counting = counting.replace(f" {phrase} ", " ")
        answer = ("top" if _has(masked, TOP_PHRASES)
                  else "count" if _has(counting, COUNT_PHRASES) and not _has(masked, NAMES_TOO) else "list")
        # negations outside the names (不动产 is a name, not a negation), and the names they deny
        spans_ = [s for s in negations(text) if not any(m.start < s[1] and s[0] < m.end for m in mentions)]
        negated = [m for m in mentions if denied(text, spans_, m.start, m.end)]
        readings: list[Reading] = []
        if not _has(plain, OPINION_PHRASES):
            for intent in self.intents:
                readings.extend(self._readings(intent, masked, mentions, answer, plain, bool(spans_), negated,
                                               text))
        if not readings:
            return Interpretation(question, lang, "not-understood", mentions=mentions,
                                  suggestions=self.suggest(text, lang, mentions))
        readings.sort(key=lambda r: -r.score)
        best = readings[0].score
        top = list({r.key(): r for r in readings if r.score >= best - 1e-9}.values())
        if len(top) == 1:
            return Interpretation(question, lang, "answered", top, mentions)
        return Interpretation(question, lang, "ambiguous", self._offer(top, readings, mentions), mentions)

    def _masked(self, text: str, mentions: list[Mention]) -> str:
        """The question's tokens (slips corrected) with every mention replaced by one placeholder,
        space-separated."""
        out, inside = [], None
        for token, start, end in self.lexicon.correct(spans(text)):
            # generic names (自贸试验区, FTZ, 全国) stay words the patterns can use
            m = next((m for m in mentions if m.start <= start and end <= m.end and not m.weak), None)
            if m is not None:
                if m is not inside:
                    out.append("¤")
                inside = m
                continue
            inside = None
            out.append(token)
        return " " + " ".join(out) + " "

    def _readings(self, intent: Intent, masked: str, mentions: list[Mention], answer: str,
                  plain: str = "", negative: bool = False, negated: list[Mention] = (),
                  text: str = "") -> list[Reading]:
        if any(_found(masked, p) or _found(plain, p) for p in intent.exclude):
            return []
        if answer == "top" and "top" not in intent.kinds:
            return []
        if answer != "top" and answer not in intent.kinds and intent.kinds == ("top",):
            return []
        matched = [p for p in intent.phrases if _found(masked, p)]
        # a phrase inside a longer matched phrase counts once
        matched = [p for p in matched if not any(p != q and f" {p} " in f" {q} " for q in matched)]
        score = sum(intent.phrases[p] for p in matched)
        # a question that denies something is read only by a query that says the same negation
        answers_denial = intent.negation and any(self.lexicon.entities[iri].kind in intent.negation
                                                 for m in negated for iri in m.entities)
        if answers_denial:
            score += 3
        if negative and not answers_denial and not any(p in self._negative[intent.name] for p in matched):
            return []
        if score <= 0 and not intent.bare:
            return []
        if score <= 0 and intent.bare and _content_left(masked):
            return []
        if intent.kinds == ("top",) and not intent.params and score < 2:
            return []     # a ranking of what? "the most" with a word as generic as 自贸区 does not say
        out = []
        for values, used in self._fill(intent, mentions, masked):
            if values is None or any(m in negated for m in used):   # filled with a denied name: the opposite
                continue
            filled = sum(1 for m in used)
            used_entities = {iri for m in used for iri in m.entities}
            # a domain said beside the number of the table that lists it (table 7 (differentiated tasks))
            used_entities |= {iri for iri, n in self.lexicon.table_of.items()
                              if any(u.kind == "table" and u.value == n for u in used)}
            unexplained = [m for m in mentions if m not in used and not m.weak
                           and not any(u.kind == m.kind and u.value == m.value and m.kind != "entity" for u in used)
                           and not (m.kind == "entity" and set(m.entities) & used_entities)
                           and not self._tolerated(intent, m) and not self._says_where(m, used_entities)]
            if unexplained:   # the reading would leave part of the question unanswered: not this one
                continue
            if used and all(m.weak for m in used) and self._more_specific(intent, used, matched, text, mentions):
                continue      # "optimise trade procedures": a narrower name half said, not the generic one
            narrower = (self._narrower(intent, values, used, matched, text, mentions)
                        if intent.column in ("measure", "experience") else values)
            if narrower is None:
                continue      # words of several narrower concepts beside it: which one is not clear
            values = narrower
            if self._names_something_else(used, matched, text, mentions):
                continue      # "treat an enterprise group as one single unit": most of another name, unused
            if (not used and "top" not in intent.kinds and not answers_denial
                    and max((intent.phrases[p] for p in matched), default=0) < 2):
                continue      # nothing named fills it: it takes one of its distinctive phrases (weight 2)
            total = score + filled
            kind = answer if answer in intent.kinds else "list"
            out.append(Reading(intent.name, tuple(sorted(values.items())), total, kind, intent.column))
        return out

    def _leftover(self, matched: list[str], text: str, mentions: list[Mention]) -> tuple[list[str], list[str]]:
        """The question's words outside its names, its patterns and the words every question uses:
        English words of four letters or more, and pairs of Chinese characters."""
        phrase_tokens = {t for p in matched for t in p.split()}
        left = [t for t, s, e in spans(text)
                if not any(m.start <= s and e <= m.end for m in mentions)
                and t not in phrase_tokens and t not in _FILLER and t not in _QUESTION_WORDS]
        self._asking()
        english = [t for t in left if t.isascii() and len(t) >= 4 and t not in self._asking_words]
        chinese = [a + b for a, b in zip(left, left[1:])
                   if not a.isascii() and not b.isascii() and a + b not in self._asking_words]
        return english, chinese

    def _names_something_else(self, used: list[Mention], matched: list[str], text: str,
                              mentions: list[Mention]) -> bool:
        """Whether the question's other words say most of the name of something the reading does
        not use (two words or character pairs at least, two fifths of that name's)."""
        english, chinese = self._leftover(matched, text, mentions)
        said = set(english) | set(chinese)
        if len(said) < 2:
            return False
        self._words_of(frozenset())            # builds the names' words
        if not hasattr(self, "_named_by"):
            self._named_by: dict[str, set[str]] = {}
            for iri, words in self._name_words.items():
                for word in words:
                    self._named_by.setdefault(word, set()).add(iri)
        taken = {iri for m in mentions for iri in m.entities}
        said -= self._words_of(frozenset(taken))   # the rest of a name said in part (coordinated development)
        counts: dict[str, int] = {}
        for word in said:
            for iri in self._named_by.get(word, ()):
                if iri not in taken:
                    counts[iri] = counts.get(iri, 0) + 1
        def share(iri: str, n: int) -> bool:     # of the name's words in the language they were said in
            words = self._name_words[iri]
            english_words = sum(1 for w in words if w.isascii())
            size = english_words if english else len(words) - english_words
            return 5 * n >= 2 * max(size, 1)
        return any(n >= 2 and share(iri, n) for iri, n in counts.items())

    def _asking(self) -> None:
        if not hasattr(self, "_asking_words"):   # the words of every pattern: how questions ask, not what about
            toks = [p.split() for i in self.intents for p in (*i.phrases, *i.exclude)]
            self._asking_words = {t for ts in toks for t in ts} | {a + b for ts in toks for a, b in zip(ts, ts[1:])}

    def _narrower(self, intent: Intent, values: dict, used: list[Mention], matched: list[str], text: str,
                  mentions: list[Mention]) -> dict | None:
        """The values with a concept replaced by the narrower one the question's other words name
        (把并联审批扩大到更多部门: 扩大并联审批的部门范围, under 推动并联化); None when the words belong
        to several narrower concepts; the values unchanged when they belong to none."""
        concepts = {name: iri for name, iri in values.items()
                    if iri in self.lexicon.entities and any(iri in e.ancestors for e in self._children_of(iri))}
        if not concepts:
            return values
        english, chinese = self._leftover(matched, text, mentions)
        if not english and not chinese:
            return values
        out = dict(values)
        for name, iri in concepts.items():
            own = self._words_of(frozenset({iri}))
            said = {w for w in (*english, *chinese) if w not in own}
            hits = [child for child in self._children_of(iri) if said & self._words_of(frozenset({child.iri}))]
            if len(hits) > 1:
                return None
            if hits and self._entity_fits(hits[0].iri, intent.query.param(name).entity_class):
                out[name] = hits[0].iri
            elif hits:
                return None
        return out

    @functools.lru_cache(maxsize=512)
    def _children_of(self, iri: str) -> tuple:
        return tuple(e for e in self.lexicon.entities.values() if iri in e.ancestors and e.kind == "innovation")

    def _words_of(self, iris: frozenset) -> frozenset:
        """English words and Chinese character pairs of the names of these entities."""
        if not hasattr(self, "_name_words"):      # one pass over the lexicon, on first use
            self._name_words: dict[str, set[str]] = {}
            for key, named in self.lexicon.index.items():
                words = {t for t in key if t.isascii()}
                words.update(a + b for a, b in zip(key, key[1:]) if not a.isascii() and not b.isascii())
                for iri in named:
                    self._name_words.setdefault(iri, set()).update(words)
        return frozenset().union(*(self._name_words.get(iri, ()) for iri in iris))

    def _more_specific(self, intent: Intent, used: list[Mention], matched: list[str], text: str,
                       mentions: list[Mention]) -> bool:
        """Whether the words of the question outside its names and patterns belong to the names of
        other entities of the class a generic mention fills (优化…流程 beside 贸易: 优化相关流程)."""
        english, chinese = self._leftover(matched, text, mentions)
        said = set(english) | set(chinese)
        if not said:
            return False
        classes = [intent.query.param(name).entity_class for name, how in intent.params.items() if how == "entity"]
        return any(said & self._class_words(klass, frozenset(m.entities)) for m in used for klass in classes)

    @functools.lru_cache(maxsize=64)
    def _class_words(self, klass: str | None, besides: frozenset) -> frozenset:
        """English words and Chinese character pairs of the names of the other entities of a class, less
        those of the names of `besides` (领域 / field in 金融领域: the generic name's own words say nothing more)."""
        self._words_of(frozenset())            # builds the names' words
        words = set().union(*(named for iri, named in self._name_words.items()
                              if iri not in besides and self._entity_fits(iri, klass)))
        return frozenset(words - self._words_of(besides))

    def _says_where(self, mention: Mention, used: set[str]) -> bool:
        """Whether an unused name only says where a concept the reading uses sits: its words are
        words of the names of that concept's broader ones (*customs* beside 对企业集团视为整体进行管理,
        under 创新通关监管模式, *customs clearance and supervision models*)."""
        if mention.kind != "entity" or not used:
            return False
        broader = frozenset(a for iri in used if iri in self.lexicon.entities
                            for a in self.lexicon.entities[iri].ancestors)
        if not broader:
            return False
        key = [t for t, _, _ in spans(mention.text)]
        words = {t for t in key if t.isascii()} | {a + b for a, b in zip(key, key[1:])
                                                    if not a.isascii() and not b.isascii()}
        return bool(words) and words <= self._words_of(broader)

    def _tolerated(self, intent: Intent, mention: Mention) -> bool:
        if mention.kind != "entity":   # a number kind, or a kind with the one value tolerated (year=2020)
            return mention.kind in intent.tolerate or f"{mention.kind}={mention.value}" in intent.tolerate
        return any(self.lexicon.entities[iri].kind in intent.tolerate for iri in mention.entities)

    def _fill(self, intent: Intent, mentions: list[Mention], masked: str):
        """Every way of filling the intent's parameters from the mentions: (values, mentions used);
        values None when a required parameter stays empty."""
        choices: list[list[tuple[str, str | None, Mention | None]]] = []
        taken: list[Mention] = []
        for name, how in intent.params.items():
            param = intent.query.param(name)
            options: list[tuple[str, str | None, Mention | None]] = []
            if isinstance(how, dict):
                for value, phrases in how.items():
                    if any(_found(masked, p) for p in phrases):
                        options.append((name, value, None))
                        break
            elif how in NUMBER_KINDS:
                m = next((m for m in mentions if m.kind == how and m not in taken), None)
                if m is None and how == "table" and _has(masked, TABLE_WORDS):
                    # 产业链开放发展那张表: the table named by the domain it lists
                    m = next((m for m in mentions if m.kind == "entity" and m not in taken
                              and len({self.lexicon.table_of.get(i) for i in m.entities} - {None}) == 1), None)
                    if m is not None:
                        taken.append(m)
                        options.append((name, next(self.lexicon.table_of[i] for i in m.entities
                                                   if i in self.lexicon.table_of), m))
                elif m is not None:
                    taken.append(m)
                    options.append((name, m.value, m))
            else:
                klass = param.entity_class
                candidates = [m for m in mentions if m.kind == "entity" and m not in taken
                              and self._fits(m, klass)]
                candidates.sort(key=lambda m: (m.weak, m.start))
                if candidates:
                    m = candidates[0]
                    taken.append(m)
                    for iri in m.entities:
                        if self._entity_fits(iri, klass):
                            options.append((name, iri, m))
                else:   # 附表5 says which experience domain; a bare "table 5" may mean it too
                    for m in mentions:
                        iri = self.lexicon.by_table.get(("annex-table", m.value)) if m.kind in (
                            "annex-table", "table") and m not in taken else None
                        if iri is not None and self._entity_fits(iri, klass) and (
                                m.kind == "annex-table" or _bare_table(m.text)):
                            taken.append(m)
                            options.append((name, iri, m))
                            break
            if not options:
                if param.required:
                    return [(None, [])]
                options = [(name, None, None)]
            choices.append(options)
        results = []
        for combo in itertools.product(*choices) if choices else [()]:
            values = {name: value for name, value, _ in combo if value is not None}
            used = [m for _, _, m in combo if m is not None]
            results.append((values, used))
        return results

    def _fits(self, mention: Mention, klass: str | None) -> bool:
        return any(self._entity_fits(iri, klass) for iri in mention.entities)

    def _entity_fits(self, iri: str, klass: str | None) -> bool:
        if klass is None or klass == ANY_ENTITY:
            return True
        return klass in self.lexicon.entities[iri].classes

    def _offer(self, top: list[Reading], readings: list[Reading], mentions: list[Mention]) -> list[Reading]:
        """The readings to offer for an ambiguous question: those that tie, and where a mention names
        several entities, the best reading of each of them too."""
        offered = {r.key(): r for r in top}
        for m in mentions:
            if len(m.entities) < 2:
                continue
            for iri in m.entities:
                for bare in (False, True):
                    best = next((r for r in readings if iri in r.values.values()
                                 and (not bare or self._bare(r.query))), None)
                    if best is not None:
                        offered.setdefault(best.key(), best)
        return list(offered.values())[:6]

    def _bare(self, name: str) -> bool:
        return any(i.bare for i in self.intents if i.name == name)

    def suggest(self, text: str, lang: str, mentions: list[Mention] = (), n: int = 3) -> list[tuple[str, str]]:
        """The catalogue questions closest to the text: first those of queries that take something the
        question names, then by likeness to their example questions and summaries."""
        named = [iri for m in mentions for iri in m.entities]
        kinds = {m.kind for m in mentions if m.kind != "entity"}

        def takes(intent: Intent) -> bool:
            for name, how in intent.params.items():
                klass = intent.query.param(name).entity_class
                if how == "entity" and klass != ANY_ENTITY and any(self._entity_fits(i, klass) for i in named):
                    return True
                if isinstance(how, str) and how in kinds:
                    return True
            return False

        pool = []
        for intent in sorted(self.intents, key=lambda i: not takes(i)):
            summary = intent.query.summary_zh if lang == "zh" else intent.query.summary
            for example in (*intent.examples, summary):
                pool.append((intent.name, example))
        preferred = {i.name for i in self.intents if takes(i)}
        scored = sorted(pool, key=lambda item: (item[0] not in preferred,
                                                -difflib.SequenceMatcher(None, text, normalise(item[1])).ratio()))
        out, seen = [], set()
        for name, example in scored:
            if name in seen or (lang == "zh") != any("\u4e00" <= c <= "\u9fff" for c in example):
                continue
            seen.add(name)
            out.append((name, example))
            if len(out) == n:
                break
        return out


_FILLER = set(phrase_key("what is about tell me 什么 是 有 的 吗 呢 啊 哪些 关于 介绍 一下 都 啥 show please").split())
# words of questions, never of names
_QUESTION_WORDS = set(phrase_key("which what who where how many much are is do does did there any list give "
                                 "can you 哪 些 个 几 多 少 吗 呢 了 么 请 问 列 出 "
                                 # and generic words every name of a kind may end with
                                 "field area domain sector 领 域 方 面 "
                                 # English function words
                                 "into onto from with about under over than that this these those have been "
                                 "done make made more most some such each only also just like them they their "
                                 "where while whose would could should does report ftzs zones").split())


_QUOTED = re.compile(r"[\"“「『‘]([^\"”」』’“「『‘]{3,})[\"”」』’]")


def _quoted(question: str) -> list[tuple[int, int]]:
    """The character spans, in the normalised question, of what the question puts in quotes."""
    text = normalise(question)
    spans_ = []
    for match in _QUOTED.finditer(question):
        inner = normalise(match.group(1))
        at = text.find(inner) if inner else -1
        if at >= 0:
            spans_.append((at, at + len(inner)))
    return spans_


def _quotes_named(quotes: list[tuple[int, int]], mentions: list[Mention]) -> bool:
    """Whether each quoted text is mostly (four fifths) one name the reading found."""
    return all(any(m.kind == "entity" and 5 * (min(m.end, e) - max(m.start, s)) >= 4 * (e - s) for m in mentions)
               for s, e in quotes)


def _content_left(masked: str) -> bool:
    return any(t not in _FILLER and t != "¤" for t in masked.split())


def _bare_table(text: str) -> bool:
    """表5 / table 5, not 部分创新举措表5: a table the annex numbers the same way too."""
    return "创新举措" not in text


def _found(masked: str, phrase: str) -> bool:
    return f" {phrase} " in masked


def _has(masked: str, phrases) -> bool:
    return any(_found(masked, p) for p in phrases)


@functools.lru_cache(maxsize=1)
def default_interpreter() -> Interpreter:
    from ftz_kg.query.store import default_engine

    return Interpreter(default_engine())
