"""Fast SHACL validation: the shapes compiled to SPARQL, run on an embedded Oxigraph store, and a
results graph built as pySHACL builds it.

pySHACL validates one focus node at a time in Python; here each (shape, constraint component)
becomes one SPARQL query that returns the violations of every focus node at once. The results
graph is made to be the one pySHACL makes (the same sh:focusNode, sh:resultPath, sh:value,
sh:sourceShape, sh:sourceConstraintComponent, sh:sourceConstraint, sh:resultSeverity and
sh:resultMessage of every result, messages filled in as pySHACL fills them in), with pySHACL's
settings of validate.py: no inference, warnings do not fail validation, no advanced features.

What pySHACL decides by Python semantics that SPARQL does not share (ill-typed literals,
comparisons of values, Python's `$` in regular expressions) is done as pySHACL does it: a literal
pySHACL takes as ill-typed is named in the query, a comparison is done in Python on the few
values SPARQL cannot clear, and `$` is rewritten to what Python means by it. Any shape using a
feature not compiled here makes `compile_shapes` raise UnsupportedShapes naming the shape and the
feature: nothing is skipped silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, SH, XSD

_RDF_TYPE = f"<{RDF.type}>"
_SUBCLASS = f"<{RDFS.subClassOf}>"
_XSD_STRING = str(XSD.string)

# Parameters that say nothing about conformance.
_IGNORED = {RDF.type, SH.path, SH.severity, SH.message, SH.name, SH.description, SH.order, SH.group,
            SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.defaultValue,
            SH.property, SH.declare, SH.prefixes, SH.deactivated}
_TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
_RANGE = {SH.minInclusive: (">=", SH.MinInclusiveConstraintComponent),
          SH.minExclusive: (">", SH.MinExclusiveConstraintComponent),
          SH.maxInclusive: ("<=", SH.MaxInclusiveConstraintComponent),
          SH.maxExclusive: ("<", SH.MaxExclusiveConstraintComponent)}
# The Python type pySHACL wants a literal's value to have for a datatype it knows
# (pyshacl DatatypeConstraintComponent._assert_actual_datatype); other datatypes always pass.
_VALUE_TYPES = {XSD.string: (str, bytes), RDF.langString: (str, bytes), XSD.integer: int, XSD.float: float,
                XSD.decimal: Decimal, XSD.boolean: bool, XSD.date: date, XSD.time: time, XSD.dateTime: datetime}
# Datatypes Oxigraph stores by value, so that a literal read back may have another lexical form.
_CANONICALISED = {str(XSD[name]) for name in (
    "integer", "decimal", "float", "double", "boolean", "date", "time", "dateTime", "dateTimeStamp", "gYear",
    "gYearMonth", "gMonth", "gDay", "gMonthDay", "duration", "dayTimeDuration", "yearMonthDuration", "long",
    "int", "short", "byte", "nonNegativeInteger", "positiveInteger", "nonPositiveInteger", "negativeInteger",
    "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte")}


class UnsupportedShapes(ValueError):
    """The shapes use something this compiler does not translate; the message names the shape."""


@dataclass
class _Check:
    """One query for one constraint component of one reported shape."""
    shape: object
    component: URIRef
    query: str
    kind: str                    # how rows become results: "value", "focus", "count", "range", "ltoe", "sparql"
    extra: dict = field(default_factory=dict)


@dataclass
class CompiledShapes:
    shapes: Graph
    checks: list[_Check]
    datatypes: set          # datatypes of sh:datatype, whose ill-typed literals the queries name
    path_of: dict           # reported property shape -> its sh:path node
    details: dict           # node shape of an sh:node -> its checks on focus nodes given at run time


def _describe(shapes: Graph, node) -> str:
    if isinstance(node, URIRef):
        return f"<{node}>"
    lines = [f"{p.n3(shapes.namespace_manager)} {o.n3(shapes.namespace_manager)}" for p, o in shapes.predicate_objects(node)]
    return "[ " + " ; ".join(sorted(lines))[:200] + " ]"


def _string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r") + '"'


def _term(shapes: Graph, node, where) -> str:
    if isinstance(node, URIRef):
        return f"<{node}>"
    if isinstance(node, Literal):
        if node.language:
            return _string(str(node)) + "@" + node.language
        return _string(str(node)) + (f"^^<{node.datatype}>" if node.datatype else "")
    raise UnsupportedShapes(f"shape {_describe(shapes, where)}: a blank node as a constant is not supported")


def python_dollar(pattern: str) -> str:
    """The pattern with each `$` (outside a character class, unescaped) written as what it means
    in Python without re.M: the end, or before a final line break. Rust's (Oxigraph's) `$` is the
    end only. Raises ValueError where `$` is followed by more of the pattern than `)` or `|`."""
    out, i, in_class = [], 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if in_class:
            in_class = char != "]" or out[-1] == "["
        elif char == "[":
            in_class = True
        elif char == "$":
            following = pattern[i + 1:i + 2]
            if following not in ("", ")", "|"):
                raise ValueError(f"'$' followed by {following!r}")
            out.append(r"(?:\n?\z)")
            i += 1
            continue
        out.append(char)
        i += 1
    return "".join(out)


_GIVEN_FOCUS = "%%FOCUS%%"


class _Compiler:
    def __init__(self, shapes: Graph):
        self.shapes = shapes
        self.counter = 0
        self.datatypes: set = set()
        self.details: dict = {}
        self.detail_paths: dict = {}
        self.patterns: list = []    # (shape, pattern as written, REGEX arguments as compiled)

    def fresh(self) -> str:
        self.counter += 1
        return f"?_v{self.counter}"

    def values(self, node, predicate) -> list:
        return list(self.shapes.objects(node, predicate))

    def one(self, node, predicate):
        found = self.values(node, predicate)
        if len(found) > 1:
            raise UnsupportedShapes(f"shape {_describe(self.shapes, node)}: more than one {predicate}")
        return found[0] if found else None

    def items(self, node, predicate) -> list:
        head = self.one(node, predicate)
        return list(Collection(self.shapes, head)) if head is not None else []

    # ---- paths

    def path(self, node, where) -> str:
        shapes = self.shapes
        if isinstance(node, URIRef):
            return f"<{node}>"
        if (node, RDF.first, None) in shapes:
            return "(" + "/".join(self.path(p, where) for p in Collection(shapes, node)) + ")"
        for predicate, template in ((SH.inversePath, "^({})"), (SH.zeroOrMorePath, "({})*"),
                                    (SH.oneOrMorePath, "({})+"), (SH.zeroOrOnePath, "({})?")):
            inner = self.one(node, predicate)
            if inner is not None:
                return template.format(self.path(inner, where))
        alternatives = self.one(node, SH.alternativePath)
        if alternatives is not None:
            return "(" + "|".join(self.path(p, where) for p in Collection(shapes, alternatives)) + ")"
        raise UnsupportedShapes(f"shape {_describe(shapes, where)}: path {_describe(shapes, node)} is not supported")

    # ---- checks of one value node, as SPARQL expressions over a variable

    def check_shape_parameters(self, node, allowed: set) -> None:
        if (node, SH.deactivated, None) in self.shapes:
            raise UnsupportedShapes(f"shape {_describe(self.shapes, node)}: sh:deactivated is not supported")
        for predicate in set(self.shapes.predicates(node)):
            if predicate in _IGNORED or predicate in allowed:
                continue
            if str(predicate).startswith(str(SH)):
                raise UnsupportedShapes(f"shape {_describe(self.shapes, node)}: {predicate} is not supported")

    def value_checks(self, node, var: str, stack: tuple) -> list[tuple[URIRef, str, object]]:
        """(component, expression true where `var` passes it, the node shape of sh:node or None) for
        each value-level constraint of `node`."""
        shapes, checks = self.shapes, []
        for cls in self.values(node, SH["class"]):
            _term(shapes, cls, node)
            # filled in where the query runs: the classes below it, read from the data
            checks.append((SH.ClassConstraintComponent, f"%%CLASS<{cls}>%%({var})"))
        for datatype in self.values(node, SH.datatype):
            checks.append((SH.DatatypeConstraintComponent, self.datatype_check(node, datatype, var)))
        kind = self.one(node, SH.nodeKind)
        if kind is not None:
            tests = {SH.IRI: "isIRI({0})", SH.BlankNode: "isBlank({0})", SH.Literal: "isLiteral({0})",
                     SH.BlankNodeOrIRI: "(isBlank({0}) || isIRI({0}))", SH.BlankNodeOrLiteral: "(isBlank({0}) || isLiteral({0}))",
                     SH.IRIOrLiteral: "(isIRI({0}) || isLiteral({0}))"}
            if kind not in tests:
                raise UnsupportedShapes(f"shape {_describe(shapes, node)}: sh:nodeKind {kind}")
            checks.append((SH.NodeKindConstraintComponent, tests[kind].format(var)))
        patterns = self.values(node, SH.pattern)
        if patterns:
            flags = self.one(node, SH.flags)
            wanted = "".join(f for f in "im" if flags is not None and f in str(flags).lower())
            for pattern in patterns:
                text = str(pattern)
                if "m" not in wanted:
                    try:
                        text = python_dollar(text)
                    except ValueError as error:
                        raise UnsupportedShapes(f"shape {_describe(shapes, node)}: sh:pattern {str(pattern)!r}: {error}") from None
                flag_arg = f", {_string(wanted)}" if wanted else ""
                self.patterns.append((node, str(pattern), f"{_string(text)}{flag_arg}"))
                checks.append((SH.PatternConstraintComponent,
                               f"(!isBlank({var}) && REGEX(STR({var}), {_string(text)}{flag_arg}))"))
        languages = self.items(node, SH.languageIn)
        if (node, SH.languageIn, None) in shapes:
            ranges = [str(lang).lower() for lang in languages]
            if "*" in ranges or any(not isinstance(lang, Literal) for lang in languages):
                raise UnsupportedShapes(f"shape {_describe(shapes, node)}: sh:languageIn with '*' or non-literals")
            listed = ", ".join(_string(r) for r in ranges) or '""'
            checks.append((SH.LanguageInConstraintComponent,
                           f"(isLiteral({var}) && LANG({var}) != \"\" && (LCASE(LANG({var})) IN ({listed}) || "
                           f"LCASE(STRBEFORE(CONCAT(LANG({var}), \"-\"), \"-\")) IN ({listed})))"))
        if (node, SH["in"], None) in shapes:
            members = self.items(node, SH["in"])
            test = " || ".join(f"sameTerm({var}, {_term(shapes, m, node)})" for m in members) or "false"
            checks.append((SH.InConstraintComponent, f"({test})"))
        for predicate, component, op in ((SH.maxLength, SH.MaxLengthConstraintComponent, "<="),
                                         (SH.minLength, SH.MinLengthConstraintComponent, ">=")):
            limit = self.one(node, predicate)
            if limit is not None:
                checks.append((component, f"(!isBlank({var}) && STRLEN(STR({var})) {op} {int(limit)})"))
        for other in self.values(node, SH["not"]):
            checks.append((SH.NotConstraintComponent, f"!({self.conforms(other, var, stack)})"))
        for alternatives in self.values(node, SH["or"]):
            tests = [self.conforms(s, var, stack) for s in Collection(shapes, alternatives)]
            checks.append((SH.OrConstraintComponent, "(" + (" || ".join(tests) or "false") + ")"))
        for conjunction in self.values(node, SH["and"]):
            tests = [self.conforms(s, var, stack) for s in Collection(shapes, conjunction)]
            checks.append((SH.AndConstraintComponent, "(" + (" && ".join(tests) or "true") + ")"))
        for other in self.values(node, SH.node):
            checks.append((SH.NodeConstraintComponent, self.conforms(other, var, stack), other))
        return [check if len(check) == 3 else check + (None,) for check in checks]

    def datatype_check(self, node, datatype, var: str) -> str:
        if not isinstance(datatype, URIRef):
            raise UnsupportedShapes(f"shape {_describe(self.shapes, node)}: sh:datatype {datatype}")
        self.datatypes.add(datatype)
        if datatype == RDFS.Literal:
            return f"isLiteral({var})"
        if datatype == RDFS.Datatype:
            return f"(isLiteral({var}) && LANG({var}) = \"\")"
        if datatype == RDF.langString:
            return f"(isLiteral({var}) && LANG({var}) != \"\")"
        # ill-typed literals of this datatype are named where the query runs (see _bad_literals)
        return f"(isLiteral({var}) && LANG({var}) = \"\" && DATATYPE({var}) = <{datatype}> && !%%BAD<{datatype}>%%({var}))"

    # ---- whether a node conforms to a shape, as a SPARQL expression

    def conforms(self, node, var: str, stack: tuple = ()) -> str:
        if node in stack:
            raise UnsupportedShapes(f"shape {_describe(self.shapes, node)} refers to itself")
        stack = stack + (node,)
        shapes = self.shapes
        focus_level = {SH.minCount, SH.maxCount, SH.qualifiedValueShape, SH.qualifiedMinCount, SH.qualifiedMaxCount,
                       SH.uniqueLang, SH.hasValue, SH.qualifiedValueShapesDisjoint}
        value_level = {SH["class"], SH.datatype, SH.nodeKind, SH.pattern, SH.flags, SH.languageIn, SH["in"],
                       SH.maxLength, SH.minLength, SH["not"], SH["or"], SH["and"], SH.node}
        self.check_shape_parameters(node, focus_level | value_level)
        parts = []
        path_node = self.one(node, SH.path)
        if path_node is None:
            for predicate in focus_level - {SH.hasValue}:
                if (node, predicate, None) in shapes:
                    raise UnsupportedShapes(f"node shape {_describe(shapes, node)}: {predicate} needs a path")
            parts += [test for _, test, _ in self.value_checks(node, var, stack)]
            for value in self.values(node, SH.hasValue):
                parts.append(f"sameTerm({var}, {_term(shapes, value, node)})")
        else:
            path = self.path(path_node, node)
            for _, test, _ in self.value_checks(node, x := self.fresh(), stack):
                parts.append(f"NOT EXISTS {{ {var} {path} {x} . FILTER(!({test})) }}")
            minimum, maximum = self.one(node, SH.minCount), self.one(node, SH.maxCount)
            if minimum is not None and int(minimum) > 0:
                parts.append(self.distinct_values(var, path, int(minimum), None, node, stack))
            if maximum is not None:
                parts.append("!" + self.distinct_values(var, path, int(maximum) + 1, None, node, stack))
            qualified = self.one(node, SH.qualifiedValueShape)
            if qualified is not None:
                if self.one(node, SH.qualifiedValueShapesDisjoint) not in (None, Literal(False)):
                    raise UnsupportedShapes(f"shape {_describe(shapes, node)}: sh:qualifiedValueShapesDisjoint")
                low, high = self.one(node, SH.qualifiedMinCount), self.one(node, SH.qualifiedMaxCount)
                if low is not None and int(low) > 0:
                    parts.append(self.distinct_values(var, path, int(low), qualified, node, stack))
                if high is not None:
                    parts.append("!" + self.distinct_values(var, path, int(high) + 1, qualified, node, stack))
            for value in self.values(node, SH.hasValue):
                x = self.fresh()
                parts.append(f"EXISTS {{ {var} {path} {x} . FILTER(sameTerm({x}, {_term(shapes, value, node)})) }}")
            if self.one(node, SH.uniqueLang) == Literal(True):
                a, b = self.fresh(), self.fresh()
                parts.append(f"NOT EXISTS {{ {var} {path} {a} . {var} {path} {b} . FILTER(!sameTerm({a}, {b}) && "
                             f"isLiteral({a}) && isLiteral({b}) && LANG({a}) != \"\" && LCASE(LANG({a})) = LCASE(LANG({b}))) }}")
        for prop in self.values(node, SH.property):
            parts.append(self.conforms(prop, var, stack))
        if (node, SH.sparql, None) in shapes:
            raise UnsupportedShapes(f"shape {_describe(shapes, node)}: sh:sparql inside another shape is not supported")
        return "(" + (" && ".join(parts) or "true") + ")"

    def distinct_values(self, var: str, path: str, count: int, qualified, node, stack) -> str:
        """EXISTS: `var` has at least `count` distinct values (conforming to `qualified`, if given)."""
        if count > 4:
            raise UnsupportedShapes(f"shape {_describe(self.shapes, node)}: more than 4 distinct values to count inside another shape")
        names = [self.fresh() for _ in range(count)]
        triples = " . ".join(f"{var} {path} {n}" for n in names)
        tests = [f"!sameTerm({a}, {b})" for i, a in enumerate(names) for b in names[i + 1:]]
        if qualified is not None:
            tests += [self.conforms(qualified, n, stack) for n in names]
        condition = f" FILTER({' && '.join(tests)})" if tests else ""
        return f"EXISTS {{ {triples} .{condition} }}"

    # ---- reported shapes

    def detail(self, node_shape):
        """The node shape of an sh:node, compiled as a reported shape on focus nodes given later:
        pySHACL nests its results under the sh:node result (sh:detail)."""
        if node_shape is None:
            return None
        if node_shape not in self.details:
            self.details[node_shape] = []  # a shape that refers to itself was refused by conforms()
            checks: list[_Check] = []
            self.reported(node_shape, _GIVEN_FOCUS, checks, self.detail_paths)
            self.details[node_shape] = checks
        return node_shape

    def targets(self, node) -> str:
        branches = []
        for cls in self.values(node, SH.targetClass):
            _term(self.shapes, cls, node)
            branches.append(f"{{ %%CLASS<{cls}>%%(?this) }}")
        for focus in self.values(node, SH.targetNode):
            branches.append(f"{{ VALUES ?this {{ {_term(self.shapes, focus, node)} }} }}")
        for predicate in self.values(node, SH.targetSubjectsOf):
            branches.append(f"{{ ?this {_term(self.shapes, predicate, node)} ?_target }}")
        for predicate in self.values(node, SH.targetObjectsOf):
            branches.append(f"{{ ?_target {_term(self.shapes, predicate, node)} ?this }}")
        return "{ SELECT DISTINCT ?this WHERE { " + " UNION ".join(branches) + " } }"

    def reported(self, shape, targets: str, compiled: list[_Check], path_of: dict) -> None:
        """The checks of `shape` validated on the focus nodes of `targets`."""
        shapes = self.shapes
        extra = {SH.lessThanOrEquals, SH.sparql} | set(_RANGE)
        focus_level = {SH.minCount, SH.maxCount, SH.qualifiedValueShape, SH.qualifiedMinCount, SH.qualifiedMaxCount,
                       SH.uniqueLang, SH.hasValue, SH.qualifiedValueShapesDisjoint}
        value_level = {SH["class"], SH.datatype, SH.nodeKind, SH.pattern, SH.flags, SH.languageIn, SH["in"],
                       SH.maxLength, SH.minLength, SH["not"], SH["or"], SH["and"], SH.node}
        self.check_shape_parameters(shape, focus_level | value_level | extra)
        if not list(shapes.objects(shape, SH.message)):
            raise UnsupportedShapes(f"shape {_describe(shapes, shape)} has no sh:message (pySHACL's own messages are not reproduced)")
        path_node = self.one(shape, SH.path)
        if path_node is None:
            for predicate in focus_level | {SH.lessThanOrEquals} | set(_RANGE):
                if predicate in (SH.hasValue,):
                    continue
                if (shape, predicate, None) in shapes:
                    raise UnsupportedShapes(f"node shape {_describe(shapes, shape)}: {predicate} is not supported on a node shape")
            for component, test, detail in self.value_checks(shape, "?this", ()):
                compiled.append(_Check(shape, component, f"SELECT ?this WHERE {{ {targets} FILTER(!({test})) }}", "focus_value",
                                       {"detail": self.detail(detail)}))
            for value in self.values(shape, SH.hasValue):
                compiled.append(_Check(shape, SH.HasValueConstraintComponent,
                                       f"SELECT ?this WHERE {{ {targets} FILTER(!sameTerm(?this, {_term(shapes, value, shape)})) }}",
                                       "focus"))
            for constraint in self.values(shape, SH.sparql):
                compiled.append(self.sparql_check(shape, constraint, targets))
            for prop in self.values(shape, SH.property):
                if (prop, SH.property, None) in shapes:
                    raise UnsupportedShapes(f"shape {_describe(shapes, prop)}: sh:property under a property shape")
                self.reported(prop, targets, compiled, path_of)
            return
        if (shape, SH.property, None) in shapes:
            raise UnsupportedShapes(f"shape {_describe(shapes, shape)}: sh:property under a property shape")
        if (shape, SH.sparql, None) in shapes:
            raise UnsupportedShapes(f"shape {_describe(shapes, shape)}: sh:sparql on a property shape")
        path_of[shape] = path_node
        path = self.path(path_node, shape)
        for component, test, detail in self.value_checks(shape, "?value", ()):
            compiled.append(_Check(shape, component, f"SELECT DISTINCT ?this ?value WHERE {{ {targets} ?this {path} ?value . "
                                                     f"FILTER(!({test})) }}", "value", {"detail": self.detail(detail)}))
        minimum, maximum = self.one(shape, SH.minCount), self.one(shape, SH.maxCount)
        if minimum is not None and int(minimum) == 1 and maximum is None:
            # the common case, without counting (twice as fast in Oxigraph; with a maximum too,
            # two such queries take longer than one count)
            compiled.append(_Check(shape, SH.MinCountConstraintComponent,
                                   f"SELECT ?this WHERE {{ {targets} FILTER NOT EXISTS {{ ?this {path} ?_x }} }}", "focus"))
        elif minimum is not None or maximum is not None:
            low = int(minimum) if minimum is not None else None
            high = int(maximum) if maximum is not None else None
            having = " || ".join(([f"?_n < {low}"] if low is not None else []) + ([f"?_n > {high}"] if high is not None else []))
            compiled.append(_Check(shape, SH.MinCountConstraintComponent,
                                   f"SELECT ?this ?_n WHERE {{ {{ SELECT ?this (COUNT(DISTINCT ?value) AS ?_n) WHERE {{ {targets} "
                                   f"OPTIONAL {{ ?this {path} ?value }} }} GROUP BY ?this }} FILTER({having}) }}",
                                   "count", {"low": low, "high": high, "components": (SH.MinCountConstraintComponent,
                                                                                      SH.MaxCountConstraintComponent)}))
        qualified = self.one(shape, SH.qualifiedValueShape)
        if qualified is not None:
            if self.one(shape, SH.qualifiedValueShapesDisjoint) not in (None, Literal(False)):
                raise UnsupportedShapes(f"shape {_describe(shapes, shape)}: sh:qualifiedValueShapesDisjoint")
            low = self.one(shape, SH.qualifiedMinCount)
            high = self.one(shape, SH.qualifiedMaxCount)
            low = int(low) if low is not None else None
            high = int(high) if high is not None else None
            if low == 1 and high is None:
                # at least one conforming value: without counting, as for sh:minCount 1
                test = self.conforms(qualified, "?_x")
                compiled.append(_Check(shape, SH.QualifiedMinCountConstraintComponent,
                                       f"SELECT ?this WHERE {{ {targets} FILTER NOT EXISTS {{ ?this {path} ?_x . FILTER({test}) }} }}",
                                       "focus"))
            elif low is not None or high is not None:
                having = " || ".join(([f"?_n < {low}"] if low is not None else []) + ([f"?_n > {high}"] if high is not None else []))
                test = self.conforms(qualified, "?value")
                compiled.append(_Check(shape, SH.QualifiedMinCountConstraintComponent,
                                       f"SELECT ?this ?_n WHERE {{ {{ SELECT ?this (COUNT(DISTINCT ?value) AS ?_n) WHERE {{ {targets} "
                                       f"OPTIONAL {{ ?this {path} ?value . FILTER({test}) }} }} GROUP BY ?this }} FILTER({having}) }}",
                                       "count", {"low": low, "high": high,
                                                 "components": (SH.QualifiedMinCountConstraintComponent,
                                                                SH.QualifiedMaxCountConstraintComponent)}))
        for value in self.values(shape, SH.hasValue):
            compiled.append(_Check(shape, SH.HasValueConstraintComponent,
                                   f"SELECT ?this WHERE {{ {targets} FILTER NOT EXISTS {{ ?this {path} ?_x . "
                                   f"FILTER(sameTerm(?_x, {_term(shapes, value, shape)})) }} }}", "focus"))
        unique = self.one(shape, SH.uniqueLang)
        if unique is not None and unique != Literal(False):
            if unique != Literal(True):
                raise UnsupportedShapes(f"shape {_describe(shapes, shape)}: sh:uniqueLang {unique}")
            compiled.append(_Check(shape, SH.UniqueLangConstraintComponent,
                                   f"SELECT DISTINCT ?this ?_lang WHERE {{ {targets} ?this {path} ?_a . ?this {path} ?_b . "
                                   f"FILTER(!sameTerm(?_a, ?_b) && isLiteral(?_a) && isLiteral(?_b) && LANG(?_a) != \"\" && "
                                   f"LCASE(LANG(?_a)) = LCASE(LANG(?_b))) BIND(LCASE(LANG(?_a)) AS ?_lang) }}", "focus"))
        for predicate, (op, component) in _RANGE.items():
            for limit in self.values(shape, predicate):
                if not isinstance(limit, Literal) or not isinstance(limit.value, (int, Decimal, float)) or isinstance(limit.value, bool):
                    raise UnsupportedShapes(f"shape {_describe(shapes, shape)}: {predicate} {limit} (only numbers)")
                # SPARQL clears the numbers that surely pass; pySHACL's comparison decides the rest
                compiled.append(_Check(shape, component, f"SELECT DISTINCT ?this ?value WHERE {{ {targets} ?this {path} ?value . "
                                                         f"FILTER(!(isNumeric(?value) && ?value {op} {_term(shapes, limit, shape)})) }}",
                                       "range", {"limit": limit, "op": op}))
        for other in self.values(shape, SH.lessThanOrEquals):
            compiled.append(_Check(shape, SH.LessThanOrEqualsConstraintComponent,
                                   f"SELECT DISTINCT ?this ?value ?_other WHERE {{ {targets} ?this {path} ?value . "
                                   f"?this {self.path(other, shape)} ?_other . "
                                   f"FILTER(!(isNumeric(?value) && isNumeric(?_other) && ?value <= ?_other)) }}", "ltoe"))

    def sparql_check(self, shape, constraint, targets: str) -> _Check:
        shapes = self.shapes
        where = _describe(shapes, shape)
        self.check_shape_parameters(constraint, {SH.select, SH.prefixes})
        if (constraint, SH.deactivated, Literal(True)) in shapes:
            raise UnsupportedShapes(f"shape {where}: a deactivated SPARQL constraint")
        select = self.one(constraint, SH.select)
        if select is None:
            raise UnsupportedShapes(f"shape {where}: a SPARQL constraint without sh:select")
        text = str(select)
        for name in ("currentShape", "shapesGraph", "PATH", "failure"):
            if re.search(r"[?$]" + name + r"\b", text):
                raise UnsupportedShapes(f"shape {where}: SPARQL constraint uses ${name}")
        prefixes = []
        for ontology in self.values(constraint, SH.prefixes):
            for declaration in self.values(ontology, SH.declare):
                prefix, namespace = self.one(declaration, SH.prefix), self.one(declaration, SH.namespace)
                prefixes.append(f"PREFIX {prefix}: <{namespace}>")
        full = "\n".join(prefixes) + "\n" + text
        # the focus nodes are bound first in the outer group, so that $this has its value
        # everywhere in that group (FILTER NOT EXISTS included), as pySHACL's pre-binding gives it
        head = re.match(r"(?is)^((?:\s|#[^\n]*\n|PREFIX\s+[\w-]*:\s*<[^>]*>|BASE\s*<[^>]*>)*SELECT\b[^{]*?\bWHERE\s*)\{", full)
        if head is None:
            raise UnsupportedShapes(f"shape {where}: SPARQL constraint is not a plain SELECT ... WHERE {{ }}")
        body = full[head.end():]
        if re.search(r"(?i)\bSELECT\b", body) and re.search(r"(?is)\bSELECT\b[^}]*[?$]this\b", body):
            raise UnsupportedShapes(f"shape {where}: $this inside a subquery")
        query = full[:head.end()] + targets + " " + body
        return _Check(shape, SH.SPARQLConstraintComponent, query, "sparql",
                      {"constraint": constraint, "messages": self.values(constraint, SH.message)})


def compile_shapes(shapes: Graph) -> CompiledShapes:
    """One query per (reported shape, constraint component); raises UnsupportedShapes."""
    compiler = _Compiler(shapes)
    checks: list[_Check] = []
    path_of: dict = {}
    shape_nodes = set(shapes.subjects(RDF.type, SH.NodeShape)) | set(shapes.subjects(RDF.type, SH.PropertyShape))
    for node in shape_nodes:
        if (node, SH.target, None) in shapes:
            raise UnsupportedShapes(f"shape {_describe(shapes, node)}: sh:target (SPARQL targets) is not supported")
        if (node, RDF.type, RDFS.Class) in shapes or (node, RDF.type, OWL.Class) in shapes:
            raise UnsupportedShapes(f"shape {_describe(shapes, node)}: implicit class targets are not supported")
    targeted = {s for t in _TARGETS for s in shapes.subjects(t, None)}
    for shape in sorted(targeted, key=str):
        compiler.reported(shape, compiler.targets(shape), checks, path_of)
    _check_patterns(shapes, compiler.patterns)
    path_of.update(compiler.detail_paths)
    return CompiledShapes(shapes, checks, compiler.datatypes, path_of, compiler.details)


def _check_patterns(shapes: Graph, patterns: list) -> None:
    """A pattern Oxigraph's regular expressions cannot read would make REGEX an error, and the
    FILTER around it false: a check skipped in silence. Refused instead."""
    store = ox.Store()
    for shape, written, arguments in patterns:
        row = next(iter(store.query(f'SELECT (REGEX("", {arguments}) AS ?ok) WHERE {{}}')))
        if row[0] is None:
            raise UnsupportedShapes(f"shape {_describe(shapes, shape)}: sh:pattern {written!r} is not a regular "
                                    "expression Oxigraph (Rust's regex) can read")


# ---- the data in Oxigraph, and back


class _Terms:
    """rdflib terms to Oxigraph terms and back, as the data graph has them."""

    def __init__(self, data: Graph):
        self.data = data
        self.to_ox: dict = {}
        self.blank: dict = {}
        self.named: dict = {}
        # Oxigraph keeps language tags in lower case: the data's own spelling of each other tag
        self.cased: dict = {}
        self._by_value: dict | None = None

    def ox(self, term):
        found = self.to_ox.get(term)
        if found is not None:
            return found
        if isinstance(term, URIRef):
            found = ox.NamedNode(str(term))
        elif isinstance(term, BNode):
            found = ox.BlankNode()
            self.blank[found.value] = term
        elif term.language:
            found = ox.Literal(str(term), language=term.language)
            if term.language != term.language.lower():
                self.cased[(str(term), term.language.lower())] = term
        elif term.datatype is not None:
            found = ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        else:
            found = ox.Literal(str(term))
        self.to_ox[term] = found
        return found

    def rdflib(self, term):
        if term is None:
            return None
        if isinstance(term, ox.NamedNode):
            found = self.named.get(term.value)
            if found is None:
                found = self.named[term.value] = URIRef(term.value)
            return found
        if isinstance(term, ox.BlankNode):
            found = self.blank.get(term.value)
            if found is None:
                # a store loaded elsewhere (from N-Triples) names blank nodes its own way
                raise ValueError(f"a result names blank node _:{term.value} of a store not loaded by fastshacl, "
                                 "which cannot be matched with the data graph's: validate without store=")
            return found
        if term.language:
            return self.cased.get((term.value, term.language)) or Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        literal = Literal(term.value) if datatype == _XSD_STRING else Literal(term.value, datatype=URIRef(datatype))
        if datatype in _CANONICALISED or datatype == _XSD_STRING:
            if next(self.data.triples((None, None, literal)), None) is None:
                return self._original(literal)
        return literal

    def _original(self, literal: Literal) -> Literal:
        """The literal of the data that Oxigraph read back in its canonical form."""
        if self._by_value is None:
            self._by_value = {}
            for o in self.data.objects():
                if isinstance(o, Literal) and not o.language:
                    datatype = str(o.datatype) if o.datatype is not None else _XSD_STRING
                    self._by_value.setdefault((datatype, o.value if o.value is not None else str(o)), o)
        datatype = str(literal.datatype) if literal.datatype is not None else _XSD_STRING
        return self._by_value.get((datatype, literal.value if literal.value is not None else str(literal)), literal)


def _bad_literal(literal: Literal) -> bool:
    """A literal pySHACL's sh:datatype rejects although its datatype is the one asked for."""
    if getattr(literal, "ill_typed", None) is True:
        return True
    wanted = _VALUE_TYPES.get(literal.datatype)
    return wanted is not None and not isinstance(literal.value, wanted)


def load_store(data: Graph, terms: _Terms, datatypes: set) -> tuple[ox.Store, dict]:
    """The data graph in a new Oxigraph store, and its literals pySHACL takes as ill-typed, by datatype."""
    store = ox.Store()
    convert = terms.ox
    bad: dict = {}
    quads = []
    for s, p, o in data:
        if isinstance(o, Literal) and o.datatype in datatypes and _bad_literal(o):
            bad.setdefault(o.datatype, set()).add(o)
        quads.append(ox.Quad(convert(s), convert(p), convert(o)))
    store.bulk_extend(quads)
    return store, bad


def _fill_classes(query: str, store: ox.Store, below: dict, union: bool) -> str:
    """`%%CLASS<C>%%(?x)`: ?x is an instance of C or of a class below it (rdfs:subClassOf*), as
    pySHACL reads sh:class and sh:targetClass; written as a list of the classes, read from the
    data once, which Oxigraph evaluates several times faster than the property path; the list as
    VALUES joined with rdf:type (a lookup per class), not a filter on every rdf:type triple: half
    the time of all the checks at 534,434 triples (7.9 s against 14.4 s)."""
    counter = [0]

    def replace(match):
        cls, var = match.group(1), match.group(2)
        if cls not in below:
            found = {r[0] for r in store.query(f"SELECT DISTINCT ?c WHERE {{ ?c {_SUBCLASS}* <{cls}> }}",
                                               use_default_graph_as_union=union)}
            found.add(ox.NamedNode(cls))
            below[cls] = None if any(isinstance(c, ox.BlankNode) for c in found) else sorted(str(c) for c in found)
        counter[0] += 1
        kind = f"?_class{counter[0]}"
        if below[cls] is None:  # a blank node among the subclasses cannot be listed
            return f"EXISTS {{ {var} {_RDF_TYPE}/{_SUBCLASS}* <{cls}> }}"
        return f"EXISTS {{ VALUES {kind} {{ {' '.join(below[cls])} }} {var} {_RDF_TYPE} {kind} }}"

    def replace_target(match):  # a branch of the targets: the pattern itself, not EXISTS
        return "{ " + replace(match)[len("EXISTS { "):-len(" }")] + " }"
    query = re.sub(r"\{ %%CLASS<([^>]*)>%%\((\?\w+)\) \}", replace_target, query)
    return re.sub(r"%%CLASS<([^>]*)>%%\((\?\w+)\)", replace, query)


def _fill_bad_literals(query: str, bad: dict, terms: _Terms) -> str:
    def replace(match):
        datatype, var = URIRef(match.group(1)), match.group(2)
        literals = bad.get(datatype)
        if not literals:
            return "false"
        return "(" + " || ".join(f"sameTerm({var}, {_ox_n3(terms.ox(lit))})" for lit in literals) + ")"
    return re.sub(r"%%BAD<([^>]*)>%%\((\?\w+)\)", replace, query)


def _ox_n3(term) -> str:
    if isinstance(term, ox.Literal):
        if term.language:
            return _string(term.value) + "@" + term.language
        return _string(term.value) + f"^^<{term.datatype.value}>"
    return str(term)


# ---- results, as pySHACL makes them


def _python_range_passes(value, limit: Literal, op: str) -> bool:
    """pySHACL's comparison of a value node with sh:minInclusive and the like (value_range_constraints)."""
    from pyshacl.rdfutil.compare import compare_literal
    if not isinstance(value, Literal):
        return False
    limit_is_string, value_is_string = isinstance(limit.value, str), isinstance(value.value, str)
    if limit_is_string != value_is_string:
        return False
    try:
        order = compare_literal(value, limit)
    except (TypeError, NotImplementedError):
        return False
    return {">=": order >= 0, ">": order > 0, "<=": order <= 0, "<": order < 0}[op]


def _python_ltoe_passes(value, other) -> bool:
    """pySHACL's sh:lessThanOrEquals test of one value node against one value of the other path."""
    if isinstance(value, BNode) or isinstance(other, BNode):
        raise ValueError("Cannot use sh:lessThanOrEquals to compare a BlankNode.")

    def plain(term):
        if isinstance(term, URIRef):
            return str(term), True
        if isinstance(term, Literal) and isinstance(term.value, str):
            return term.value, True
        return term, False

    (left, left_string), (right, right_string) = plain(value), plain(other)
    if left_string != right_string:
        return False
    try:
        return bool(left <= right)
    except TypeError:
        return False


def _fill_template(message: str, bound: dict) -> str:
    """pySHACL's filling in of {$var} and {?var} (constraint_component._format_sparql_based_result_message)."""
    for var, val in bound.items():
        message = re.sub("{{[?$]{}}}".format(var), str(val), message)
    return message


@dataclass
class _Record:
    """One validation result, before it is written to the results graph."""
    shape: object
    component: URIRef
    focus: object
    value: object
    path: object
    severity: URIRef
    messages: list
    constraint: object = None
    detail: object = None        # the node shape of an sh:node whose own results are nested here


class _Results:
    def __init__(self, shapes: Graph, data: Graph):
        self.shapes, self.data = shapes, data
        self.graph = Graph()
        self.report = BNode()
        self.graph.add((self.report, RDF.type, SH.ValidationReport))
        self.conforms = True
        self.count = 0
        self._cloned: dict = {}

    def node(self, source: Graph, term):
        """A node of the shapes or data graph in the results graph, as pySHACL puts it there
        (validator.py): a blank node copied once per validation, with what hangs off it and its
        own label (pyshacl.rdfutil.clone_blank_node), a literal as it is."""
        if term is None or isinstance(term, Literal):
            return term
        key = (id(source), str(term))
        found = self._cloned.get(key)
        if found is None:
            if isinstance(term, BNode):
                from pyshacl.rdfutil import clone_blank_node
                found = clone_blank_node(source, term, self.graph, keepid=True)
            else:
                found = URIRef(str(term))
            self._cloned[key] = found
        return found

    def write(self, record: _Record, details, parent=None) -> None:
        """A result linked from the report (sh:result), or from the result it details (sh:detail),
        with the results of its sh:node shape nested under it."""
        result = BNode()
        g = self.graph
        if parent is None:
            g.add((self.report, SH.result, result))
            if record.severity == SH.Violation:
                self.conforms = False
            self.count += 1
        else:
            g.add((parent, SH.detail, result))
        g.add((result, RDF.type, SH.ValidationResult))
        shapes, data = self.shapes, self.data
        g.add((result, SH.sourceConstraintComponent, self.node(shapes, record.component)))
        g.add((result, SH.sourceShape, self.node(shapes, record.shape)))
        g.add((result, SH.resultSeverity, record.severity))
        g.add((result, SH.focusNode, self.node(data, record.focus)))
        if record.value is not None:
            g.add((result, SH.value, self.node(data, record.value)))
        if record.path is not None:
            g.add((result, SH.resultPath, self.node(shapes, record.path)))
        if record.constraint is not None:
            g.add((result, SH.sourceConstraint, self.node(shapes, record.constraint)))
        for message in record.messages:
            g.add((result, SH.resultMessage, message))
        if record.detail is not None:
            for nested in details(record.detail, record.value):
                self.write(nested, details, result)


class _Run:
    """The checks run on one store, rows turned into records."""

    def __init__(self, compiled: CompiledShapes, store: ox.Store, bad: dict, terms: _Terms, union: bool = False):
        self.compiled, self.store, self.bad, self.terms = compiled, store, bad, terms
        self.union = union
        self.shape_info: dict = {}
        self.detail_cache: dict = {}
        self.below: dict = {}

    def info(self, shape):
        found = self.shape_info.get(shape)
        if found is None:
            shapes = self.compiled.shapes
            found = self.shape_info[shape] = (shapes.value(shape, SH.severity) or SH.Violation,
                                              list(shapes.objects(shape, SH.message)))
        return found

    def records(self, checks: list[_Check], given_focus: list | None = None) -> list[_Record]:
        to_rdflib = self.terms.rdflib
        out: list[_Record] = []
        for check in checks:
            shape = check.shape
            severity, messages = self.info(shape)
            path = self.compiled.path_of.get(shape)
            query = _fill_classes(_fill_bad_literals(check.query, self.bad, self.terms), self.store, self.below,
                                  self.union)
            if given_focus is not None:
                listed = " ".join(_ox_n3(self.terms.ox(f)) for f in given_focus)
                query = query.replace(_GIVEN_FOCUS, f"{{ VALUES ?this {{ {listed} }} }}")
            rows = self.store.query(query, use_default_graph_as_union=self.union)
            detail = check.extra.get("detail")
            if check.kind == "focus_value":
                for row in rows:
                    focus = to_rdflib(row[0])
                    out.append(_Record(shape, check.component, focus, focus, path, severity, messages, detail=detail))
            elif check.kind == "value":
                for row in rows:
                    out.append(_Record(shape, check.component, to_rdflib(row[0]), to_rdflib(row[1]), path, severity,
                                       messages, detail=detail))
            elif check.kind == "focus":
                for row in rows:
                    out.append(_Record(shape, check.component, to_rdflib(row[0]), None, path, severity, messages))
            elif check.kind == "count":
                low, high = check.extra["low"], check.extra["high"]
                at_least, at_most = check.extra["components"]
                for row in rows:
                    focus, count = to_rdflib(row[0]), int(row[1].value)
                    if high is not None and count > high:
                        out.append(_Record(shape, at_most, focus, None, path, severity, messages))
                    if low is not None and count < low:
                        out.append(_Record(shape, at_least, focus, None, path, severity, messages))
            elif check.kind == "range":
                for row in rows:
                    value = to_rdflib(row[1])
                    if not _python_range_passes(value, check.extra["limit"], check.extra["op"]):
                        out.append(_Record(shape, check.component, to_rdflib(row[0]), value, path, severity, messages))
            elif check.kind == "ltoe":
                for row in rows:
                    value, other = to_rdflib(row[1]), to_rdflib(row[2])
                    if not _python_ltoe_passes(value, other):
                        # one result per (value, other value) pair that fails, as pySHACL reports them
                        out.append(_Record(shape, check.component, to_rdflib(row[0]), value, path, severity, messages))
            elif check.kind == "sparql":
                out.extend(_sparql_records(check, rows, to_rdflib, path, severity, messages))
            else:  # pragma: no cover - every kind is produced by the compiler
                raise AssertionError(check.kind)
        return out

    def details(self, node_shape, focus) -> list[_Record]:
        """The results of validating `focus` against `node_shape` (run once per pair)."""
        key = (node_shape, focus)
        if key not in self.detail_cache:
            if isinstance(focus, BNode):
                raise UnsupportedShapes(f"sh:node {node_shape}: the results nested under a blank node value cannot be queried")
            self.detail_cache[key] = self.records(self.compiled.details[node_shape], [focus])
        return self.detail_cache[key]


def run(compiled: CompiledShapes, data: Graph, store: ox.Store | None = None,
        union: bool = False) -> tuple[bool, Graph, str]:
    """Validate `data` against the compiled shapes. `store`, if given, already holds `data`: in its
    default graph, or (union) in its graphs together (a result naming one of its blank nodes is
    then an error: those cannot be matched with the data's). Returns what pyshacl.validate
    returns: (conforms, results graph, text)."""
    terms = _Terms(data)
    if store is None:
        store, bad = load_store(data, terms, compiled.datatypes)
    else:
        bad = {}
        for o in data.objects():
            if isinstance(o, Literal):
                if o.datatype in compiled.datatypes and _bad_literal(o):
                    bad.setdefault(o.datatype, set()).add(o)
                elif o.language and o.language != o.language.lower():
                    terms.cased[(str(o), o.language.lower())] = o
    runner = _Run(compiled, store, bad, terms, union)
    results = _Results(compiled.shapes, data)
    for record in runner.records(compiled.checks):
        results.write(record, runner.details)
    results.graph.add((results.report, SH.conforms, Literal(results.conforms)))
    text = f"Validation Report\nConforms: {results.conforms}\nResults ({results.count})\n"
    return results.conforms, results.graph, text


def violation_checks(shapes: Graph) -> list[_Check]:
    """The compiled checks whose results are violations (warnings and notes do not fail validation,
    as with allow_warnings): what conformance depends on. Picklable, for other processes."""
    compiled = _compiled(shapes)
    shapes_graph = compiled.shapes
    return [c for c in compiled.checks if (shapes_graph.value(c.shape, SH.severity) or SH.Violation) == SH.Violation]


def any_violation(checks: list[_Check], store: ox.Store, union: bool = True) -> bool:
    """Whether any of the checks finds a violation in the store's data, stopping at the first: for
    data whose literals were checked already (ftz_kg.pipeline.storeload), so none is ill-typed."""
    terms = _Terms(Graph())
    below: dict = {}
    for check in checks:
        query = _fill_classes(_fill_bad_literals(check.query, {}, terms), store, below, union)
        rows = store.query(query, use_default_graph_as_union=union)
        if check.kind == "range":
            if any(not _python_range_passes(terms.rdflib(row[1]), check.extra["limit"], check.extra["op"])
                   for row in rows):
                return True
        elif check.kind == "ltoe":
            if any(not _python_ltoe_passes(terms.rdflib(row[1]), terms.rdflib(row[2])) for row in rows):
                return True
        elif next(iter(rows), None) is not None:     # every other kind: a row is a result
            return True
    return False


def conforms_on_store(store: ox.Store, shapes: Graph, union: bool = True) -> bool:
    """Whether the data of `store` (its graphs together with union=True) conforms to the shapes,
    without an rdflib copy of it (see any_violation). The report, when one is wanted, is
    `ftz-kg validate`'s. Raises UnsupportedShapes as validate() does."""
    return not any_violation(violation_checks(shapes), store, union)


def _sparql_records(check: _Check, rows, to_rdflib, shape_path, severity, shape_messages) -> list[_Record]:
    """pySHACL's SPARQLConstraintComponent: per focus node, distinct (this, path, value, other
    variables) rows; an unbound ?value is the focus node (the shapes are node shapes); the
    constraint's and the shape's messages filled in, without their language tags."""
    names = [v.value for v in rows.variables]
    seen, out = set(), []
    constraint_messages = check.extra["messages"]
    for row in rows:
        bound = {name: to_rdflib(row[i]) for i, name in enumerate(names) if row[i] is not None}
        this = bound.pop("this", None)
        path = bound.pop("path", None)
        value = bound.pop("value", None)
        if this is None:
            raise ValueError(f"SPARQL constraint of {check.shape} returned a row without $this")
        key = (this, path, value, tuple(sorted(bound.items())))
        if key in seen:
            continue
        seen.add(key)
        value = value if value is not None else this
        fill = dict(bound)
        fill["this"] = this
        if path is not None:
            fill["path"] = path
        fill["value"] = value
        filled = []
        for message in constraint_messages:
            if message in shape_messages:
                continue
            filled.append(Literal(_fill_template(str(message.value if isinstance(message, Literal) else message), fill)))
        for message in shape_messages:
            filled.append(Literal(_fill_template(str(message.value), fill)) if isinstance(message, Literal) else message)
        out.append(_Record(check.shape, SH.SPARQLConstraintComponent, this, value, path if path is not None else shape_path,
                           severity, filled, constraint=check.extra["constraint"]))
    return out


_COMPILED: dict = {}


def validate(data: Graph, shapes: Graph, store: ox.Store | None = None,
             union: bool = False) -> tuple[bool, Graph, str]:
    """Validate as pyshacl.validate(data, shacl_graph=shapes, inference="none", allow_warnings=True)
    would, and return what it returns. The compiled shapes are kept for the same shapes graph."""
    return run(_compiled(shapes), data, store, union)


def _compiled(shapes: Graph) -> CompiledShapes:
    """The compiled shapes, kept for the same shapes graph."""
    key = id(shapes), len(shapes)
    compiled = _COMPILED.get(key)
    if compiled is None or compiled.shapes is not shapes:
        compiled = compile_shapes(shapes)
        _COMPILED.clear()
        _COMPILED[key] = compiled
    return compiled
