"""`.go.buildinfo`: the Go version and module information `go version -m` prints.

The blob (src/debug/buildinfo/buildinfo.go) is a 32-byte header, `"\\xff Go buildinf:"`,
pointer size (u8), flags (u8), then either
- flags & 2 (Go 1.18+): the version and the module text inline, each a uvarint length
  followed by the bytes; or
- otherwise (before 1.18): two pointers to Go string headers (data pointer, length),
  pointer-sized with the endianness of flags & 1.
The module text, when present, is framed by 16-byte sentinels and has lines
`path\\t<main package>`, `mod\\t<module>\\t<version>\\t<sum>`, `dep\\t...`,
`build\\t<key>=<value>` (runtime/debug.ParseBuildInfo).

Invariants: pure parsing of bytes handed in (`parse_buildinfo`), separate from finding
them in the ELF (`read_buildinfo`); a blob that is not one is a `BinaryFormatError`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from escape_lens.binary.elf import GoELF
from escape_lens.errors import BinaryFormatError
from escape_lens.pcvalue import read_uvarint
from escape_lens.records import GoVersion

MAGIC = b"\xff Go buildinf:"
_HEADER = 32
_FLAG_INLINE = 0x2
_FLAG_BIG_ENDIAN = 0x1


@dataclass(frozen=True, slots=True)
class BuildInfo:
    go_version: str
    path: str = ""  # the main package's import path (`command-line-arguments` for files)
    module: str = ""  # the main module's path ("" when built outside a module)
    settings: tuple[tuple[str, str], ...] = field(default=())

    def setting(self, key: str) -> str | None:
        for name, value in self.settings:
            if name == key:
                return value
        return None

    @property
    def version(self) -> GoVersion:
        return GoVersion.parse(self.go_version.split()[0].split("-")[0])

    @property
    def goexperiment(self) -> tuple[str, ...]:
        value = self.setting("GOEXPERIMENT") or ""
        return tuple(e for e in value.split(",") if e)

    @property
    def goarch(self) -> str:
        return self.setting("GOARCH") or ""


def _uvarint(data: bytes, pos: int) -> tuple[int, int]:
    found = read_uvarint(data, pos)
    if found is None:
        raise ValueError("truncated varint")
    return found


def parse_modinfo(version: str, modinfo: str) -> BuildInfo:
    """Split the module text into path, module and build settings."""
    modinfo = modinfo[16:-16] if len(modinfo) >= 33 and modinfo[-17] == "\n" else ""
    path = module = ""
    settings: list[tuple[str, str]] = []
    for line in modinfo.splitlines():
        kind, _, rest = line.partition("\t")
        if kind == "path":
            path = rest
        elif kind == "mod":
            module = rest.split("\t")[0]
        elif kind == "build":
            key, _, value = rest.partition("=")
            settings.append((key, value.strip('"')))
    return BuildInfo(version, path, module, tuple(settings))


def parse_buildinfo(blob: bytes, read_at: Callable[[int, int], bytes]) -> BuildInfo:
    """Decode a blob that starts with the magic; `read_at(addr, size)` follows pointers."""
    if not blob.startswith(MAGIC) or len(blob) < _HEADER:
        raise ValueError("no build info header")
    ptr_size, flags = blob[14], blob[15]
    if flags & _FLAG_INLINE:
        length, pos = _uvarint(blob, _HEADER)
        version = blob[pos : pos + length]
        if len(version) != length:
            raise ValueError("truncated version string")
        length, pos = _uvarint(blob, pos + length)
        modinfo = blob[pos : pos + length]
        if len(modinfo) != length:
            raise ValueError("truncated module string")
    else:
        if ptr_size not in (4, 8):
            raise ValueError(f"pointer size {ptr_size}")
        order: Literal["big", "little"] = "big" if flags & _FLAG_BIG_ENDIAN else "little"

        def go_string(at: int) -> bytes:
            header = read_at(int.from_bytes(blob[at : at + ptr_size], order), 2 * ptr_size)
            data = int.from_bytes(header[:ptr_size], order)
            size = int.from_bytes(header[ptr_size:], order)
            return read_at(data, size) if size else b""

        version = go_string(16)
        modinfo = go_string(16 + ptr_size)
    if not version:
        raise ValueError("empty Go version")
    return parse_modinfo(version.decode("utf-8", "replace"), modinfo.decode("utf-8", "replace"))


def read_buildinfo(elf: GoELF) -> BuildInfo:
    section = elf.section(".go.buildinfo")
    where = elf.section_bytes(section).tobytes() if section is not None else b""
    if section is None:
        data_section = elf.section(".data")
        if data_section is not None and data_section.loaded:
            where = elf.section_bytes(data_section).tobytes()
    start = where.find(MAGIC)
    # The blob is 16-byte aligned within its section.
    while start >= 0 and start % 16:
        start = where.find(MAGIC, start + 1)
    if start < 0:
        raise BinaryFormatError(f"{elf.path}: not a Go program (no Go build information)")
    try:
        return parse_buildinfo(where[start:], elf.read)
    except (ValueError, BinaryFormatError) as exc:
        raise BinaryFormatError(f"{elf.path}: unreadable Go build information ({exc})") from exc
