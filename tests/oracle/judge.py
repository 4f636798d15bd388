"""Judge the join against go/types: is each escape diagnostic paired with the call the
listing proves?

`typesoracle.go` (go/types, independent of the listing) says, at each position the
compiler puts a diagnostic, the expression's or variable's type, its size, and which
data-word helper boxing it calls (walk/convert.go: none for constants, zero-size,
one-byte and pointer-shaped values). A site agrees when its runtime entry is the one the
construct and the type imply and its size is the type's; a diagnostic the oracle cannot
place (compiler temporaries, positions go/types has no expression at) is `unjudged`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from escape_lens.records import Report, Site
from escape_lens.toolchain.process import go_environ

ORACLE = Path(__file__).with_name("typesoracle.go")

_OBJECT = re.compile(r"^(newobject|mallocgc(\w*)?)$")
_MAKESLICE = frozenset({"makeslice", "makeslice64", "makeslicecopy", "mallocgc"})
_GROW = re.compile(r"^(growslice\w*|moveSlice\w*)$")
_CONV = {
    "bytes": re.compile(r"^(stringtoslicebyte|concatbyte\w*|newobject|mallocgc\w*)$"),
    "string": re.compile(r"^(slicebytetostring|slicerunetostring|intstring|rawstring)$"),
    "runes": re.compile(r"^stringtoslicerune$"),
    "concat": re.compile(r"^concatstring\w*$"),
}


@dataclass(frozen=True, slots=True)
class Fact:
    line: int
    col: int
    what: str
    node: str
    type: str
    size: int
    const: bool
    box: str
    elem: str
    elem_size: int
    kind: str = ""  # the underlying kind a name may hide: map, chan, slice
    conv: str = ""  # a conversion's: bytes, runes, string (copies) or noop


@dataclass(frozen=True, slots=True)
class Verdict:
    site: Site
    expected: str
    ok: bool | None  # None: the oracle cannot judge this diagnostic

    def describe(self) -> str:
        d = self.site.diagnostic
        subject = d.subject if d else ""
        got = f"{self.site.entry or 'no call'} {self.site.type.name if self.site.type else '-'}"
        return f"{self.site.pos} {subject!r}: expected {self.expected}, got {got}"


def run_oracle(
    go: Path, dirs: Sequence[Path], module: Path
) -> dict[tuple[str, int, int], list[Fact]]:
    """(absolute file, line, column) -> facts, for every package directory in `dirs`
    of the module at `module` (where go/build resolves the module's own imports)."""
    out = subprocess.run(
        [str(go), "run", str(ORACLE), *map(str, dirs)],
        cwd=module,
        capture_output=True,
        text=True,
        check=True,
        env={**go_environ(), "GOFLAGS": "-mod=mod"},
        timeout=600,
    ).stdout
    facts: dict[tuple[str, int, int], list[Fact]] = {}
    for line in out.splitlines():
        raw = json.loads(line)
        key = (raw["file"], raw["line"], raw["col"])
        facts.setdefault(key, []).append(
            Fact(
                raw["line"],
                raw["col"],
                raw["what"],
                raw.get("node", ""),
                raw["type"],
                raw["size"],
                raw["const"],
                raw["box"],
                raw.get("elem", ""),
                raw.get("elem_size", 0),
                raw.get("kind", ""),
                raw.get("conv", ""),
            )
        )
    return facts


def _size(site: Site) -> int | None:
    if site.prediction is not None and site.prediction.path != "dynamic":
        return site.prediction.requested_bytes
    return site.type.size if site.type is not None else None


def _pick(facts: list[Fact], what: str) -> Fact | None:
    chosen = [f for f in facts if f.what == what]
    # Several expressions start at one column (`a.b` and `a`): the widest type wins
    # only when they agree; otherwise the oracle stays silent.
    if not chosen:
        return None
    if len({(f.type, f.const) for f in chosen}) == 1:
        return chosen[0]
    return None


def _typed_conversion(facts: list[Fact], before: Sequence[Fact]) -> Fact | None:
    """The conversion go/types sees at the statement's column, or one column before it
    (cmd/compile states a conversion at its operand, `T(x)` at x, and its boxing at the
    `(`), whatever its type's name spells."""
    for found in (facts, before):
        chosen = [f for f in found if f.node == "conversion" and f.conv]
        if len({(f.conv, f.type) for f in chosen}) == 1:
            return chosen[0]
        if chosen:
            return None
    return None


def judge_site(
    site: Site, facts: list[Fact], minor: int, role: str = "", before: Sequence[Fact] = ()
) -> Verdict | None:
    """The verdict on one escaping diagnostic's site, or None when it is no allocation
    diagnostic at all; `before`: the facts one column before it."""
    diag = site.diagnostic
    if diag is None or diag.kind not in ("escapes", "moved-to-heap"):
        return None
    subject = diag.subject
    entry = site.entry or ""
    if diag.kind == "moved-to-heap":
        var = _pick(facts, "var")
        if var is None or subject.startswith((".", "~")):
            return Verdict(site, "a variable go/types knows", None)
        if not site.allocates:
            batched = minor >= 25 and "batched" in site.note
            return Verdict(site, f"newobject of {var.type} ({var.size} B)", batched)
        size = _size(site)
        # 1.25+ batches small scalar locals moved to the heap into one object.
        batched = minor >= 25 and size is not None and size > var.size and var.size <= 16
        ok = bool(_OBJECT.match(entry)) and (size == var.size or batched)
        return Verdict(site, f"newobject of {var.type} ({var.size} B)", ok)
    if subject == "func literal":
        lit = _pick(facts, "expr")
        if lit is not None and lit.node == "static-func":
            return Verdict(site, "no allocation (captures nothing)", not site.allocates)
    if subject == "func literal" or subject.endswith(" argument") or subject.startswith("{"):
        ok = site.allocates and bool(_OBJECT.match(entry))
        return Verdict(site, "an object (closure, ... array)", ok)
    if subject.startswith(("&", "new(")):
        expr = _pick(facts, "expr")
        if expr is None or not expr.elem:
            return Verdict(site, "a pointer expression", None)
        ok = site.allocates and bool(_OBJECT.match(entry)) and _size(site) == expr.elem_size
        return Verdict(site, f"newobject of {expr.elem} ({expr.elem_size} B)", ok)
    if subject.startswith("[]") and "{" in subject:
        if subject.endswith("{}"):
            return Verdict(site, "no allocation (an empty slice literal)", not site.allocates)
        ok = site.allocates and bool(_OBJECT.match(entry))
        return Verdict(site, "the literal's backing array", ok)
    if re.match(r"^[\w.]+\{(?:\.\.\.)?\}$", subject):
        lit = _pick(facts, "expr")
        if lit is not None and lit.kind == "map":  # a defined map type's literal
            return Verdict(site, "makemap*", site.allocates and entry.startswith("makemap"))
    if re.match(r"^[\w.]+\{.+\}$", subject):
        lit = _pick(facts, "expr")
        if lit is not None and lit.box == "convTslice" and lit.elem:
            # A literal of a defined slice type (net's `IP{...}`): as `[]T{...}`, the
            # statement is of its backing array; where the value is boxed where it is
            # written (an error's `headerError{...}`), the compiler states it twice,
            # array and boxing, judged as a pair (`judge`).
            ok = site.allocates and bool(_OBJECT.match(entry))
            return Verdict(site, "the literal's backing array", ok)
    if subject.startswith(("make(", "map[")):
        expr = _pick(facts, "expr")
        if expr is None:
            return Verdict(site, "a make", None)
        if expr.kind == "map" or subject.startswith(("make(map", "map[")):
            ok = site.allocates and entry.startswith("makemap")
            return Verdict(site, "makemap*", ok)
        if expr.kind == "chan":
            return Verdict(site, "makechan", site.allocates and entry.startswith("makechan"))
        ok = site.allocates and entry in _MAKESLICE
        if ok and entry != "mallocgc" and expr.elem_size and site.type is not None:
            ok = site.type.size == expr.elem_size
        return Verdict(site, f"makeslice of {expr.elem}", ok)
    if subject.startswith("append"):
        return Verdict(site, "growslice", site.allocates and bool(_GROW.match(entry)))
    expr = _pick(facts, "expr")
    conversion = _conversion(subject)
    typed = _typed_conversion(facts, before)
    if typed is not None and typed.conv == "noop":
        # `[]byte(h)` of a defined []byte copies nothing: the statement is the boxing's.
        if typed.const or not typed.box:
            return Verdict(site, "no allocation (a constant)", not site.allocates)
        ok = site.allocates and entry == typed.box
        return Verdict(site, f"{typed.box} of {typed.type} (no copy)", ok)
    if typed is not None:
        conversion = typed.conv
    if conversion is not None and role != "boxing":
        ok = site.allocates and bool(_CONV[conversion].match(entry))
        return Verdict(site, f"a {conversion} conversion", ok)
    if conversion is not None:
        # The boxing of the conversion's result (`sink = []byte(s)`): cmd/compile states
        # it at the conversion's `(`, the conversion itself one column on.
        box = "convTstring" if conversion == "string" else "convTslice"
        return Verdict(site, f"{box} of the conversion", site.allocates and entry == box)
    if expr is not None and expr.node == "method-value":
        ok = site.allocates and bool(_OBJECT.match(entry)) and site.construct == "method-value"
        return Verdict(site, "a method value's closure", ok)
    if expr is None or expr.type.startswith("typeparam "):
        return Verdict(site, "an expression go/types can type", None)
    if expr.node == "call" and "(" not in subject:
        # The diagnostic of an inlined callee's expression sits at the call.
        return Verdict(site, "an expression of an inlined call", None)
    if expr.const or not expr.box:
        why = "constant" if expr.const else f"{expr.type} needs no boxing"
        return Verdict(site, f"no allocation ({why})", not site.allocates)
    ok = site.allocates and entry == expr.box
    if ok and expr.box in ("convT", "convTnoptr"):
        ok = _size(site) == expr.size
    if ok and site.type is not None:
        # The boxed type is the value's (an Offset boxed by convT32), not the helper's.
        ok = _spelling(expr.type) == _spelling(site.type.name)
    return Verdict(site, f"{expr.box} of {expr.type}", ok)


def _spelling(go_type: str) -> str:
    """A type as both go/types and the compiler's symbols can spell it: no package
    paths (the oracle names a package by its directory), no spaces, `[]byte` as
    `[]uint8`, `any` as `interface{}`."""
    go_type = re.sub(r"[\w\-./]*\.(?=\w)", "", go_type)
    go_type = re.sub(r"\bbyte\b", "uint8", go_type)
    go_type = re.sub(r"\brune\b", "int32", go_type)
    return re.sub(r"\bany\b", "interface{}", go_type).replace(" ", "")


def _conversion(subject: str) -> str | None:
    if subject.startswith(("([]byte)(", "[]byte(")):
        return "bytes"
    if subject.startswith(("([]rune)(", "[]rune(")):
        return "runes"
    if subject.startswith("string("):
        return "string"
    if re.search(r"\w \+ \w", subject) and not re.search(r"[*/-]", subject):
        return None  # `a + b`: a string concatenation or arithmetic; the oracle's type says
    return None


def _roles(sites: Sequence[Site]) -> dict[int, str]:
    """Which conversion diagnostics are the boxing of the conversion's result: of two
    with one subject at columns c and c+1, the one at c (go/types cannot say, the
    compiler's positions do); of two at one column (`a + b`), judged as a pair. Only
    within one function: shape instances of one generic function share positions."""
    by_subject: dict[tuple[str, int, str, str], list[int]] = {}
    for index, site in enumerate(sites):
        d = site.diagnostic
        if d is not None and d.kind == "escapes":
            key = (d.pos.file, d.pos.line, d.subject, site.function)
            by_subject.setdefault(key, []).append(index)
    roles = {}
    for indices in by_subject.values():
        cols = {sites[i].pos.col for i in indices}
        for index in indices:
            col = sites[index].pos.col
            if col + 1 in cols:
                roles[index] = "boxing"
            elif len(indices) == 2 and len(cols) == 1:
                roles[index] = "pair"
    return roles


def judge(report: Report, facts: dict[tuple[str, int, int], list[Fact]]) -> list[Verdict]:
    minor = report.toolchain.version.minor
    sites = list(report.sites)
    roles = _roles(sites)
    pairs: dict[tuple[object, ...], list[Site]] = {}
    verdicts = []
    for index, site in enumerate(sites):
        path = os.path.join(report.root, site.pos.file)
        found = facts.get((path, site.pos.line, site.pos.col), [])
        before = facts.get((path, site.pos.line, site.pos.col - 1), [])
        role = roles.get(index, "")
        if role == "pair" and site.diagnostic is not None:
            key = (site.pos, site.diagnostic.subject, site.function)
            pairs.setdefault(key, []).append(site)
            continue
        verdict = judge_site(site, found, minor, role, before)
        if verdict is not None and _foreign(site, path):
            verdict = Verdict(site, "an expression of an inlined callee", None)
        if verdict is not None:
            verdicts.append(_concat_fix(verdict, found))
    for pair in pairs.values():
        entries = sorted(s.entry or "" for s in pair)
        concat = any(_CONV["concat"].match(e) for e in entries)
        string_pair = concat or any(_CONV["string"].match(e) for e in entries)
        if _slice_literal(pair[0], facts, report.root):
            ok = len(entries) == 2 and "convTslice" in entries
            ok = ok and any(_OBJECT.match(e) for e in entries)
        else:
            ok = len(entries) == 2 and string_pair and "convTstring" in entries
        for site in pair:
            verdicts.append(Verdict(site, "a conversion and the boxing of its result", ok))
    return verdicts


def _slice_literal(site: Site, facts: dict[tuple[str, int, int], list[Fact]], root: str) -> bool:
    """Whether the pair's subject is a slice literal: `[]T{...}`, or `T{...}` of a
    defined slice type (archive/tar's `headerError{...}`), as go/types says."""
    subject = site.diagnostic.subject if site.diagnostic is not None else ""
    if subject.startswith("[]"):
        return True
    if not re.match(r"^[\w.]+\{.+\}$", subject):
        return False
    path = os.path.join(root, site.pos.file)
    lit = _pick(facts.get((path, site.pos.line, site.pos.col), []), "expr")
    return lit is not None and lit.box == "convTslice" and bool(lit.elem)


_LINES: dict[str, list[str]] = {}


def _foreign(site: Site, path: str) -> bool:
    """Whether the diagnostic's subject is an inlined callee's expression (stated at
    the call): its first name is nowhere on the source line."""
    diag = site.diagnostic
    if diag is None or diag.kind == "moved-to-heap":
        return False
    if path not in _LINES:
        try:
            _LINES[path] = Path(path).read_text().splitlines()
        except OSError:
            _LINES[path] = []
    lines = _LINES[path]
    text = lines[site.pos.line - 1] if 0 < site.pos.line <= len(lines) else ""
    names = re.findall(r"[A-Za-z_]\w*", diag.subject.replace("go.shape.", ""))
    keywords = {"make", "new", "string", "len", "cap", "append", "func", "literal", "map"}
    first = next((n for n in names if n not in keywords), "")
    return bool(text) and bool(first) and first not in text


def _top_level_sum(subject: str) -> bool:
    depth = 0
    for index, char in enumerate(subject):
        depth += char in "([{"
        depth -= char in ")]}"
        if depth == 0 and subject[index : index + 3] == " + ":
            return True
    return False


def _concat_fix(verdict: Verdict, facts: list[Fact]) -> Verdict:
    """`a + b` of strings is a concatenation, not a boxing: the oracle's type says."""
    diag = verdict.site.diagnostic
    if diag is None or not _top_level_sum(diag.subject):
        return verdict
    expr = _pick(facts, "expr")
    if expr is None or expr.type != "string" or expr.const:
        return verdict
    if expr.node != "binary":
        ok = verdict.site.allocates and verdict.site.entry == "convTstring"
        return Verdict(verdict.site, "convTstring of the concatenation", ok)
    entry = verdict.site.entry or ""
    ok = verdict.site.allocates and bool(_CONV["concat"].match(entry))
    return Verdict(verdict.site, "a string concatenation", ok)


def summary(verdicts: Iterable[Verdict]) -> tuple[int, int, int]:
    """(agreeing, disagreeing, unjudged)."""
    items = list(verdicts)
    return (
        sum(v.ok is True for v in items),
        sum(v.ok is False for v in items),
        sum(v.ok is None for v in items),
    )
