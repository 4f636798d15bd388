"""One spelling for every file name the compiler prints.

`-m` lines name files relative to the directory the compiler ran in, `-S` lines
absolutely; records compare positions with `==`, so both come out the same: relative to
the report root when the file is inside it, else absolute. Why that needs more than a
join (cache replays written from another directory, standard-library files of another
GOROOT): docs/parsers.md#file-names.

Invariants:
- Each package block (`enter_package`) learns where its relative names were written
  from, from the first relative name of one of the package's own files; a name seen
  before that resolves from the current directory (a fresh build's rule).
- A block that names one of the package's own files under another directory with the
  same trailing path learns that move (`/old/go` -> `/new/go`) and applies it to every
  absolute name after it in the block; both only from a directory that can be the
  package's (ending with its path below the root). A deleted GOROOT's file is this one's.
- What a block's names resolve to depends only on the block, the directories given here
  and the file system's answers to the questions asked while reading it, which are
  recorded (`probes`, one list per block); the result cache (toolchain/resultcache.py)
  asks them again before it reuses a package's result.
- Answers are memoised; every memo is emptied when a move is learnt or a block starts
  (`epoch` counts them), and the memos of file names and of listing positions only hold
  what asking again would answer (a relative name waits until its origin is known), so
  between two epochs a memoised name (`stable_file`) maps to the same file: the
  assembly parser's hot loop relies on that.
"""

from __future__ import annotations

import filecmp
import os
import posixpath
import re

from escape_lens.records import SourcePos

# `file.go:12:5` or `file.go:12` (assembly has no column). The file part may contain
# spaces and colons on odd systems, so anchor on the trailing numbers. `split_position`
# is this without a regular expression (thousands of positions per package).
POS_RE = re.compile(r"^(?P<file>.+?):(?P<line>\d+)(?::(?P<col>\d+))?$")


class Positions:
    """Maps compiler file names to report file names (see the module docstring)."""

    def __init__(self, cwd: str, root: str, goroot: str = "") -> None:
        self.cwd = os.path.abspath(cwd)
        self.root = os.path.abspath(root) if root else ""
        self.goroot = os.path.abspath(goroot) if goroot else ""
        self._files: dict[str, str] = {}
        # Per package block: relative names, and the origin they are relative to
        # (None: not known yet; "": this build's directory; else the `rd` above).
        self._package_dir = ""
        self._package_files: frozenset[str] = frozenset()
        self._moves: list[tuple[str, str]] = []
        self._origin: str | None = None
        self._relative: dict[str, str] = {}
        # Flow steps repeat the same positions many times; one object each keeps a large
        # package's diagnostics small.
        self._positions: dict[str, SourcePos | None] = {}
        # `listing_line`'s memo: the positions of a listing, asked for at every change of
        # position among hundreds of thousands of instructions, so the hot loop reads it
        # itself (`.get(where, UNKNOWN_LINE)`); it is cleared in place.
        self.listing_memo: dict[str, tuple[str, int] | None] = {}
        # Counts the times the memos were emptied: between two, `stable_file` holds.
        self.epoch = 0
        # Counts the names resolved as relative ones (their origin is learnt in the block).
        self.relative_names = 0
        self.probes: list[Probe] = []
        self._answers: dict[tuple[str, tuple[str, ...]], Answer] = {}

    def enter_package(self, directory: str) -> None:
        """The following lines are one package's block; `directory` holds its files."""
        self._package_dir = os.path.abspath(directory) if directory else ""
        self.probes = []
        self._package_files = frozenset()
        if self._package_dir:
            files = self._ask("go-files", self._package_dir)
            self._package_files = frozenset(files) if isinstance(files, tuple) else frozenset()
        self._origin = None
        self._relative.clear()
        self._files.clear()
        self._positions.clear()
        self.listing_memo.clear()
        self.epoch += 1
        self._moves = []

    def _ask(self, question: str, *paths: str) -> Answer:
        # Asked once per run: every block of a build names the same standard-library
        # files, and the file system does not change while the build is read. Each
        # block still records the probe, for the result cache to ask again.
        answer = self._answers.get((question, paths))
        if answer is None:
            answer = self._answers[(question, paths)] = ask(question, *paths)
        self.probes.append((question, paths, answer))
        return answer

    def file(self, name: str) -> str:
        cached = self._files.get(name)
        if cached is not None:
            return cached
        if name.startswith(("<", "_cgo_")):
            # `<autogenerated>`, `<unknown line number>`, and cgo's glue (`_cgo_gotypes.go`,
            # written in go's work directory): no file of the user's, named as binary mode
            # names them, whatever directory go ran in.
            self._files[name] = name
            return name
        if not os.path.isabs(name):
            return self._relative_file(name)
        absolute = os.path.normpath(name)
        if self._learn_move(absolute):
            self._files.clear()
            self._positions.clear()
            self.listing_memo.clear()
            self.epoch += 1
        moved = self._moved(absolute)
        result = self._reported(self._in_this_goroot(moved) if moved == absolute else moved)
        self._files[name] = result
        return result

    def _in_this_goroot(self, absolute: str) -> str:
        """A standard-library file of another, deleted installation (export data of a
        dependency compiled there names it, for code inlined from it) as this
        toolchain's: `/gone/go/src/net/http/x.go` -> `GOROOT/src/net/http/x.go`."""
        goroot = self.goroot
        if not goroot or absolute.startswith(goroot + os.sep):
            return absolute
        marker = os.sep + "src" + os.sep
        at = absolute.rfind(marker)
        while at > 0:
            candidate = os.path.join(goroot, "src", absolute[at + len(marker) :])
            if self._ask("stale-copy-of", absolute, candidate):
                return candidate
            at = absolute.rfind(marker, 0, at)
        return absolute

    def _moved(self, absolute: str) -> str:
        for old, new in self._moves:
            # (A new directory below the old one, `/t` -> `/t/check`: its names are new.)
            if absolute.startswith(old + os.sep) and not absolute.startswith(new + os.sep):
                return new + absolute[len(old) :]
        return absolute

    def _learn_move(self, absolute: str) -> bool:
        """Learn a stale prefix from one of the package's own files named elsewhere."""
        here, base = os.path.split(absolute)
        package_dir = self._package_dir
        if not package_dir or here == package_dir or base not in self._package_files:
            return False
        if self._moved(absolute) != absolute:
            return False
        if not self._names_package_dir(here):
            return False  # another package's file that happens to share a name
        own = os.path.join(package_dir, base)
        if not self._ask("same-file-or-missing", absolute, own):
            return False  # another package's file that happens to share a name
        old, new = here.split(os.sep), package_dir.split(os.sep)
        # Each side keeps one named directory: `/work/main/go` -> `/check/work/main/go`
        # is `/work` -> `/check/work`, never `` -> `/check`, which would move every
        # absolute name, the new installation's own included, under `/check`.
        common = 0
        while common < min(len(old), len(new)) - 2 and old[-1 - common] == new[-1 - common]:
            common += 1
        if common == 0:
            return False
        self._moves.append(
            (os.sep.join(old[: len(old) - common]), os.sep.join(new[: len(new) - common]))
        )
        return True

    def _relative_file(self, name: str) -> str:
        self.relative_names += 1
        cached = self._relative.get(name)
        if cached is not None:
            return cached
        if self._origin is None:
            self._origin = self._learn_origin(name)
        if self._origin:
            absolute = _rebase(self._package_dir, name, self._origin)
        else:
            absolute = os.path.normpath(os.path.join(self.cwd, name))
            if self._origin is None:  # (maybe written elsewhere, of another installation)
                absolute = self._in_this_goroot(absolute)
        result = self._reported(absolute)
        if self._origin is not None:  # else it may resolve differently once it is known
            self._relative[name] = result
        return result

    def _learn_origin(self, name: str) -> str | None:
        """ "" (this directory), `rd` (see the module docstring) or None (not yet known)."""
        directory = self._package_dir
        if not directory:
            return ""
        here = os.path.dirname(os.path.normpath(os.path.join(self.cwd, name)))
        if here == directory or self._ask("same-directory", here, directory):
            return ""
        written_in = os.path.normpath(os.path.dirname(name) or ".")
        if not self._names_package_dir(written_in):
            return None  # another package's file that happens to share a name
        if self._ask("is-file", os.path.join(directory, os.path.basename(name))):
            return os.path.dirname(name) or "."
        return None

    def _names_package_dir(self, directory: str) -> bool:
        """Whether `directory`, where a file of the package's name was seen, can be the
        package's directory seen from elsewhere: `.`, or ending with the package's path
        below the root (`crypto/ecdh`, not `crypto/internal/fips140/ecdh`)."""
        below = os.path.relpath(self._package_dir, self.root) if self.root else "."
        if below == "." or below.startswith("..") or directory == ".":
            return True
        return directory == below or directory.endswith(os.sep + below)

    def _reported(self, absolute: str) -> str:
        if not self.root:
            return absolute
        if os.path.commonpath([absolute, self.root]) == self.root:
            return os.path.relpath(absolute, self.root)
        if self.goroot and absolute.startswith(self.goroot + os.sep):
            return absolute  # this toolchain's files as go env names them: not below
        # A file of the root reached by another name: go names a GOROOT reached through
        # a symbolic link (a `.venv` linked to the one go lives in) the way it was given.
        inside = self._ask("below-by-another-name", absolute, self.root)
        return inside[0] if isinstance(inside, tuple) and inside else absolute

    def pos(self, text: str) -> SourcePos | None:
        """`./main.go:14:9` -> SourcePos('main.go', 14, 9); None when it is not a position."""
        pos = self._positions.get(text, _UNKNOWN_POS)
        if pos is _UNKNOWN_POS:
            parts = split_position(text.strip())
            pos = None if parts is None else SourcePos(self.file(parts[0]), parts[1], parts[2])
            self._positions[text] = pos
        return pos

    def go_pos(self, text: str) -> SourcePos:
        """`pos` for a text of a line (no newline) that ends with `.go:LINE:COLUMN`, as
        `split_pos_line` and `from_step` (parsers/escape.py) give -m positions: the same,
        without the general split, since the file is all before the last two colons (but
        leading spaces), and it is never None."""
        pos = self._positions.get(text)
        if pos is None:
            rest, _, col = text.rpartition(":")
            name, _, line = rest.rpartition(":")
            pos = SourcePos(self.file(name.lstrip()), int(line), int(col))
            self._positions[text] = pos
        return pos

    def stable_file(self, name: str) -> str | None:
        """What `file(name)` says, if it says the same until `epoch` changes (the name is
        in its memo); else None."""
        return self._files.get(name)

    def listing_line(self, where: str) -> tuple[str, int] | None:
        """`/abs/main.go:14`, an instruction's position in `-S`, -> ('main.go', 14): a
        SourcePos's file and line; None when the part after the last colon is not a line
        number.

        Memoised only once `file` answers the name from its own memo (an absolute name,
        or a relative one whose origin is known), so the file system is asked exactly
        what it would be asked without the memo; a learnt move clears it, like the others.
        """
        cached = self.listing_memo.get(where, UNKNOWN_LINE)
        if cached is not UNKNOWN_LINE:
            return cached
        # A `//line` directive (cgo's generated files) adds where the line really is in
        # the compiled file: `/abs/cgo.go:11[cgo.cgo1.go:14]`; the user's line comes first.
        name, _, number = (where.rpartition("[")[0] if where.endswith("]") else where).rpartition(
            ":"
        )
        if not number.isdigit():
            found = None
        else:
            file = self._files.get(name)  # (`file`'s own memo: the common case)
            found = (self.file(name) if file is None else file, int(number))
            if name not in self._files and name not in self._relative:
                return found
        self.listing_memo[where] = found
        return found


UNKNOWN_LINE = ("", -1)  # not in `Positions.listing_memo`
_UNKNOWN_POS = SourcePos("", -1)  # not in `Positions._positions`

# A question to the file system, the paths it is about, and the answer it got.
Answer = bool | tuple[str, ...]
Probe = tuple[str, tuple[str, ...], Answer]


def ask(question: str, *paths: str) -> Answer:
    """The file system's answer to one of the questions Positions asks."""
    if question == "go-files":
        try:
            return tuple(sorted(n for n in os.listdir(paths[0]) if n.endswith((".go", ".s"))))
        except OSError:
            return ()
    if question == "same-file-or-missing":
        try:
            return not os.path.exists(paths[0]) or filecmp.cmp(paths[0], paths[1], shallow=False)
        except OSError:
            return False
    if question == "same-directory":
        return os.path.realpath(paths[0]) == os.path.realpath(paths[1])
    if question == "is-file":
        return os.path.isfile(paths[0])
    if question == "below-by-another-name":  # (the path below the root, or nothing)
        real, root = os.path.realpath(paths[0]), os.path.realpath(paths[1])
        if os.path.commonpath([real, root]) == root:
            return (os.path.relpath(real, root),)
        return ()
    if question == "stale-copy-of":
        return not os.path.exists(paths[0]) and os.path.isfile(paths[1])
    raise ValueError(question)


def split_position(text: str) -> tuple[str, int, int] | None:
    """(file, line, column or 0) of `file:line:column` or `file:line`: POS_RE's groups.

    Its lazy file part ends at the first colon that only numbers follow: the one
    before the last but one number if it is one, else before the last.
    """
    rest, _, last = text.rpartition(":")
    if not (rest and last.isdecimal()) or "\n" in rest:
        return None  # (`.` is not a newline)
    file, _, middle = rest.rpartition(":")
    if file and middle.isdecimal():
        return file, int(middle), int(last)
    return rest, int(last), 0


def answers_hold(probes: list[Probe]) -> bool:
    """Whether the file system still answers every recorded question the same way."""
    return all(ask(question, *paths) == answer for question, paths, answer in probes)


def _rebase(package_dir: str, name: str, origin: str) -> str:
    """`name`, written relative to a directory from which the package dir was `origin`."""
    # relpath needs absolute paths; a fake root deep enough for every `..` keeps the
    # computation lexical (the real directory of that old build is unknown).
    depth = name.count("..") + origin.count("..") + 1
    fake = "/" + "/".join(f"_{index}" for index in range(depth))
    inside = posixpath.relpath(posixpath.join(fake, name), posixpath.join(fake, origin))
    return os.path.normpath(os.path.join(package_dir, inside))
