"""The domain's fixed words, each defined once: constructs, escape kinds, allocator paths,
entry families, note codes and finding rules.

Every one is a `StrEnum`, so a member *is* its string: JSON, SARIF and the text report
write the same bytes as before, comparisons with plain strings still hold, and a report
read back (reporters/json_report.py) turns strings into members. The values are part of
the `escape-lens/1` schema and the fingerprints (docs/analyze.md): never rename one;
add members instead. Where each word is produced: constructs by the join
(escape_lens/sites.py), escape kinds by the `-m=2` parser (parsers/escape.py), paths by
the allocator model (escape_lens/model/), note codes wherever a site gets a note, rules
by the gate (escape_lens/check.py). docs/design.md describes the records they live in.
"""

from __future__ import annotations

from enum import StrEnum


class Construct(StrEnum):
    """What the source does that allocates (the `construct` of a site)."""

    NEW = "new"
    COMPOSITE_LITERAL = "composite-literal"
    MAKE_SLICE = "make-slice"
    APPEND = "append"
    MAP = "map"
    CHAN = "chan"
    CLOSURE = "closure"
    # `x.M` used as a value: a closure struct holding the receiver (`struct { F; R }`)
    METHOD_VALUE = "method-value"
    INTERFACE = "interface"
    STRING_CONCAT = "string-concat"
    STRING_CONVERSION = "string-conversion"
    BYTES_CONVERSION = "bytes-conversion"
    RUNES_CONVERSION = "runes-conversion"
    MOVED_TO_HEAP = "moved-to-heap"
    GOROUTINE = "goroutine"
    DEFER = "defer"
    # a direct `mallocgc` whose source construct is unknown
    ALLOC = "alloc"
    # `make(T, n)` of a defined type on a line with no allocation call, which alone
    # would say whether T is a slice, map or channel type
    MAKE = "make"


class EscapeKind(StrEnum):
    """What one escape-analysis statement of the compiler says (`-m=2`, parsers/escape.py)."""

    ESCAPES = "escapes"  # `X escapes to heap`
    MOVED_TO_HEAP = "moved-to-heap"  # `moved to heap: x`
    DOES_NOT_ESCAPE = "does-not-escape"  # `X does not escape`
    LEAKING_PARAM = "leaking-param"  # `leaking param: p`
    LEAKING_PARAM_CONTENT = "leaking-param-content"  # `leaking param content: p`
    LEAKING_PARAM_TO_RESULT = "leaking-param-to-result"  # `leaking param: p to result ~r0`
    LEAKING_CLOSURE_REF = "leaking-closure-ref"  # `leaking closure reference x`
    CAPTURED_BY_REF = "captured-by-ref"  # `F capturing by ref: x (...)`
    CAPTURED_BY_VALUE = "captured-by-value"  # `F capturing by value: x (...)`


class AllocPath(StrEnum):
    """The allocator's path for one request (`Prediction.path`).

    NONE is a request of zero bytes: `runtime.zerobase`, nothing is taken. A size the
    model cannot know is no path at all: the site has no prediction (`path_of` in
    escape_lens/diff.py says None), never NONE.
    """

    TINY = "tiny"
    SMALL = "small"
    LARGE = "large"
    DYNAMIC = "dynamic"  # a length known only at run time
    NONE = "none"


class SitePath(StrEnum):
    """A site's path as every output counts, lists and filters it (`summary.by_path`, the
    text's `by path:`, the HTML page's path column and filter, `--path`): the allocator
    path of its prediction, or for an allocating site without one `pooled` (a goroutine's
    g or a defer record, which the runtime takes from a free list) or `unknown` (the size
    could not be read). `none` is a zero-byte request (`runtime.zerobase`)."""

    TINY = AllocPath.TINY.value
    SMALL = AllocPath.SMALL.value
    LARGE = AllocPath.LARGE.value
    DYNAMIC = AllocPath.DYNAMIC.value
    NONE = AllocPath.NONE.value
    POOLED = "pooled"
    UNKNOWN = "unknown"


class EntryFamily(StrEnum):
    """Which constructs a runtime allocation entry implements (escape_lens/entries.py):
    OBJECT for one object of the call's type or size, else the construct itself."""

    OBJECT = "object"
    MAKE_SLICE = "make-slice"
    APPEND = "append"
    MAP = "map"
    CHAN = "chan"
    INTERFACE = "interface"
    STRING_CONCAT = "string-concat"
    STRING_CONVERSION = "string-conversion"
    BYTES_CONVERSION = "bytes-conversion"
    RUNES_CONVERSION = "runes-conversion"
    GOROUTINE = "goroutine"
    DEFER = "defer"


class NoteCode(StrEnum):
    """Why a site carries a note (`Note.code`); reporters choose by code, never by text."""

    # the model's size class differs from the one a size-specialized entry names
    MODEL_DISAGREES = "model-disagrees"
    SIZE_UNKNOWN = "size-unknown"
    ELEMENT_TYPE_UNKNOWN = "element-type-unknown"
    BOXED_TYPE_UNKNOWN = "boxed-type-unknown"
    MAP_PARTS_UNKNOWN = "map-parts-unknown"
    MAP_HINT_DYNAMIC = "map-hint-dynamic"
    MAP_BUCKETS_LATER = "map-buckets-later"
    CHAN_BUFFER_DYNAMIC = "chan-buffer-dynamic"
    APPEND_GROWTH = "append-growth"
    SLICE_MOVED = "slice-moved"
    MAKE_COPY = "make-copy"
    SMALL_INTEGER = "small-integer"
    STRING_BUFFER = "string-buffer"
    # the caller's stack buffer holds a short result: heap only above it, or never
    STACK_BUFFER = "stack-buffer"
    POOLED_RECORD = "pooled-record"
    STACK_YET_HEAP = "stack-yet-heap"
    INLINED_CALL_UNKNOWN = "inlined-call-unknown"
    STATEMENT_WRAPPER = "statement-wrapper"
    CLOSURE_COPIES = "closure-copies"
    # a heap profile recorded the site's call, never at a size the model predicts
    PROFILE_DISAGREES = "profile-disagrees"
    # the listing could not tell which of a line's expressions a call is
    PAIRING_UNDECIDED = "pairing-undecided"
    # the one allocation of locals batched together (Go 1.25+)
    BATCHED_CARRIER = "batched-carrier"
    # escape lines with no allocation call behind them
    BATCHED = "batched"
    GENERIC_SHAPE = "generic-shape"
    INLINED_ELSEWHERE = "inlined-elsewhere"
    NO_BOXING = "no-boxing"
    STATIC_CLOSURE = "static-closure"
    NO_GROWTH_CALL = "no-growth-call"
    NO_ALLOCATION_CALL = "no-allocation-call"
    # a variable the compiler gives no position (`#next`), shown at its function
    NO_POSITION = "no-position"
    # a note read from a report written before notes had codes
    UNCODED = "uncoded"


class ProfileSample(StrEnum):
    """Which values of a Go heap profile are used (`--profile-sample`, docs/profiles.md)."""

    ALLOC_SPACE = "alloc_space"
    ALLOC_OBJECTS = "alloc_objects"
    INUSE_SPACE = "inuse_space"
    INUSE_OBJECTS = "inuse_objects"


class FindingRule(StrEnum):
    """The stable ids of the gate's findings (escape_lens/check.py `RULES` describes them)."""

    HEAP_ALLOCATION = "EL000"
    NEW_ALLOCATION = "EL001"
    GROWN_ALLOCATION = "EL002"
    BUDGET_EXCEEDED = "EL003"
    FORBIDDEN_PATH = "EL004"
    UNUSED_SUPPRESSION = "EL005"
    SUPPRESSION_WITHOUT_REASON = "EL006"
    IMPROVEMENT = "EL007"
    VANISHED_FUNCTION = "EL008"
    UNMATCHED_PATTERN = "EL009"


class Cause(StrEnum):
    """Why a site's object is on the heap (`cause` of a site, escape_lens/advice/causes.py):
    read from the compiler's flow chain and the construct. docs/analyze.md lists them."""

    RETURNED = "returned"  # flows to a result of a function that is not inlined
    GLOBAL = "global"  # stored in a package-level variable
    STORED_TO_HEAP = "stored-to-heap"  # stored in a field, element or map of a heap object
    SENT_ON_CHANNEL = "sent-on-channel"
    PASSED_TO_CALL = "passed-to-call"  # a callee's parameter leaks (no body to inline)
    CLOSURE_CAPTURE = "closure-capture"  # captured by reference by a closure that escapes
    GOROUTINE = "goroutine"  # a `go` statement's closure or record
    DEFER = "defer"  # a `defer` statement's closure or record, outside open-coded defers
    INTERFACE_BOXING = "interface-boxing"  # a value converted to an interface
    TOO_LARGE_FOR_STACK = "too-large-for-stack"  # above the compiler's stack-object limit
    UNKNOWN_SIZE = "unknown-size"  # a length known only at run time
    SLICE_GROWTH = "slice-growth"  # append beyond the capacity
    MAP = "map"  # a map's header, buckets or groups
    CHANNEL = "channel"  # a channel and its buffer
    STRING_BUILDING = "string-building"  # concatenation and string/[]byte/[]rune copies
    METHOD_VALUE = "method-value"  # `x.M` used as a value: a closure holding x
    KEPT_PAST_SCOPE = "kept-past-scope"  # in a variable that outlives it (a loop's, ...)
    MOVED_TO_HEAP = "moved-to-heap"  # a variable whose address outlives it, chain unsaid
    RUNTIME_INTERNAL = "runtime-internal"  # a runtime call with no source construct
    UNKNOWN = "unknown"  # the chain says nothing a category names


def counted(number: int, noun: str, plural: str = "") -> str:
    """`1 error`, `2 errors`, `0 errors` (`plural` for nouns not made with an s): every
    count the tool writes, progress lines and messages included, is spelled so."""
    return f"{number} {noun if number == 1 else plural or noun + 's'}"
