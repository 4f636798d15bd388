"""Stack buffers: calls that allocate only when their result does not fit the caller's.

When the result of a conversion or concatenation does not escape, cmd/compile passes
the runtime a buffer in the caller's frame (walk/convert.go, walk/expr.go
`stackBufAddr`), and the runtime allocates only when the result is longer
(runtime/string.go `rawstringtmp`, `stringtoslicebyte`, ...). From Go 1.25 a
non-escaping `make([]T, n)` of variable size uses a 32-byte frame buffer the same way
(walk/builtin.go, `-d=variablemakethreshold`, default 32).

The buffer per runtime entry and Go version is the table in docs/allocator.md §11
("Stack buffers").

Invariants:
- The listing decides where it can: the buffer is the call's first argument, a frame
  address (`LEAQ pkg..autotmp_3+40(SP), AX`) or nil (`XORL AX, AX`); only when the
  shown instructions do not set it, the diagnostic decides (the compiler passes a
  buffer exactly when the result "does not escape").
- A result provably within the buffer (a constant length, `string(rune)`) is no
  allocation at all; any other buffered site allocates only above the buffer.
- `tests/integration/test_exact_runtime.py` measures every entry here below, at and
  above the buffer on go1.21, go1.24 and go1.27.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from escape_lens.records import AllocCall, GoVersion

BUFFER_BYTES = 32  # cmd/compile/internal/walk tmpstringbufsize
VARIABLE_MAKE_SINCE = GoVersion(1, 25)

_BUFFERED = re.compile(
    r"^(?:slicebytetostring|stringtoslicebyte|stringtoslicerune|slicerunetostring"
    r"|intstring|concat(?:string|byte)(?:[2-5]|s))$"
)
# The first integer argument register: amd64 AX, arm64 R0; as the `-S` listing spells
# the instruction, or capstone in binary mode (`0x4a10c3: lea rax, [rsp + 0x28]`).
_FRAME_ADDRESS = re.compile(
    r"^(?:LEAQ\t\S*\((?:SP)\), AX|MOVD\t\$\S*\((?:R?SP)\), R0"
    r"|(?:0x[0-9a-f]+: )?(?:lea rax, \[rsp\b[^\]]*\]|add x0, sp, #\S+))$"
)
_NIL = re.compile(r"^(?:XORL\tAX, AX|MOVD\tZR, R0|(?:0x[0-9a-f]+: )?(?:xor eax, eax|mov x0, xzr))$")


@dataclass(frozen=True, slots=True)
class StackBuffer:
    """The caller's buffer a call was given.

    limit: the longest result it holds, in `unit`s; fits: True when the listing proves
    every result fits (then the call never allocates).
    """

    limit: int
    unit: str  # "B" or "runes"
    fits: bool

    @property
    def limit_bytes(self) -> int:
        return self.limit * 4 if self.unit == "runes" else self.limit

    def describe(self) -> str:
        if self.fits:
            return (
                f"no allocation: the result fits the caller's {self.limit}-{self._unit_word} "
                "stack buffer"
            )
        return (
            f"heap only above {self.limit} {self.unit}: a shorter result goes to the "
            "caller's stack buffer"
        )

    @property
    def _unit_word(self) -> str:
        return "byte" if self.unit == "B" else "rune"


def _listing_says(call: AllocCall) -> bool | None:
    """Whether the shown instructions pass a frame buffer (None: they do not set it)."""
    for line in reversed(call.asm[:-1]):
        if _FRAME_ADDRESS.match(line):
            return True
        if _NIL.match(line):
            return False
    return None


def stack_buffer(
    call: AllocCall,
    escapes: bool | None,
    version: GoVersion,
    *,
    elem_size: int | None = None,
    literal_bytes: int | None = None,
) -> StackBuffer | None:
    """The stack buffer `call` was given, or None when it allocates whatever its size.

    escapes: what the paired diagnostic says (None: no diagnostic); elem_size: a
    makeslice's element size; literal_bytes: the constant operands' bytes of a
    concatenation, when known.
    """
    entry = call.entry
    if entry in ("makeslice", "makeslice64"):
        return _variable_make(call, escapes, version, elem_size)
    if not _BUFFERED.match(entry):
        return None
    passed = _listing_says(call)
    if passed is None:
        if escapes is not False:
            return None
        passed = not (entry.startswith("concatstring") and (literal_bytes or 0) >= BUFFER_BYTES)
    if not passed:
        return None
    if entry == "intstring":
        return StackBuffer(4, "B", fits=True)
    if entry == "stringtoslicerune":
        return StackBuffer(BUFFER_BYTES, "runes", fits=False)
    limit = BUFFER_BYTES - 3 if entry == "slicerunetostring" else BUFFER_BYTES
    fits = call.const_count is not None and call.const_count <= limit
    if entry == "slicerunetostring":
        fits = False  # the count is of runes, the limit of their bytes
    return StackBuffer(limit, "B", fits=fits)


def _variable_make(
    call: AllocCall, escapes: bool | None, version: GoVersion, elem_size: int | None
) -> StackBuffer | None:
    if escapes is not False or version < VARIABLE_MAKE_SINCE or call.const_count is not None:
        return None
    if not elem_size or elem_size > BUFFER_BYTES:
        return None
    return StackBuffer(BUFFER_BYTES, "B", fits=False)
