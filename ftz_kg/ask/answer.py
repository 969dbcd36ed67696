"""Answering a reading on a store, and saying how the question was read.

The answer is rows (a list), a number (the distinct values of the reading's column) or the first
row (a ranking), always with the reading written out — "measures-by-approach (approach = 推动并联化 ·
Parallel processing)" — and links to the canned query's page and its SPARQL, so it can be checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from rdflib import URIRef

from ftz_kg.ask.interpret import Interpretation, Interpreter, Reading
from ftz_kg.query.binding import _term, with_values
from ftz_kg.query.store import SelectResult


@dataclass
class Answer:
    interpretation: Interpretation
    reading: Reading | None = None
    result: SelectResult | None = None
    count: int | None = None               # for "how many"
    top: tuple | None = None               # for "which … the most": the first row
    explained: str = ""                    # how the question was read
    links: dict = field(default_factory=dict)

    @property
    def status(self) -> str:
        return self.interpretation.status


def describe(reading: Reading, interpreter: Interpreter, lang: str) -> str:
    """measures-by-approach (approach = 推动并联化 · Parallel processing)"""
    parts = []
    for name, value in reading.params:
        entity = interpreter.lexicon.entities.get(value)
        if entity is not None:
            names = [n for n in (entity.label_zh, entity.label_en) if n]
            if lang == "en":
                names.reverse()
            shown = " · ".join(dict.fromkeys(names))
        else:
            shown = value
        parts.append(f"{name} = {shown}")
    text = reading.query + (f" ({'; '.join(parts)})" if parts else "")
    if reading.answer == "count":
        return text + f" — counting the distinct {reading.column} values"
    if reading.answer == "top":
        return text + " — its first row"
    return text


def links(reading: Reading, lang: str) -> dict[str, str]:
    query = urlencode([*reading.params, ("lang", lang)])
    return {"page": f"/api/{reading.query}.html?{query}", "sparql": f"/api/{reading.query}.rq?{query}",
            "json": f"/api/{reading.query}.json?{query}"}


def bound_query(reading: Reading, interpreter: Interpreter, lang: str) -> str:
    """The canned query with the reading's parameters bound (entities by IRI: no lookup needed)."""
    query = interpreter.catalogue.get(reading.query)
    values = dict(reading.params)
    if query.param("lang") is not None:
        values.setdefault("lang", lang)
    bindings = {}
    for param in query.params:
        value = values.get(param.name, param.default)
        if value is None:
            continue
        if param.type == "iri" and value in interpreter.lexicon.entities:
            bindings[param.variable] = URIRef(value)
        else:
            bindings[param.variable] = _term(interpreter.engine, param, value)
    return with_values(query.text, bindings)


def run(reading: Reading, interpreter: Interpreter, lang: str, engine=None) -> SelectResult:
    engine = engine or interpreter.engine
    result = engine.query(bound_query(reading, interpreter, lang))
    assert isinstance(result, SelectResult)
    return result


def ask(question: str, interpreter: Interpreter, lang: str | None = None, engine=None) -> Answer:
    """Interpret the question and, when it is understood, answer it."""
    interpretation = interpreter.interpret(question, lang)
    lang = interpretation.lang
    answer = Answer(interpretation)
    if interpretation.status != "answered":
        return answer
    reading = interpretation.reading
    answer.reading = reading
    answer.explained = describe(reading, interpreter, lang)
    answer.links = links(reading, lang)
    result = run(reading, interpreter, lang, engine)
    answer.result = result
    column = reading.column if reading.column in result.variables else result.variables[0]
    index = result.variables.index(column)
    if reading.answer == "count":
        answer.count = len({row[index] for row in result.rows if row[index] is not None})
    elif reading.answer == "top":
        answer.top = result.rows[0] if result.rows else None
    return answer


def failure_message(answer: Answer, interpreter: Interpreter, related: list[dict] = ()) -> str:
    """What to tell the person when the question was not answered: the readings to choose from, or
    the closest catalogue questions (and the entities its words lead to, ftz_kg/ask/related.py)."""
    i = answer.interpretation
    if i.status == "too-long":
        return "the question is too long (at most 500 characters); ask something shorter"
    if i.status == "empty":
        return "the question is empty: ask something, for example 哪些举措属于推动并联化？ or `ftz-kg queries` for the catalogue"
    if i.status == "ambiguous":
        lines = ["the question can be read in more than one way; ask again naming one of:"]
        lines += [f"  {describe(r, interpreter, i.lang)}    {links(r, i.lang)['page']}" for r in i.readings]
        return "\n".join(lines)
    lines = ["the question was not understood: no canned query answers it as asked"
             + ("" if not i.mentions else " (found: " + ", ".join(found(i, interpreter)) + ")")]
    if i.suggestions:
        lines.append("closest questions the catalogue answers:")
        lines += [f"  {example}    ({name})" for name, example in i.suggestions]
    if related:
        lines.append("the question's words appear in (text index):")
        lines += [f"  {r['label']} ({r['type']})    {r['iri']}" for r in related]
    lines.append("or list them all with `ftz-kg queries`")
    return "\n".join(lines)


def found(interpretation: Interpretation, interpreter: Interpreter) -> list[str]:
    """What the question was found to name: entities by their label in the question's language."""
    out = []
    for m in interpretation.mentions:
        if m.entities:
            out.append(" / ".join(interpreter.lexicon.entities[iri].label(interpretation.lang) for iri in m.entities))
        elif m.kind == "outside":
            out.append(f"{m.text}（报告未涉及：2020 年底没有自贸试验区）" if interpretation.lang == "zh"
                       else f"{m.text} (outside the report: no pilot FTZ there at the end of 2020)")
        else:
            out.append(f"{m.kind} {m.value}")
    return out


def as_json(answer: Answer, interpreter: Interpreter) -> dict:
    """The answer as JSON-ready data, reading included (shared by the CLI and /ask)."""
    i = answer.interpretation
    out: dict = {"question": i.question, "lang": i.lang, "status": i.status}
    if answer.reading is not None:
        r = answer.reading
        out["reading"] = {"query": r.query, "params": dict(r.params), "answer": r.answer, "column": r.column,
                          "explained": answer.explained, "links": answer.links}
        result = answer.result
        out["columns"] = result.variables
        out["rows"] = [{v: (None if t is None else str(t)) for v, t in zip(result.variables, row)}
                       for row in result.rows]
        if answer.count is not None:
            out["count"] = answer.count
        if r.answer == "top":
            out["top"] = out["rows"][0] if out["rows"] else None
    elif i.status == "ambiguous":
        out["readings"] = [{"query": r.query, "params": dict(r.params), "explained": describe(r, interpreter, i.lang),
                            "links": links(r, i.lang)} for r in i.readings]
        out["message"] = failure_message(answer, interpreter)
    else:
        out["suggestions"] = [{"query": n, "question": q} for n, q in i.suggestions]
        out["found"] = found(i, interpreter)
        out["message"] = failure_message(answer, interpreter)
    return out
