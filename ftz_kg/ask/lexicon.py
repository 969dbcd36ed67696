"""The lexicon: every label and alternative name, in both languages, of every entity that can fill
a canned query's parameter, indexed by normalised form; and the mentions found in a question by
longest match (Chinese without spaces: the graph's own labels are the dictionary).

Besides the graph's labels, a few regular short forms are derived (中国（四川）自由贸易试验区 →
四川 / 四川自贸区; 南京片区 → 南京; 推动并联化 → 并联化; 投资领域 ↔ 投资; "Sichuan FTZ" → sichuan), and
`aliases.yaml` adds the short forms the report uses that the graph lacks, each with its source.
Numbers that fill parameters (表3, 专栏3-6, 第三批, 2019年, annex table 3) are found by patterns.
Slips are forgiven within bounds: an English word of seven letters or more one or two letters off a
label's word, an English name of four words or more said in another order or missing one word, and
(only for a question not understood as written) a Chinese name of five characters or more with one
character wrong. Whatever is taken that way is shown in the reading, like every name.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from ftz_kg.resources import load_yaml
from ftz_kg.ask.normalise import STOPWORDS, has_cjk, is_cjk, normalise, stem

NS = "https://w3id.org/ftz-kg/"
DEF = NS + "def#"
ALIASES = Path(__file__).with_name("aliases.yaml")
OUTSIDE = Path(__file__).with_name("outside.yaml")

# generic words that name an entity but mostly just say what the question is about: an unused one
# is not an unexplained mention
# English words that make a sub-area's name (Central Area, Port Area) but name nothing by themselves
GENERIC = frozenset("central east west north south port new high end industry international business services "
                    "science technology innovation airport bonded comprehensive free trade zone city district "
                    "economic development".split())

# words of questions that a shortened name never starts or ends with
GENERIC_QUESTION = frozenset("which what who where how many much are is do doe did there any list give can you measur "
                             "experienc approach point zon ftz ftzs report".split())

# English words that say the same thing in this report's names (merge / integrate), read as one only
# when a name is described rather than said (stemmed as questions are)
SAME_WORDS = {"merg": "integrat", "combin": "integrat", "kind": "category", "typ": "category",
              "cutt": "lower", "cut": "lower", "reduc": "lower", "low": "lower",
              "wider": "widen", "expand": "widen", "broaden": "widen", "extend": "widen"}

# acronyms that are also English words: never a mention (MOST, SAFE)
NOT_NAMES = frozenset({"most", "safe", "top"})

WEAK = frozenset({"自贸试验区", "自贸区", "自由贸易试验区", "自由贸易区", "ftz", "ftzs", "pilot ftz", "pilot ftzs",
                  "pilot free trade zon", "free trade zon", "zon", "全国", "全国推广", "nationwid", "nationally", "trad", "investment",
                  "贸易", "投资", "金融", "finance", "financ", "supervision",
                  "across the country", "whole country", "countrywide", "全国范围", "go national", "went national", "across the whole country"})


@dataclass
class Entity:
    iri: str
    classes: frozenset[str]
    label_zh: str = ""
    label_en: str = ""
    ancestors: frozenset[str] = frozenset()   # broader concepts, the zone of a sub-area

    def label(self, lang: str) -> str:
        return (self.label_en or self.label_zh) if lang == "en" else (self.label_zh or self.label_en)

    @property
    def kind(self) -> str:
        return self.iri[len(NS):].split("/")[0] if self.iri.startswith(NS) else ""


@dataclass
class Mention:
    start: int                 # character span in the normalised question
    end: int
    text: str
    kind: str                  # entity | table | annex-table | box | batch | year | outside (a place the report does not cover)
    entities: tuple[str, ...] = ()   # for entity mentions: every entity the words name
    value: str | None = None         # for number mentions
    weak: bool = False

    def overlaps(self, other: "Mention") -> bool:
        return self.start < other.end and other.start < self.end


# -- tokens with their character spans -----------------------------------------------------------

_TOKEN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]|[a-z0-9]+(?:-[0-9]+)?")


def spans(text: str) -> list[tuple[str, int, int]]:
    """(stemmed token, start, end) of every token of a normalised text, English stop words left out."""
    out = []
    for match in _TOKEN.finditer(text):
        word = match.group()
        if not is_cjk(word[0]) and word in STOPWORDS:
            continue
        out.append((word if is_cjk(word[0]) else stem(word), match.start(), match.end()))
    return out


def key_of(text: str) -> tuple[str, ...]:
    return tuple(token for token, _, _ in spans(normalise(text)))


# -- derived short forms -------------------------------------------------------------------------

_ZONE_ZH = re.compile(r"^(?:中国[(（])?(.+?)[)）]?(?:自由贸易试验区|自贸试验区)$")
_ZONE_EN = re.compile(r"^(?:china \()?(.+?)\)? (?:pilot free trade zone|ftz)$", re.I)


def variants(label: str, kind: str) -> set[str]:
    """The label and the regular short forms derived from it."""
    forms = {label}
    text = label.strip()
    # the quoted name inside a label: 货物贸易“一保多用”管理模式 → 一保多用
    for quoted in re.findall(r"[“\"]([^”\"]{3,})[”\"]", text):
        forms.add(quoted)
    if not has_cjk(text):
        low = text.lower()
        for prefix in ("exploring ", "new ", "innovating ", "development of the ", "building "):
            if low.startswith(prefix) and len(low) > len(prefix) + 8:
                forms.add(text[len(prefix):])
        for form in list(forms):   # IP for intellectual property, in the short forms too
            if "intellectual property" in form.lower():
                forms.add(re.sub("intellectual property", "ip", form, flags=re.I))
    if kind == "zone":
        m = _ZONE_ZH.match(text)
        if m:
            x = m.group(1)
            forms |= {x, x + "自贸区", x + "自贸试验区", x + "自由贸易试验区", x + "自由贸易区"}
        m = _ZONE_EN.match(text)
        if m:
            x = m.group(1)
            forms |= {x, f"{x} ftz", f"{x} pilot ftz", f"{x} pilot free trade zone", f"{x} free trade zone",
                      f"{x} zone"}
    elif kind == "subarea":
        for suffix in ("新片区", "片区"):
            if text.endswith(suffix) and len(text) - len(suffix) >= 2:
                forms.add(text[: -len(suffix)])
                forms.add(text[: -len(suffix)] + "片区")
                break
        m = re.match(r"^(.+?) (?:special |new )?area$", text, re.I)
        if m and not set(m.group(1).lower().replace("-", " ").split()) & GENERIC:
            forms |= {m.group(1), m.group(1) + " sub-area"}
    elif kind == "innovation":
        for prefix in ("推动", "探索", "创新", "实行"):
            if text.startswith(prefix) and len(text) - len(prefix) >= 3:
                forms.add(text[len(prefix):])
        if has_cjk(text) and not text.endswith("领域"):
            forms.add(text + "领域")
    elif kind == "experience-domain":
        if text.endswith("领域"):
            forms.add(text[:-2])
    return forms


class Lexicon:
    def __init__(self, entities: dict[str, Entity], index: dict[tuple[str, ...], set[str]],
                 weak: set[tuple[str, ...]], outside: dict[tuple[str, ...], str] | None = None):
        self.entities = entities
        self.index = index
        self.weak = weak
        self.lengths = sorted({len(k) for k in index}, reverse=True)
        # places outside the report (another country, a province without a pilot FTZ): a question
        # naming one is about something the graph does not hold
        # (a name that contains one, as 中共中央台湾工作办公室 does, is longer and wins)
        self.outside = {k: v for k, v in (outside or {}).items() if k not in index}
        self.outside_lengths = sorted({len(k) for k in self.outside}, reverse=True)
        self.by_table: dict[tuple[str, str], str] = {}    # (annex-table, N) → the entity the table lists
        self.pattern_words: set[str] = set()   # words of the questions' patterns, for slips (experiances)
        self.close_matches: dict[str, str] = {}  # Part 2 domain → the annex domain that matches it
        self.table_of: dict[str, str] = {}       # Part 2 domain → the number of the table 部分创新举措表N that lists it

    # -- building --------------------------------------------------------------------------------

    @classmethod
    def from_engine(cls, engine, classes: set[str], aliases: Path | None = ALIASES) -> "Lexicon":
        """Every entity of one of `classes` (or a subclass), with its labels, from the store."""
        values = " ".join(f"<{c}>" for c in sorted(classes))
        rows = engine.query(f"""
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT DISTINCT ?entity ?class ?p ?label WHERE {{
  VALUES ?class {{ {values} }}
  ?entity a/rdfs:subClassOf* ?class .
  ?entity ?p ?label . VALUES ?p {{ skos:prefLabel skos:altLabel skos:hiddenLabel }}
}}""").rows
        entities: dict[str, Entity] = {}
        labels: dict[str, set[str]] = {}
        for entity, klass, prop, label in rows:
            iri = str(entity)
            e = entities.setdefault(iri, Entity(iri, frozenset()))
            e.classes = e.classes | {str(klass)}
            labels.setdefault(iri, set()).add(str(label))
            if str(prop).endswith("prefLabel"):
                if getattr(label, "language", None) == "en":
                    e.label_en = str(label)
                elif getattr(label, "language", None) == "zh":
                    e.label_zh = str(label)
        # ancestors: broader concepts, and the zone of a sub-area
        for child, parent in engine.query("""
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX ftz: <https://w3id.org/ftz-kg/def#>
SELECT ?c ?p WHERE { { ?c skos:broader+ ?p } UNION { ?c ftz:partOfZone ?p } }""").rows:
            if str(child) in entities:
                entities[str(child)].ancestors = entities[str(child)].ancestors | {str(parent)}
        index: dict[tuple[str, ...], set[str]] = {}
        for iri, names in labels.items():
            kind = entities[iri].kind
            for name in names:
                for form in variants(name, kind):
                    key = key_of(form)
                    if form.lower() in NOT_NAMES:
                        continue
                    if key and (len(key) >= 2 or len(key[0]) >= 3):
                        index.setdefault(key, set()).add(iri)
        if aliases is not None and aliases.exists():
            for entry in load_yaml(aliases.read_text(encoding="utf-8")) or []:
                targets = entry["entity"] if isinstance(entry["entity"], list) else [entry["entity"]]
                targets = [t if t.startswith("http") else NS + t for t in targets]
                targets = [t for t in targets if t in entities]
                if targets:
                    index.setdefault(key_of(entry["text"]), set()).update(targets)
        weak = {key_of(w) for w in WEAK}
        lexicon = cls(entities, index, weak, outside_places())
        # a Part 2 domain and the annex domain that matches it (skos:closeMatch): its name alone
        # (贸易便利化, *trade facilitation*) may ask for either; the question's other words decide
        for domain, concept in engine.query("""
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?d ?c WHERE { ?d skos:closeMatch ?c }""").rows:
            if str(domain) in entities and str(concept) in entities:
                lexicon.close_matches[str(concept)] = str(domain)
                lexicon.close_matches[str(domain)] = str(concept)
        # the entity an annex table lists (附表5 → the human-resources experience domain), by its source
        for entity, source in engine.query("""
PREFIX ftz: <https://w3id.org/ftz-kg/def#>
SELECT ?e ?s WHERE { ?e ftz:source ?s FILTER (STRSTARTS(STR(?s), "https://w3id.org/ftz-kg/source/annex1-table")) }""").rows:
            number = str(source).rsplit("annex1-table", 1)[1]
            if str(entity) in entities and number.isdigit():
                lexicon.by_table[("annex-table", number)] = str(entity)
        # the Part 2 table that lists a domain (产业链开放发展 → 表5), by the rows its concepts cite
        tables: dict[str, set[str]] = {}
        for domain, source in engine.query("""
PREFIX ftz: <https://w3id.org/ftz-kg/def#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT DISTINCT ?d ?s WHERE {
  ?m a ftz:InnovationMeasure ; ftz:source ?s ; ftz:classifiedUnder/skos:broader* ?d .
  ?d a ftz:InnovationDomain .
  FILTER (STRSTARTS(STR(?s), "https://w3id.org/ftz-kg/source/part2-table"))
}""").rows:
            number = str(source).rsplit("part2-table", 1)[1].split("/")[0]
            if str(domain) in entities and number.isdigit():
                tables.setdefault(str(domain), set()).add(number)
        lexicon.table_of = {iri: next(iter(ns)) for iri, ns in tables.items() if len(ns) == 1}
        return lexicon

    def correct(self, toks: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
        """English words of 6 letters or more (stemmed) that no label has, read as the closest label word
        when one differs by a letter or two (Adminstration → administration)."""
        if not hasattr(self, "_vocabulary"):
            self._vocabulary = sorted({t for key in self.index for t in key if t.isascii() and len(t) >= 6}
                                      | {t for t in self.pattern_words if t.isascii() and len(t) >= 6})
            self._known = set(self._vocabulary)
        out = []
        for token, start, end in toks:
            # a place outside the report is not a slip for one inside it (Shanxi is not Shaanxi)
            if (token.isascii() and token.isalpha() and len(token) >= 6 and token not in self._known
                    and (token,) not in self.outside):
                # one letter off: a letter left out or added scores 0.9 or more; one replaced in a
                # word of eight letters or more, (n - 1) / n (experiances → experiences)
                cutoff = min(0.9, (len(token) - 1) / len(token) - 0.005) if len(token) >= 8 else 0.9
                close = difflib.get_close_matches(token, self._vocabulary, n=1, cutoff=cutoff)
                if close:
                    token = close[0]
            out.append((token, start, end))
        return out

    # -- finding mentions ------------------------------------------------------------------------

    def mentions(self, text: str, misspelt: bool = False) -> list[Mention]:
        """Entity and number mentions of a normalised question, longest first, not overlapping
        (`misspelt`: Chinese names with one character wrong too, after the exact ones)."""
        found = numbers(text)
        toks = self.correct(spans(text))
        candidates = []
        for i in range(len(toks)):
            for length in self.lengths:
                if i + length > len(toks):
                    continue
                key = tuple(t for t, _, _ in toks[i:i + length])
                iris = self.index.get(key)
                if iris:
                    start, end = toks[i][1], toks[i + length - 1][2]
                    candidates.append(Mention(start, end, text[start:end], "entity", tuple(sorted(iris)),
                                              weak=key in self.weak))
                    break
        places = []
        for i in range(len(toks)):
            for length in self.outside_lengths:
                key = tuple(t for t, _, _ in toks[i:i + length])
                if len(key) == length and key in self.outside:
                    start, end = toks[i][1], toks[i + length - 1][2]
                    places.append(Mention(start, end, text[start:end], "outside", value=self.outside[key]))
                    break
        if misspelt:   # forgiving: a name shortened as people say it competes with the exact ones by length
            candidates = candidates + self.partial(text)
        # longest first; the names said exactly before those in another word order
        chosen: list[Mention] = list(found)
        # a generic word (trade, 全国) inside a name said in another order is part of that name
        loose = self._loose(toks, text)
        # a name said whole in another order contains the shorter names said exactly inside it
        # (in-process and ex-post supervision inside "raise the capacity of in-process & ex-post supervision")
        strong = [m for m in candidates if not m.weak
                  and not any(o.start <= m.start and m.end <= o.end and o.end - o.start > m.end - m.start
                              and set(o.entities) != set(m.entities) for o in loose)]
        generic = [m for m in candidates if m.weak]
        for group in (strong, loose, places, generic, self.misspelt(text) if misspelt else []):
            for m in sorted(group, key=lambda m: (-(m.end - m.start), m.start)):
                if not any(m.overlaps(c) for c in chosen):
                    chosen.append(m)
        chosen.sort(key=lambda m: m.start)
        for m in chosen:
            if m.kind == "entity":
                m.entities = tuple(sorted({*m.entities, *(self.close_matches[i] for i in m.entities
                                                         if i in self.close_matches)}))
        return self._subsume(chosen)

    def misspelt(self, text: str) -> list[Mention]:
        """Chinese names of five characters or more written with one character wrong (贸易便力化 for
        贸易便利化): asked for only when a question is not understood as written."""
        if not hasattr(self, "_one_off"):
            self._one_off: dict[tuple, set[str]] = {}
            for key, iris in self.index.items():
                if len(key) >= 5 and all(is_cjk(t[0]) for t in key):
                    for j in range(len(key)):
                        self._one_off.setdefault(key[:j] + ("?",) + key[j + 1:], set()).update(iris)
        toks = spans(text)
        words = [t for t, _, _ in toks]
        found = []
        for length in sorted({len(k) for k in self._one_off}, reverse=True):
            for i in range(len(words) - length + 1):
                window = tuple(words[i:i + length])
                if not all(is_cjk(w[0]) for w in window) or window in self.index:
                    continue
                for j in range(length):
                    iris = self._one_off.get(window[:j] + ("?",) + window[j + 1:])
                    if iris:
                        start, end = toks[i][1], toks[i + length - 1][2]
                        found.append(Mention(start, end, text[start:end], "entity", tuple(sorted(iris))))
                        break
        return found

    def partial(self, text: str) -> list[Mention]:
        """Chinese names said shortened, as people say them: five characters or more of the question
        found in the names of one entity only, either as they are written, two fifths of a name or
        more (空铁联运一单制 for 空铁联运一单制货物运输模式), or in the name's order with a few characters
        left out, three fifths of it or more (差异化探索 for 差异化任务探索: at most two left out between
        two of them, none before the first or after the last); the longest first. And English names
        said shortened or described. Asked for only when a question is not understood as written."""
        if not hasattr(self, "_zh_names"):
            self._zh_names = [("".join(key), iris) for key, iris in self.index.items()
                              if len(key) >= 6 and all(is_cjk(t[0]) for t in key)]
            self._zh_blob = "\n".join(name for name, _ in self._zh_names)
            self._zh_by_char: dict[str, list[tuple[str, set[str]]]] = {}
            for name, iris in self._zh_names:
                for char in set(name):
                    self._zh_by_char.setdefault(char, []).append((name, iris))
        found = self._partial_english(text)
        for run in re.finditer(r"[\u3400-\u4dbf\u4e00-\u9fff]{5,}", text):
            word, taken = run.group(), []
            for length in range(len(word), 4, -1):
                for i in range(len(word) - length + 1):
                    start, end = run.start() + i, run.start() + i + length
                    window = word[i:i + length]
                    if any(s < end and start < e for s, e in taken):
                        continue
                    if window in self._zh_blob:
                        iris = {iri for name, named in self._zh_names
                                if window in name and 5 * length >= 2 * len(name) for iri in named}
                    else:
                        pattern = re.compile(".{0,2}".join(map(re.escape, window)))
                        iris = {iri for name, named in self._zh_by_char.get(window[0], ())
                                if 5 * length >= 3 * len(name) and pattern.search(name) for iri in named}
                    if len(iris) == 1:
                        taken.append((start, end))
                        found.append(Mention(start, end, window, "entity", tuple(iris)))
        found.extend(self._described(text, found))
        found.extend(self._described_zh(text, found))
        return found

    def _described_zh(self, text: str, found: list[Mention]) -> list[Mention]:
        """A Chinese name described in other words or in pieces (保税航煤那个流量计模式 for
        保税航煤出口质量流量计计量新模式): four of its character pairs or more, said in the question,
        weighing a third of the name's or more when each pair weighs by how few names have it, and
        more than any other name's."""
        if not hasattr(self, "_zh_pair_names"):
            import math
            names: dict[str, list[frozenset]] = {}
            for name, iris in self._zh_names:
                pairs = frozenset(a + b for a, b in zip(name, name[1:]))
                for iri in iris:
                    names.setdefault(iri, []).append(pairs)
            df: dict[str, int] = {}
            for iri, bags in names.items():
                for pair in frozenset().union(*bags):
                    df[pair] = df.get(pair, 0) + 1
            self._zh_pair_names = names
            self._zh_pair_weight = {pair: math.log(len(names) / n) for pair, n in df.items()}
        said: dict[str, tuple[int, int]] = {}
        for run in re.finditer(r"[\u3400-\u4dbf\u4e00-\u9fff]{2,}", text):
            for i in range(len(run.group()) - 1):
                said.setdefault(run.group()[i:i + 2], (run.start() + i, run.start() + i + 2))
        named = {iri for m in found for iri in m.entities}
        weight = self._zh_pair_weight
        scores = []
        for iri, bags in self._zh_pair_names.items():
            best = max(((sum(weight[p] for p in bag & said.keys()) / (sum(weight[p] for p in bag) or 1),
                         bag & said.keys()) for bag in bags), key=lambda x: x[0])
            if len(best[1]) >= 4 and best[0] >= 0.33:
                scores.append((best[0], iri, best[1]))
        if not scores:
            return []
        scores.sort(reverse=True)
        share, iri, common = scores[0]
        if iri in named or (len(scores) > 1 and scores[1][0] >= 0.7 * share):
            return []
        start = min(said[p][0] for p in common)
        end = max(said[p][1] for p in common)
        return [Mention(start, end, text[start:end], "entity", (iri,))]

    def _described(self, text: str, found: list[Mention]) -> list[Mention]:
        """An English name described in other words ("treat an enterprise group as one single unit" for
        "Managing an enterprise group as a single whole"): three of its words or more, half of its words
        (generic words such as *new* or *services* left out, words that say the same read as one), said
        close together, and more of this name's than of any other's."""
        if not hasattr(self, "_described_bags"):
            bags: dict[str, set[frozenset]] = {}
            for key, iris in self.index.items():
                words = frozenset(SAME_WORDS.get(t, t) for t in key if t not in GENERIC and t not in GENERIC_QUESTION)
                if len(key) >= 3 and all(t.isascii() for t in key) and len(words) >= 3:
                    for iri in iris:
                        bags.setdefault(iri, set()).add(words)
            self._described_bags = bags
        toks = [(SAME_WORDS.get(t, t), s, e) for t, s, e in spans(text) if t.isascii()]
        present = {t for t, _, _ in toks}
        named = {iri for m in found for iri in m.entities}
        scores: dict[str, tuple[float, frozenset]] = {}
        for iri, bags in self._described_bags.items():
            for words in bags:
                common = words & present
                share = len(common) / len(words)
                if len(common) >= 3 and 2 * len(common) >= len(words) and share > scores.get(iri, (0,))[0]:
                    scores[iri] = (share, common)
        if not scores:
            return []
        ranked = sorted(scores.items(), key=lambda item: -item[1][0])
        iri, (share, common) = ranked[0]
        if iri in named or (len(ranked) > 1 and ranked[1][1][0] >= share):
            return []        # said already, or said as much of another name: not this one
        positions = [(s, e) for t, s, e in toks if t in common]
        words_between = len(spans(text[positions[0][0]:positions[-1][1]]))
        if words_between > 2 * len(common) + 2:
            return []        # scattered over the question: not a description of one thing
        start, end = positions[0][0], positions[-1][1]
        return [Mention(start, end, text[start:end], "entity", (iri,))]

    def _partial_english(self, text: str) -> list[Mention]:
        """English names said shortened ("the talent service approach" for "New talent service models"):
        two words or more said in a row that are half a name or more, found in the names of one entity."""
        if not hasattr(self, "_en_parts"):
            self._en_parts: dict[tuple[str, ...], dict[str, int]] = {}
            for key, iris in self.index.items():
                if len(key) < 3 or not all(t.isascii() for t in key):
                    continue
                for size in range(2, len(key)):
                    for i in range(len(key) - size + 1):
                        entry = self._en_parts.setdefault(key[i:i + size], {})
                        for iri in iris:
                            entry[iri] = min(entry.get(iri, 99), len(key))
        toks = [t for t in spans(text) if t[0].isascii() and t[0] not in GENERIC_QUESTION]
        found, taken = [], []
        for size in range(min(len(toks), 8), 1, -1):
            for i in range(len(toks) - size + 1):
                window = toks[i:i + size]
                start, end = window[0][1], window[-1][2]
                # said in a row: nothing but stop words between the words
                if any(s < end and start < e for s, e in taken) or len(spans(text[start:end])) != size:
                    continue
                named = {iri: n for iri, n in self._en_parts.get(tuple(t for t, _, _ in window), {}).items()
                         if 2 * size >= n}     # half of the name or more: of that name only
                if len(named) == 1:
                    taken.append((start, end))
                    found.append(Mention(start, end, text[start:end], "entity", tuple(named)))
        return found

    def _loose(self, toks, text: str) -> list[Mention]:
        """English names said in another word order ("reform of wildlife import and export permits"
        for "Reform of administrative permits for wildlife import and export"): every word of a name
        of four words or more but one, or every word of a name of three, within a window hardly
        longer than the name."""
        if not hasattr(self, "_bags"):
            self._bags = [(frozenset(key), len(key), iris) for key, iris in self.index.items()
                          if len(key) >= 3 and all(t.isascii() for t in key) and len(set(key)) == len(key)]
        toks = [t for t in toks if t[0].isascii()]    # Chinese said inside an English name: 能级 in "raise the capacity (能级) of"
        words = [t for t, _, _ in toks]
        present = set(words)
        found = []
        for bag, size, iris in self._bags:
            common = bag & present
            # a name of four words or more may miss one; one of three words must be said whole
            if len(common) < (3 if size == 3 else max(size - 1, 4)):
                continue
            positions = sorted(i for i, w in enumerate(words) if w in common)
            first, last = positions[0], positions[-1]
            if last - first + 1 <= size + 1:
                start, end = toks[first][1], toks[last][2]
                found.append((len(common), Mention(start, end, text[start:end], "entity", tuple(sorted(iris)))))
        # of two names said over the same words, the one more of whose words were said
        return [m for n, m in found if not any(n2 > n and m2.start <= m.start and m.end <= m2.end for n2, m2 in found)]

    def _subsume(self, mentions: list[Mention]) -> list[Mention]:
        """A mention whose entity is broader than another mention's (投资领域 beside 推动精简化, a zone
        beside one of its sub-areas) only says where the other one sits: it is marked weak."""
        for m in mentions:
            if m.kind != "entity":
                continue
            others = {iri for o in mentions if o is not m for iri in o.entities}
            if any(iri in self.entities[o].ancestors for o in others for iri in m.entities if o in self.entities):
                m.weak = True
        return mentions


def outside_places(path: Path = OUTSIDE) -> dict[tuple[str, ...], str]:
    """Names of places outside the report, by key: every country of ISO 3166-1 (pycountry, in English
    and in its Chinese translation) and the names in outside.yaml."""
    import gettext

    import pycountry

    data = load_yaml(path.read_text(encoding="utf-8")) or {}
    never = {key_of(n) for n in data.get("not_outside") or []}
    try:
        zh = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["zh_CN"]).gettext
    except OSError:      # a pycountry without its translations: the English names still count
        zh = None
    names: dict[tuple[str, ...], str] = {}
    for country in pycountry.countries:
        forms = {country.name, getattr(country, "common_name", None), getattr(country, "official_name", None)}
        if zh is not None:
            forms.add(zh(country.name))
        for form in filter(None, forms):
            names.setdefault(key_of(form), form)
    for group in ("provinces_without_zone", "countries_short"):
        for forms in data.get(group) or []:
            for form in forms:
                names.setdefault(key_of(form), forms[0])
    return {k: v for k, v in names.items() if k and k not in never}


# -- numbers -------------------------------------------------------------------------------------

_ZH_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_CARDINALS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7}
_ORDINALS = {**_CARDINALS, "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
             "eighth": 8, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5, "6th": 6, "7th": 7}
_NUM = r"(\d{1,2}|[一二两三四五六七八九十]{1,3})"


def _int(text: str) -> int:
    if text.isdigit():
        return int(text)
    if text in _ORDINALS:
        return _ORDINALS[text]
    if text.startswith("十"):
        return 10 + (_ZH_DIGITS.get(text[1:], 0) if len(text) > 1 else 0)
    if len(text) == 3 and text[1] == "十":
        return _ZH_DIGITS[text[0]] * 10 + _ZH_DIGITS[text[2]]
    if len(text) == 2 and text[1] == "十":
        return _ZH_DIGITS[text[0]] * 10
    return _ZH_DIGITS.get(text, 0)


_PATTERNS = [
    ("box", re.compile(r"(?:典型案例专栏|案例专栏|专栏|case box|box)? ?(?<![\d-])3-(\d{1,2})(?![\d-])")),
    ("annex-table", re.compile(r"(?:附表|annex (?:1 |①)?table) ?" + _NUM)),
    ("table", re.compile(r"(?:部分创新举措表|表|table) ?" + _NUM)),
    ("table", re.compile(r"\btable (one|two|three|four|five|six|seven)\b")),    # table six
    ("batch", re.compile(r"第" + _NUM + r"批")),
    ("batch", re.compile(r"\b(first|second|third|fourth|fifth|sixth|seventh|eighth|[1-8](?:st|nd|rd|th)) batch")),
    ("batch", re.compile(r"\bbatch (\d)\b")),
    ("year", re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d) ?年?")),
]


# the report (2021) tells of the zones up to 2020 and of 2021's first months: a later year is outside it
LAST_YEAR = 2021


def numbers(text: str) -> list[Mention]:
    found: list[Mention] = []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            if any(m.start() < f.end and f.start < m.end() for f in found):
                continue
            value = m.group(1)
            value = f"3-{int(value)}" if kind == "box" else str(_int(value))
            if value in ("0", "3-0"):
                continue
            if kind == "year" and int(value) > LAST_YEAR:
                found.append(Mention(m.start(), m.end(), m.group(), "outside", value=m.group().strip()))
                continue
            found.append(Mention(m.start(), m.end(), m.group(), kind, value=value))
    return found
