"""Writing a command's output where the user asked: stdout, or the one file named by -o.

Invariants:
- A file is written whole or not at all: the output goes to a temporary file beside it,
  which replaces the file only once everything is written (a failure, an interrupt or a
  full disk leaves the old file as it was, and no temporary file behind). It streams,
  so a large report (`analyze std --format json`, 80 MB) is never held twice in memory.
- Never over what the run reads or what Go owns: an input of the run (a target file,
  a report given to `diff`, the baseline or configuration `check` read), a Go source
  file (`*.go`) or a module file (`go.mod`, `go.sum`, `go.work`, `go.work.sum`) is
  refused with one line, also when reached through a symbolic link.
- Permissions are the file's own: a file the user may not write (0444) is refused, not
  replaced behind its back; a replaced file keeps its mode.
- A symbolic link is written through: the file it names is replaced, the link stays.
- A path that exists and is not a regular file (`/dev/null`, a FIFO, `/dev/stdout`) is
  written in place (it cannot be replaced, and must not be); a FIFO nobody reads is
  refused at once instead of waiting for a reader.
- An HTML page is no use on a terminal: `--format html` without -o, stdout a terminal,
  writes `escape-lens-report.html` in the current directory, only if no such file
  exists (it is created, never replaced: -o names a file to replace).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator
from typing import TextIO, cast

from escape_lens.errors import UsageError

GO_OWNED = frozenset({"go.mod", "go.sum", "go.work", "go.work.sum"})
HTML_ON_A_TERMINAL = "escape-lens-report.html"


def html_output(output_format: str, output: str | None) -> str | None:
    """The file an HTML report goes to when stdout is a terminal and no -o is given
    (see the module docstring); `output` unchanged otherwise."""
    if output_format != "html" or output is not None or not sys.stdout.isatty():
        return output
    if os.path.lexists(HTML_ON_A_TERMINAL):
        raise UsageError(
            f"--format html on a terminal writes {HTML_ON_A_TERMINAL}, which exists: "
            "pass -o FILE (that file is replaced) or redirect stdout"
        )
    return HTML_ON_A_TERMINAL


def say_html_written(output: str) -> None:
    print(
        f"escape-lens: wrote the HTML report to {os.path.abspath(output)} "
        "(stdout is a terminal; -o FILE names another file)",
        file=sys.stderr,
    )


def check_writable(output: str, inputs: Iterable[str] = ()) -> str:
    """The file that writing `output` replaces (a link resolved); UsageError if refused."""
    target = os.path.realpath(output)
    for name in {output, target}:
        base = os.path.basename(name)
        if base.endswith(".go") or base in GO_OWNED:
            raise UsageError(f"refusing to write over {output}: a Go source or module file")
    for path in inputs:
        if _same_file(target, path):
            raise UsageError(f"refusing to write over {output}: it is an input of this run")
    if os.path.lexists(target) and not os.access(target, os.W_OK):
        raise UsageError(f"cannot write {output}: permission denied")
    return target


def _same_file(target: str, path: str) -> bool:
    if not path:
        return False
    try:
        return os.path.samefile(target, path)
    except OSError:
        return os.path.realpath(path) == target


@contextlib.contextmanager
def output_stream(
    output: str | None, inputs: Iterable[str] = (), *, create: bool = False
) -> Iterator[TextIO]:
    """A text stream for the command's output; the file is in place when the block ends.
    With `create`, a file that exists by then is kept and the write refused."""
    if output is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    target = check_writable(output, inputs)
    try:
        if os.path.lexists(target) and not os.path.isfile(target):
            with _open_special(target) as special:
                yield special
            return
        temporary = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed before the replace)
            "w",
            encoding="utf-8",
            errors="surrogateescape",
            dir=os.path.dirname(target),
            prefix=f".{os.path.basename(target)}.",
            suffix=".tmp",
            delete=False,
        )
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from exc
    try:
        with temporary:
            yield cast(TextIO, temporary)
        os.chmod(temporary.name, _mode_for(target))
        if create:
            _link_new(temporary.name, target, output)
        else:
            os.replace(temporary.name, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary.name)
        if isinstance(exc, OSError):
            raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from exc
        raise


def _link_new(temporary: str, target: str, output: str) -> None:
    """`temporary` in place as `target` only if nothing is there (a link fails on an
    existing name, where a replace would not): created, never replaced."""
    try:
        os.link(temporary, target)
    except FileExistsError as exc:
        raise UsageError(f"refusing to write over {output}: it appeared during the run") from exc
    os.unlink(temporary)


def _open_special(path: str) -> TextIO:
    """A device or FIFO opened for writing; a FIFO without a reader fails (ENXIO) rather
    than blocking, and a directory fails (EISDIR)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            raise UsageError(f"cannot write {path}: a FIFO that nothing reads") from exc
        raise
    if stat.S_ISFIFO(os.fstat(fd).st_mode):
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        fcntl.fcntl(fd, fcntl.F_SETFL, flags & ~os.O_NONBLOCK)
    return open(fd, "w", encoding="utf-8", errors="surrogateescape")


def _mode_for(path: str) -> int:
    """The file's own mode if it exists, else what a plain open() would have given it."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_output(text: str, output: str | None, inputs: Iterable[str] = ()) -> None:
    """Write `text` whole (see the module docstring)."""
    with output_stream(output, inputs) as stream:
        stream.write(text)
