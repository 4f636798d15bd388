"""The `escape-lens/1` JSON schema: records to plain dicts and back.

Every JSON output (analyze, baseline, diff input) goes through here, so there is one
definition of the schema (docs/analyze.md documents it). Fields are only ever added
within `escape-lens/1`; the reader takes reports written before a field existed (a site
without `notes` gets its `note` text as one UNCODED note; a flow step's parts are read
from its text again, by the parser's own `flow_step`). Output is deterministic: keys in
a fixed order, sites in the order the report holds them (the join sorts them), no
timestamps.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Mapping
from typing import Any, TextIO

from escape_lens.advice.report import ReportAdvice
from escape_lens.errors import ReportFormatError
from escape_lens.inputs import MAX_REPORT_BYTES, read_text
from escape_lens.parsers.escape import flow_step
from escape_lens.records import (
    AllocCall,
    BuildSettings,
    EscapeDiagnostic,
    GoToolchain,
    GoVersion,
    Note,
    Report,
    Site,
    SkippedPackage,
    SourcePos,
    TypeInfo,
)
from escape_lens.reporters import advice_json, beside, profile_json
from escape_lens.reporters.json_shape import check_report_shape
from escape_lens.reporters.json_text import dumps, indented
from escape_lens.reporters.prediction_json import prediction_from_dict, prediction_to_dict
from escape_lens.reporters.totals import summarize
from escape_lens.vocab import Construct, EscapeKind, NoteCode

SCHEMA = "escape-lens/1"


def _pos(pos: SourcePos | None) -> dict[str, Any] | None:
    if pos is None:
        return None
    return {"file": pos.file, "line": pos.line, "column": pos.col}


def _pos_from(data: Mapping[str, Any] | None) -> SourcePos | None:
    if data is None:
        return None
    return SourcePos(str(data["file"]), int(data["line"]), int(data.get("column", 0)))


def toolchain_to_dict(toolchain: GoToolchain) -> dict[str, Any]:
    return {
        "version": str(toolchain.version),
        "goos": toolchain.goos,
        "goarch": toolchain.goarch,
        "goexperiment": list(toolchain.goexperiment),
        "path": toolchain.path,
    }


def site_to_dict(site: Site) -> dict[str, Any]:
    diag = site.diagnostic
    escape = None
    if diag is not None:
        escape = {
            "kind": diag.kind,
            "message": diag.message,
            "flow": [{"pos": _pos(step.pos), "text": step.text} for step in diag.flow],
        }
    call = site.call
    return {
        "file": site.pos.file,
        "line": site.pos.line,
        "column": site.pos.col,
        "package": site.package,
        "function": site.function,
        "construct": site.construct,
        "expr": site.expr,
        "type": site.type.name if site.type else None,
        "size": site.type.size if site.type else None,
        "pointers": site.type.pointers if site.type else None,
        "ptrbytes": site.type.ptrbytes if site.type else None,
        "count": site.count,
        "entry": call.entry if call else None,
        "const_count": call.const_count if call else None,
        "call_line": call.pos.line if call else None,
        "call_file": call.pos.file if call else None,
        "asm": list(call.asm) if call else [],
        "escape": escape,
        "allocates": site.allocates,
        "heap_above": site.heap_above,
        "note": site.note,
        "notes": [{"code": note.code, "text": note.text} for note in site.notes],
        "prediction": prediction_to_dict(site.prediction) if site.prediction else None,
        "extra": [prediction_to_dict(p) for p in site.extra],
        "class_bytes": site.class_bytes,
        "waste_bytes": site.waste_bytes,
        "inlined_from": _pos(site.inlined_from),
        "origin": site.origin,
        "fingerprint": site.fingerprint,
    }


def site_from_dict(data: Mapping[str, Any]) -> Site:
    type_info = None
    if data.get("type") is not None:
        type_info = TypeInfo(str(data["type"]), int(data["size"]), int(data.get("ptrbytes") or 0))
    pos = SourcePos(str(data["file"]), int(data["line"]), int(data.get("column", 0)))
    call = None
    if data.get("entry"):
        call_pos = SourcePos(
            str(data.get("call_file") or data["file"]), int(data.get("call_line") or pos.line)
        )
        call = AllocCall(
            pos=call_pos,
            function=str(data["function"]),
            entry=str(data["entry"]),
            type=type_info,
            const_count=data.get("const_count"),
            asm=tuple(data.get("asm") or ()),
        )
    diagnostic = None
    escape = data.get("escape")
    if escape is not None:
        diagnostic = EscapeDiagnostic(
            pos=pos,
            kind=EscapeKind(escape.get("kind", EscapeKind.ESCAPES)),
            subject=str(data.get("expr", "")),
            message=str(escape["message"]),
            flow=tuple(
                flow_step(_pos_from(step.get("pos")), str(step["text"]))
                for step in escape.get("flow", ())
            ),
            function=str(data["function"]),
        )
    prediction = data.get("prediction")
    return Site(
        pos=pos,
        package=str(data["package"]),
        function=str(data["function"]),
        construct=Construct(data["construct"]),
        type=type_info,
        count=data.get("count"),
        diagnostic=diagnostic,
        call=call,
        prediction=prediction_from_dict(prediction) if prediction else None,
        origin=data.get("origin", "source"),
        extra=tuple(prediction_from_dict(p) for p in data.get("extra", ())),
        allocates=bool(data.get("allocates", True)),
        notes=_notes_from(data),
        expr=str(data.get("expr", "")),
        inlined_from=_pos_from(data.get("inlined_from")),
        fingerprint=str(data.get("fingerprint", "")),
        heap_above=data.get("heap_above"),
        observed=profile_json.observed_from_dict(data.get("observed"), data.get("per_op")),
    )


def _notes_from(data: Mapping[str, Any]) -> tuple[Note, ...]:
    if "notes" in data:
        return tuple(Note(NoteCode(n["code"]), str(n["text"])) for n in data["notes"])
    text = str(data.get("note") or "")  # a report written before notes had codes
    return (Note(NoteCode.UNCODED, text),) if text else ()


def report_to_dict(report: Report) -> dict[str, Any]:
    advice = ReportAdvice(report)
    return {
        **_report_head(report),
        "sites": [report_site_to_dict(site, report, advice) for site in report.sites],
        **_report_tail(report, advice),
    }


def build_to_dict(build: BuildSettings) -> dict[str, Any]:
    return {
        "tags": list(build.tags),
        "gcflags": list(build.gcflags),
        "goflags": list(build.goflags),
        "ignored": list(build.ignored),
    }


def _build_from(data: Mapping[str, Any] | None) -> BuildSettings:
    if not data:
        return BuildSettings()
    return BuildSettings(
        tags=tuple(str(t) for t in data.get("tags", ())),
        gcflags=tuple(str(f) for f in data.get("gcflags", ())),
        goflags=tuple(str(f) for f in data.get("goflags", ())),
        ignored=tuple(str(f) for f in data.get("ignored", ())),
    )


def _report_head(report: Report) -> dict[str, Any]:
    # `build` only when there is one: reports of plain builds stay as they were.
    build = {"build": build_to_dict(report.build)} if report.build else {}
    return {
        "schema": SCHEMA,
        "tool_version": report.tool_version,
        "origin": report.origin,
        "toolchain": toolchain_to_dict(report.toolchain),
        **build,
        "root": report.root,
        "packages": list(report.packages),
        "summary": summarize(report.sites),
    }


def _report_tail(report: Report, advice: ReportAdvice) -> dict[str, Any]:
    tail: dict[str, Any] = {
        "skipped": [{"package": s.package, "reason": s.reason} for s in report.skipped]
    }
    if report.profile is not None:
        tail["profile"] = profile_json.profile_to_dict(report.profile)
    tail["fix_first"] = advice_json.fix_first_list(advice)
    return tail


def report_site_to_dict(site: Site, report: Report, advice: ReportAdvice) -> dict[str, Any]:
    """A site of `report` as its JSON row, with its advice (`advice`: the report's)."""
    data = site_to_dict(site)
    data.update(advice_json.site_advice(site, advice))
    if report.profile is not None:  # joined to a heap profile: docs/profiles.md
        data.update(profile_json.site_profile_fields(site, report.profile))
    return data


def write_report(report: Report, out: TextIO) -> None:
    """`dumps(report_to_dict(report))`, byte for byte, written one site at a time.

    The whole document as one dict and one string costs several times the report's
    own memory (`analyze std`: 80 MB of JSON). A value nested at depth d is written as
    its standalone dump with every line after the first indented by 2*d more spaces
    (reporters/json_text.py writes the bytes json.dumps would).
    A large report's later sites are written by a forked process meanwhile, into a
    temporary file copied after the others (reporters/beside.py).
    """
    advice = ReportAdvice(report)
    head, tail = _report_head(report), _report_tail(report, advice)
    out.write(dumps(head)[: -len("\n}\n")] + ",\n")
    out.write('  "sites": [')
    sites = report.sites
    if not beside.worth_forking(len(sites)):
        _write_sites(report, advice, 0, len(sites), out)
    else:
        half = len(sites) // 2  # (each site's advice is known: the tail's ranking asked)
        with tempfile.TemporaryFile("w+", encoding="utf-8") as spill:

            def theirs() -> bool:
                spill.seek(0)
                spill.truncate()
                _write_sites(report, advice, half, len(sites), spill)
                spill.flush()
                return True

            with beside.Beside(theirs) as child:
                _write_sites(report, advice, 0, half, out)
                child.result()
            spill.seek(0)
            shutil.copyfileobj(spill, out, 1 << 20)
    out.write("\n  ],\n" if sites else "],\n")
    out.write(dumps(tail)[len("{\n") :])


def _write_sites(report: Report, advice: ReportAdvice, start: int, end: int, out: TextIO) -> None:
    """The JSON rows of `report.sites[start:end]`, each after its separator."""
    for index in range(start, end):
        site_data = report_site_to_dict(report.sites[index], report, advice)
        out.write(("," if index else "") + "\n    " + indented(site_data, "\n    "))


def report_from_dict(data: Mapping[str, Any], source: str = "report") -> Report:
    if not isinstance(data, Mapping) or data.get("schema") != SCHEMA:
        raise ReportFormatError(f"{source}: not an escape-lens report (schema {SCHEMA!r})")
    check_report_shape(data, source)
    try:
        tc = data["toolchain"]
        toolchain = GoToolchain(
            path=str(tc.get("path", "")),
            version=GoVersion.parse(str(tc["version"])),
            goos=str(tc.get("goos", "")),
            goarch=str(tc.get("goarch", "")),
            goexperiment=tuple(tc.get("goexperiment", ())),
        )
        return Report(
            tool_version=str(data.get("tool_version", "")),
            toolchain=toolchain,
            packages=tuple(data.get("packages", ())),
            sites=tuple(site_from_dict(s) for s in data["sites"]),
            skipped=tuple(
                SkippedPackage(str(s["package"]), str(s["reason"])) for s in data.get("skipped", ())
            ),
            root=str(data.get("root", "")),
            origin=data.get("origin", "source"),
            build=_build_from(data.get("build")),
            profile=profile_json.profile_from_dict(data.get("profile")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ReportFormatError(f"{source}: malformed escape-lens report ({exc})") from exc


def load_report(stream: TextIO, source: str) -> Report:
    return report_from_dict(parse_json(stream.read(), source), source)


def read_report(path: str, what: str = "report") -> Report:
    """The report in the file `path` (a regular file of at most MAX_REPORT_BYTES)."""
    text = read_text(path, limit=MAX_REPORT_BYTES, what=what, error=ReportFormatError)
    return report_from_dict(parse_json(text, path), path)


def parse_json(text: str, source: str) -> Any:
    """A JSON document; one line of ReportFormatError for anything else (nested too
    deeply to parse is something else: no report nests more than a few levels)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportFormatError(f"{source}: not JSON ({exc.msg} at line {exc.lineno})") from exc
    except RecursionError as exc:
        raise ReportFormatError(f"{source}: not an escape-lens report (nested too deeply)") from exc
