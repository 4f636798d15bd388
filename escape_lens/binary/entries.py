"""Binary mode's view of the allocation entry points (`escape_lens.entries`): the
argument positions there, mapped onto capstone's names for the ABI's integer argument
registers (argument i is in the i-th register)."""

from __future__ import annotations

from escape_lens.entries import EntrySpec, alloc_entry

ABI_REGISTERS: dict[str, tuple[str, ...]] = {
    "amd64": ("rax", "rbx", "rcx", "rdi", "rsi", "r8", "r9", "r10", "r11"),
    "arm64": tuple(f"x{i}" for i in range(16)),
}

entry_spec = alloc_entry

__all__ = ["ABI_REGISTERS", "EntrySpec", "entry_spec"]
