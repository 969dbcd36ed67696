"""Scoring the interpreter on a set of questions with hand-written answers (tests/ask/README.md):
exact, not understood, or wrong, per question; used by benchmarks/ask.py and tests/test_ask.py.

- a set answer is exact when the reading's column holds exactly the expected values (as a set);
  a count when the number of distinct values matches; a ranking when the first row's value does;
- an unanswerable question is exact when it is not understood;
- an ambiguous question is exact when every expected reading is among those offered;
- not understood (or ambiguous) where an answer was expected is "not understood"; any other answer is wrong.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from ftz_kg.resources import load_yaml
from ftz_kg.ask.answer import ask
from ftz_kg.ask.interpret import Interpreter

DEV_SET = Path(__file__).resolve().parents[2] / "tests" / "ask" / "dev_questions.yaml"


@dataclass
class Outcome:
    id: str
    question: str
    verdict: str          # exact | not-understood | wrong
    detail: str
    seconds: float


def load(path: Path = DEV_SET) -> list[dict]:
    return load_yaml(path.read_text(encoding="utf-8"))


def held_out(index: int) -> bool:
    """Every fifth question (the 5th, 10th, …) is held out while tuning."""
    return index % 5 == 4


def _name(query: str) -> str:
    return query.removeprefix("NEW:")


def _same_params(a: dict, b: dict) -> bool:
    norm = lambda d: {k: str(v) for k, v in (d or {}).items()}
    return norm(a) == norm(b)


def score(entry: dict, interpreter: Interpreter) -> Outcome:
    started = time.perf_counter()
    expected = entry["answer"]
    try:
        answer = ask(entry["question"], interpreter, entry.get("lang"))
    except Exception as error:  # a failure to run is a wrong answer, with its reason
        return Outcome(entry["id"], entry["question"], "wrong", f"error: {error}", time.perf_counter() - started)
    seconds = time.perf_counter() - started
    status = answer.status
    got = ""
    if answer.reading is not None:
        got = f"{answer.reading.query} {dict(answer.reading.params)} [{answer.reading.answer}]"
    elif status == "ambiguous":
        got = "ambiguous: " + "; ".join(f"{r.query} {dict(r.params)}" for r in answer.interpretation.readings)
    understood = expected.get("understood")
    if understood is False:
        verdict = "exact" if status == "not-understood" else "wrong"
        return Outcome(entry["id"], entry["question"], verdict, f"expected not understood, got {status} {got}", seconds)
    if understood == "ambiguous":
        if status == "ambiguous":
            offered = [(r.query, r.values) for r in answer.interpretation.readings]
            missing = [e for e in entry["ambiguous"]
                       if not any(q == _name(e["query"]) and _same_params(p, e["params"]) for q, p in offered)]
            verdict = "exact" if not missing else "not-understood"
            return Outcome(entry["id"], entry["question"], verdict, f"{got}; missing {missing}", seconds)
        verdict = "not-understood" if status == "not-understood" else "wrong"
        return Outcome(entry["id"], entry["question"], verdict, f"expected ambiguous, got {status} {got}", seconds)
    if status != "answered":
        return Outcome(entry["id"], entry["question"], "not-understood", f"{status} {got}", seconds)
    result = answer.result
    column = expected["column"]
    if column not in result.variables:
        return Outcome(entry["id"], entry["question"], "wrong", f"no column {column}: {got}", seconds)
    index = result.variables.index(column)
    values = [None if row[index] is None else str(row[index]) for row in result.rows]
    if "count" in expected:
        n = answer.count if answer.count is not None else len({v for v in values if v is not None})
        ok = answer.reading.answer == "count" and n == expected["count"]
        detail = f"{got}: count {n}, expected {expected['count']}"
    elif "top" in expected:
        first = values[0] if values else None
        ok = answer.reading.answer == "top" and first == expected["top"]
        detail = f"{got}: top {first}, expected {expected['top']}"
    else:
        have, want = {v for v in values if v is not None}, {str(v) for v in expected["values"]}
        ok = have == want and answer.reading.answer == "list"
        detail = f"{got}: {len(have)} values, expected {len(want)}; extra {sorted(have - want)[:3]} missing {sorted(want - have)[:3]}"
    return Outcome(entry["id"], entry["question"], "exact" if ok else "wrong", detail, seconds)
