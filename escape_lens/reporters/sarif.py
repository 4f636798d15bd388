"""`--format sarif`: SARIF 2.1.0 for code scanning (GitHub, IDEs).

One run; `tool.driver.rules` lists every rule of `escape_lens.findings.RULES` (stable ids,
help text), so rule indexes never change between runs. Locations are relative to the
repository root under `uriBaseId` SRCROOT; the compiler's escape flow and the inlined
callee become `relatedLocations`; the site fingerprint is the partial fingerprint
`escapeLens/v1`, so code scanning keeps tracking a result across line shifts.
The output is deterministic: no timestamps, no absolute paths.
"""

from __future__ import annotations

from typing import Any, TextIO

from escape_lens import __version__
from escape_lens.findings import RULES, CheckResult, Finding, allocation_findings, skipped_line
from escape_lens.records import Report, SourcePos
from escape_lens.reporters.json_text import dumps, indented
from escape_lens.reporters.repository import repository_path
from escape_lens.vocab import FindingRule

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "SRCROOT"
_RULE_IDS = list(RULES)


def _rule(rule_id: FindingRule) -> dict[str, Any]:
    rule = RULES[rule_id]
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.help},
        "help": {"text": rule.help, "markdown": rule.help},
        "defaultConfiguration": {"level": rule.level},
    }


def _physical(report: Report, pos: SourcePos) -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": max(pos.line, 1)}
    if pos.col:
        region["startColumn"] = pos.col
    return {
        "artifactLocation": {"uri": repository_path(report, pos.file), "uriBaseId": SRCROOT},
        "region": region,
    }


def _result(report: Report, finding: Finding) -> dict[str, Any]:
    rule = RULES[finding.rule]
    location: dict[str, Any] = {"physicalLocation": _physical(report, finding.pos)}
    if finding.function:
        location["logicalLocations"] = [
            {"fullyQualifiedName": finding.function, "kind": "function"}
        ]
    result: dict[str, Any] = {
        "ruleId": rule.id,
        "ruleIndex": _RULE_IDS.index(rule.id),
        "level": finding.level,
        "message": {"text": finding.message},
        "locations": [location],
    }
    site = finding.site
    if site is not None:
        related = []
        if site.diagnostic is not None:
            for step in site.diagnostic.flow:
                if step.pos is not None:
                    related.append((step.pos, step.text))
        if site.inlined_from is not None:
            related.append((site.inlined_from, "the allocation is inlined from here"))
        if related:
            result["relatedLocations"] = [
                {
                    "id": index,
                    "physicalLocation": _physical(report, pos),
                    "message": {"text": text},
                }
                for index, (pos, text) in enumerate(related, start=1)
            ]
        if site.fingerprint:
            result["partialFingerprints"] = {"escapeLens/v1": site.fingerprint}
        properties: dict[str, Any] = {"construct": site.construct}
        if site.prediction is not None:
            properties.update(
                path=site.prediction.path,
                sizeClass=site.prediction.size_class,
                classBytes=site.class_bytes,
            )
        result["properties"] = properties
    return result


def _invocation(report: Report) -> dict[str, Any]:
    """The run itself: a package skipped because it does not compile is a warning
    notification, so code scanning shows that part of the build was not analysed."""
    invocation: dict[str, Any] = {"executionSuccessful": True}
    if report.skipped:
        invocation["toolExecutionNotifications"] = [
            {"level": "warning", "message": {"text": skipped_line(skipped)}}
            for skipped in report.skipped
        ]
    return invocation


def sarif_log(result: CheckResult) -> dict[str, Any]:
    return _log(result, [_result(result.report, f) for f in result.findings])


def _log(result: CheckResult, results: list[Any]) -> dict[str, Any]:
    report = result.report
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "escape-lens",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": [_rule(rule_id) for rule_id in _RULE_IDS],
                    }
                },
                "originalUriBaseIds": {
                    SRCROOT: {"description": {"text": "The root of the repository."}}
                },
                "invocations": [_invocation(report)],
                "results": results,
                "properties": {
                    "toolchain": str(report.toolchain.version),
                    "notes": list(result.notes),
                },
            }
        ],
    }


# Where a result stands in the log: runs[0].results[i], three levels down.
_RESULT_INDENT = "\n" + " " * 8
_RESULTS_MARK = "\x00results\x00"


class SarifReporter:
    def render(self, report: Report, out: TextIO) -> None:
        self.render_check(allocation_findings(report), out)

    def render_check(self, result: CheckResult, out: TextIO) -> None:
        """`dumps(sarif_log(result))`, byte for byte, written one result at a time: the
        whole log at once held a gigabyte for std's 35 000 results."""
        if not result.findings:
            out.write(dumps(sarif_log(result)))
            return
        text = dumps(_log(result, [_RESULTS_MARK]))
        mark = text.index(dumps(_RESULTS_MARK).rstrip("\n"))
        out.write(text[: mark - len(_RESULT_INDENT)])
        for index, finding in enumerate(result.findings):
            item = indented(_result(result.report, finding), _RESULT_INDENT)
            out.write(("," if index else "") + _RESULT_INDENT + item)
        out.write(text[mark + len(dumps(_RESULTS_MARK).rstrip("\n")) :])


REPORTER = SarifReporter()
