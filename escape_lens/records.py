"""The records every stage passes to the next (docs/design.md, "Records").

All are frozen, slotted dataclasses: stages are pure functions of these values, so a record
never changes after it is made. Serialisation to and from the JSON schema lives in
`escape_lens.reporters.json_report`, not here; the result cache stores records through
`escape_lens.codec`, which reads their annotations: a field's annotation is the only
description of what it may hold (no `Any`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from escape_lens.gonames import symbol_path
from escape_lens.vocab import AllocPath, Construct, EscapeKind, NoteCode, ProfileSample

Origin = Literal["source", "binary"]

_VERSION_RE = re.compile(r"^(?:go)?(\d+)\.(\d+)(?:\.(\d+))?(.*)$")


@dataclass(frozen=True, slots=True, order=True)
class GoVersion:
    """A Go release. Orders by number; prints as `go1.27.3`.

    `1.27` and `go1.27rc1` parse to patch 0; anything after the numbers (rc, devel
    suffixes) is kept in `suffix` for display only and does not take part in ordering.
    """

    major: int
    minor: int
    patch: int = 0
    suffix: str = field(default="", compare=False)

    @classmethod
    def parse(cls, text: str) -> GoVersion:
        match = _VERSION_RE.match(text.strip())
        if match is None:
            raise ValueError(f"not a Go version: {text!r}")
        major, minor, patch, suffix = match.groups()
        return cls(int(major), int(minor), int(patch or 0), suffix)

    @property
    def minor_version(self) -> tuple[int, int]:
        return (self.major, self.minor)

    def __str__(self) -> str:
        return f"go{self.major}.{self.minor}.{self.patch}{self.suffix}"


@dataclass(frozen=True, slots=True)
class GoToolchain:
    """A Go toolchain as `go env` describes it.

    `goexperiment` holds the GOEXPERIMENT modifiers as set (e.g. `("noallocheaders",)`),
    not the effective set; the model combines them with the version's defaults.
    """

    path: str
    version: GoVersion
    goos: str
    goarch: str
    goexperiment: tuple[str, ...] = ()
    goroot: str = ""


@dataclass(frozen=True, slots=True, order=True)
class SourcePos:
    """A 1-based position as the compiler prints it; `col` is 0 when unknown (assembly)."""

    file: str
    line: int
    col: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}" if self.col else f"{self.file}:{self.line}"


class FlowStepKind(StrEnum):
    HOP = "flow"  # `flow: DESTINATION ← SOURCE` (go1.21: `=`): where the value goes
    EDGE = "from"  # `from EXPRESSION (REASON) at POS`: the statement that moves it
    OTHER = "other"  # a flow line of neither form (kept for display only)


@dataclass(frozen=True, slots=True)
class FlowStep:
    """One step of the compiler's explanation of why something escapes.

    text: the compiler's words (`flow: {heap} ← &T{...}`, `from &T{...} (spill)`), for
    display; the parts are read from it once, by parsers/escape.py `flow_step`:
    a HOP has `destination` and `source`, an EDGE `expression` and `reason`.
    """

    pos: SourcePos | None
    text: str
    kind: FlowStepKind = FlowStepKind.OTHER
    destination: str = ""
    source: str = ""
    expression: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class EscapeDiagnostic:
    """One escape-analysis statement of the compiler.

    kind: what the statement says (vocab.EscapeKind, the parser's full set).
    subject: the expression or variable the statement is about (`&smallStruct{}`, `x`).
    """

    pos: SourcePos
    kind: EscapeKind
    subject: str
    message: str
    flow: tuple[FlowStep, ...] = ()
    function: str = ""


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """One field of a struct type, in declaration order: its type's name, and its size
    and alignment on the target (-1 and 0 while its type is unsized)."""

    name: str
    type: str
    size: int = -1
    align: int = 0


@dataclass(frozen=True, slots=True)
class TypeInfo:
    """A Go type as its runtime type descriptor describes it (`abi.Type`).

    key, elem: for a defined map or channel type (`net/http.Header`), whose name does
    not spell them, its key (maps) and element types; None otherwise.
    fields: for a defined struct type of a target package, its fields (their layout is
    what a field-order hint reorders, escape_lens/advice/layout.py); else empty. Detail
    of the same type, so not compared: a type is the same with or without them.
    """

    name: str
    size: int
    ptrbytes: int
    key: TypeInfo | None = None
    elem: TypeInfo | None = None
    fields: tuple[FieldInfo, ...] = field(default=(), compare=False)

    @property
    def pointers(self) -> bool:
        return self.ptrbytes > 0


@dataclass(frozen=True, slots=True)
class AllocCall:
    """A call into a runtime allocation entry point, from `-S` output or a binary.

    pos: where the instruction is attributed (for inlined code: the callee's line).
    call_pos: the position in `function` that runs it, when inlining moved it (else None).
    entry: the runtime symbol without the `runtime.` prefix (`newobject`, `makeslice`, ...).
    type: the type descriptor passed to it, when there is one.
    const_count: a constant length/size/hint visible in the argument registers.
    asm: the instruction lines that set up and make the call, for display.
    static_boxes: how many values the listing boxes without an allocation between the
        previous call and this one (one-byte values point into `runtime.staticuint64s`,
        zero-size ones at `runtime.zerobase`): boxings no call stands for.
    hoisted_boxes: `static_boxes` counts the table's references in the straight line,
        which go1.21 may have hoisted there from later boxings, and no zero-size value
        (parsers/staticboxes.py could not place them by their data words).
    boxed: for a `convT*` call, the source type of the value it boxes (the interface's
        type word loaded right after it: `int`, where the call says `uint64`).
    """

    pos: SourcePos
    function: str
    entry: str
    type: TypeInfo | None = None
    const_count: int | None = None
    call_pos: SourcePos | None = None
    asm: tuple[str, ...] = ()
    static_boxes: int = 0
    hoisted_boxes: bool = False
    boxed: str | None = None


@dataclass(frozen=True, slots=True)
class Prediction:
    """What the Go runtime does with one request of `requested_bytes`.

    For path `dynamic` (a length known only at run time) the byte fields are 0 and the
    element thresholds say where the path changes: up to `tiny_max_count` elements the
    request is tiny, up to `small_max_count` it is small, beyond that large.
    """

    path: AllocPath
    size_class: int
    class_bytes: int
    header_bytes: int
    span_class: int
    span_pages: int
    objects_per_span: int
    waste_bytes: int
    requested_bytes: int
    elem_bytes: int | None = None
    tiny_max_count: int | None = None
    small_max_count: int | None = None


@dataclass(frozen=True, slots=True)
class Note:
    """One remark on a site: a stable `code` to select by, and the `text` a person reads."""

    code: NoteCode
    text: str


def join_notes(notes: tuple[Note, ...]) -> str:
    """The notes as one text, `; ` between them (the JSON `note` field)."""
    return "; ".join(note.text for note in notes if note.text)


@dataclass(frozen=True, slots=True)
class Site:
    """One allocation site: what allocates, where, why, and what it costs.

    allocates: False for an escape statement with no allocation behind it (the object
        stays on the stack, was optimised away, or is allocated where it was inlined);
        `notes` say which.
    prediction: the main object; `extra` the further objects one execution allocates
        (a channel's buffer, a map's buckets or groups).
    pos: where the site is in `function`; inlined_from: the callee's line, if inlined.
    heap_above: the caller passes the call a stack buffer of this many bytes and the
        runtime allocates only for a longer result (escape_lens/stackbuf.py); None when
        every execution allocates.
    """

    pos: SourcePos
    package: str
    function: str
    construct: Construct
    type: TypeInfo | None
    count: int | None
    diagnostic: EscapeDiagnostic | None
    call: AllocCall | None
    prediction: Prediction | None
    origin: Origin = "source"
    extra: tuple[Prediction, ...] = ()
    allocates: bool = True
    notes: tuple[Note, ...] = ()
    expr: str = ""
    inlined_from: SourcePos | None = None
    fingerprint: str = ""
    observed: Observed | None = None
    heap_above: int | None = None

    @property
    def note(self) -> str:
        """All notes as one text (what the JSON's `note` says)."""
        return join_notes(self.notes)

    def has_note(self, code: NoteCode) -> bool:
        return any(note.code == code for note in self.notes)

    @property
    def entry(self) -> str | None:
        return self.call.entry if self.call is not None else None

    @property
    def class_bytes(self) -> int:
        """Bytes one execution takes from size classes (0 when unknown or dynamic)."""
        objects = (self.prediction, *self.extra) if self.prediction is not None else self.extra
        return sum(p.class_bytes for p in objects) if self.allocates else 0

    @property
    def waste_bytes(self) -> int:
        objects = (self.prediction, *self.extra) if self.prediction is not None else self.extra
        return sum(p.waste_bytes for p in objects) if self.allocates else 0

    @property
    def requested_bytes(self) -> int:
        """Bytes one execution asks for: the object and the extra ones (a channel's buffer,
        a map's groups), whether or not it allocates."""
        objects = (self.prediction, *self.extra) if self.prediction is not None else self.extra
        return sum(p.requested_bytes for p in objects)


@dataclass(frozen=True, slots=True)
class SkippedPackage:
    """A target package that could not be analysed, with the compiler's message."""

    package: str
    reason: str


@dataclass(frozen=True, slots=True)
class BuildSettings:
    """How the targets were built, beyond the toolchain (toolchain/buildflags.py).

    tags: the build tags in effect (`--tags`, else GOFLAGS' `-tags`); gcflags: the
    user's compiler flags applied to the targets with escape-lens's own; goflags: the
    GOFLAGS the go command was given; ignored: GOFLAGS entries left out because they
    change only the text the compiler prints (`-cover`, `-trimpath`).
    """

    tags: tuple[str, ...] = ()
    gcflags: tuple[str, ...] = ()
    goflags: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.tags or self.gcflags or self.goflags or self.ignored)

    def describe(self) -> tuple[str, ...]:
        """The settings as report headers show them (`tags=a,b`, `gcflags=-l`, ...)."""
        parts = []
        if self.tags:
            parts.append(f"tags={','.join(self.tags)}")
        if self.gcflags:
            parts.append(f"gcflags={' '.join(self.gcflags)}")
        if self.goflags:
            parts.append(f"GOFLAGS={' '.join(self.goflags)}")
        if self.ignored:
            parts.append(f"not applied: {' '.join(self.ignored)}")
        return tuple(parts)


@dataclass(frozen=True, slots=True)
class Report:
    """Everything one run found. `root` is the directory positions are relative to."""

    tool_version: str
    toolchain: GoToolchain
    packages: tuple[str, ...]
    sites: tuple[Site, ...]
    skipped: tuple[SkippedPackage, ...] = ()
    root: str = ""
    origin: Origin = "source"
    build: BuildSettings = BuildSettings()
    profile: ProfileSummary | None = None


@dataclass(frozen=True, slots=True)
class FunctionSpan:
    """A compiled function (`-S` TEXT symbol or pclntab entry) and the lines it covers.

    name is the compiler's full symbol (`example.com/m/pkg.(*T).Method`,
    `main.main.func1`, `main.Stack[go.shape.int].Push`).
    """

    name: str
    package: str
    file: str
    first_line: int
    last_line: int


@dataclass(frozen=True, slots=True)
class ListedPackage:
    """What `go list -e -json` says about one target package (toolchain/build.py).

    error: go's message when the package could not be loaded or compiled, or which of
    its dependencies failed; name: the package clause (`main` for commands);
    build_ids: the build IDs of the compiles whose output is this package's result
    (toolchain/build.py), the key of the result cache.
    """

    import_path: str
    dir: str
    name: str = ""
    error: str | None = None
    module_dir: str = ""
    standard: bool = False
    has_tests: bool = False  # internal tests: _test.go files in the package itself
    has_xtests: bool = False  # external tests: package pkg_test
    build_ids: tuple[str, ...] = ()

    @property
    def symbol_prefix(self) -> str:
        """How the package's symbols are spelled: `main.f` for commands, else `path.f`,
        the path escaped as the linker's symbols escape it (`example.com/m/v1%2e0.f`)."""
        return "main" if self.name == "main" else symbol_path(self.import_path)


@dataclass(frozen=True, slots=True)
class PackageOutput:
    """What the compiler said about one target package.

    error: the compiler's message when the package did not compile (then the other
    fields are empty and the package becomes a `SkippedPackage`).
    dir: the package directory, absolute; positions in the records are relative to
    `CompileOutput.root` when inside it.
    """

    import_path: str
    dir: str
    diagnostics: tuple[EscapeDiagnostic, ...] = ()
    calls: tuple[AllocCall, ...] = ()
    functions: tuple[FunctionSpan, ...] = ()
    types: tuple[TypeInfo, ...] = ()
    error: str | None = None


@dataclass(frozen=True, slots=True)
class CompileOutput:
    """One compile of the targets: the toolchain, and per target package its output.

    only_files: when the targets were files standing for their packages
    (toolchain/filetargets.py), those files as positions name them: the report keeps
    only their sites.
    """

    toolchain: GoToolchain
    root: str
    packages: tuple[PackageOutput, ...]
    command: tuple[str, ...] = ()
    build: BuildSettings = BuildSettings()
    only_files: tuple[str, ...] = ()


# --- Heap profiles (escape_lens/profile, docs/profiles.md) ---------------------------------


@dataclass(frozen=True, slots=True)
class ObservedSize:
    """Objects the runtime recorded at one object size (`bytes` as it recorded them: 16
    for a tiny block, the size class for a small object, the span for a large one)."""

    bytes: int
    objects: int


@dataclass(frozen=True, slots=True)
class Observed:
    """What a heap profile recorded for one site, in the profile's own values.

    per_op_*: divided by the benchmark's operations (`analyze --bench`), else None.
    disagreement: why the recorded sizes contradict the site's concrete prediction
        (empty when they agree).
    shared: how many sites the samples were split between evenly, because nothing the
        profile holds tells them apart (1: the samples are this site's alone).
    """

    objects: int
    bytes: int
    sizes: tuple[ObservedSize, ...]
    per_op_objects: float | None = None
    per_op_bytes: float | None = None
    disagreement: str = ""
    shared: int = 1


@dataclass(frozen=True, slots=True)
class UnattributedPosition:
    """Samples whose allocating frame is at a position with no site, and why."""

    function: str
    file: str
    line: int
    objects: int
    bytes: int
    reason: str


@dataclass(frozen=True, slots=True)
class ProfileSummary:
    """The heap profiles joined to a report: totals, and what matched no site.

    files: the profiles given (empty with `--bench`, whose profile is a temporary file);
    rate: the profiles' sampling period (MemProfileRate), 0 when they differ.
    """

    files: tuple[str, ...]
    sample: ProfileSample
    objects: int
    bytes: int
    attributed_objects: int
    attributed_bytes: int
    unattributed: tuple[UnattributedPosition, ...]
    rate: int
    operations: int | None = None
    benchmarks: tuple[tuple[str, int], ...] = ()  # --bench: (name, N) per result line


@dataclass(frozen=True, slots=True)
class JoinedPackage:
    """One target package in the form a report needs it (analyze.py), as the result cache
    keeps it: its sites joined, predicted, fingerprinted and in report order, and the
    types its listing sized (other packages' calls may need them).

    error: the compiler's message when the package did not compile (the rest is empty).
    """

    import_path: str
    sites: tuple[Site, ...] = ()
    types: tuple[TypeInfo, ...] = ()
    error: str | None = None
