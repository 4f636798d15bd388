"""Running escape-lens as a real process against hostile and careless inputs.

A `Sandbox` is one test's world: a copy of fixtures/checkmod, a private TMPDIR (so
every temporary file escape-lens or go makes is visible, and must be gone at the end),
and a unique marker in the environment that every process escape-lens starts inherits
(so processes left running are found by scanning /proc, whoever their parent is now).
`Outcome.assert_error` asserts the whole contract of a failure: the exit code, exactly
one line on stderr that says what went wrong, no traceback.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
import traceback
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import FIXTURES

CHECKMOD = FIXTURES / "checkmod"
MARKER_VAR = "ESCAPE_LENS_TEST_MARKER"


@dataclass
class Outcome:
    returncode: int
    stdout: bytes
    stderr: str

    def assert_error(self, code: int, *fragments: str) -> str:
        """The failure contract: `code`, one line on stderr holding every fragment."""
        assert "Traceback" not in self.stderr, self.stderr
        lines = self.stderr.splitlines()
        assert len(lines) == 1, self.stderr
        assert lines[0].startswith("escape-lens: "), lines[0]
        for fragment in fragments:
            assert fragment in lines[0], lines[0]
        assert self.returncode == code, (self.returncode, self.stderr)
        return lines[0]

    def assert_compile_error(self, code: int, messages: dict[str, str], *fragments: str) -> str:
        """`assert_error` for a build that failed: above the one line, what the compiler
        said of each failed package (`escape-lens: PKG:`, its messages indented), each
        package of `messages` with the message given."""
        assert "Traceback" not in self.stderr, self.stderr
        *above, last = self.stderr.splitlines()
        Outcome(self.returncode, self.stdout, last + "\n").assert_error(code, *fragments)
        for package, message in messages.items():
            start = above.index(f"escape-lens: {package}:")
            assert any(message in line for line in above[start + 1 :]), self.stderr
        assert all(line.startswith(("escape-lens: ", "  ")) for line in above), self.stderr
        return last


@dataclass
class Sandbox:
    root: Path
    go: Path
    marker: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def module(self) -> Path:
        return self.root / "checkmod"

    @property
    def tmpdir(self) -> Path:
        return self.root / "tmp"

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("ESCAPE_LENS_", "PYTHONIOENCODING", "GOFLAGS"))
        }
        env.update(
            TMPDIR=str(self.tmpdir),
            ESCAPE_LENS_GO=str(self.go),
            PYTHONUTF8="0",
            **{MARKER_VAR: self.marker},
        )
        env.update(extra or {})
        return env

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "escape_lens", *args]

    def run(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        timeout: float = 600,
        **popen: object,
    ) -> Outcome:
        popen.setdefault("stdout", subprocess.PIPE)
        result = subprocess.run(
            self.argv(*args),
            cwd=cwd or self.module,
            env=self.env(env),
            stderr=subprocess.PIPE,
            timeout=timeout,
            check=False,
            **popen,  # type: ignore[arg-type]
        )
        stdout = result.stdout or b""
        stderr = result.stderr.decode("utf-8", "replace") if result.stderr else ""
        return Outcome(result.returncode, stdout, stderr)

    def run_redirected(
        self, redirections: str, *args: str, **popen: object
    ) -> subprocess.CompletedProcess[bytes]:
        """escape-lens started by a shell with `redirections` (`>&-`, `<&- 2>&-`): the
        standard streams as a careless caller leaves them."""
        return subprocess.run(  # type: ignore[call-overload, no-any-return]
            ["/bin/sh", "-c", f'exec "$@" {redirections}', "sh", *self.argv(*args)],
            cwd=self.module,
            env=self.env(),
            capture_output=False,
            timeout=600,
            check=False,
            **popen,
        )

    def start(self, *args: str, env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
        """escape-lens in a session of its own, as a shell would start a foreground job:
        with the stop signals at their defaults, whatever this process inherited (a test
        run started in the background by a non-interactive shell ignores SIGINT, and
        escape-lens keeps a signal ignored at its start ignored, as nohup asks)."""
        return subprocess.Popen(
            self.argv(*args),
            cwd=self.module,
            env=self.env(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            preexec_fn=_default_stop_signals,
        )

    def survivors(self) -> list[str]:
        """Command lines of the running processes that carry this sandbox's marker."""
        return processes_with(f"{MARKER_VAR}={self.marker}")

    def leftovers(self) -> list[str]:
        return sorted(p.name for p in self.tmpdir.iterdir())

    def assert_clean(self) -> None:
        """Nothing running, nothing left in TMPDIR."""
        until = time.monotonic() + 5  # a killed process's last moments
        while self.survivors() and time.monotonic() < until:
            time.sleep(0.05)
        assert self.survivors() == []
        assert self.leftovers() == []


def make_sandbox(tmp_path: Path, go: Path) -> Sandbox:
    sandbox = Sandbox(tmp_path, go)
    shutil.copytree(CHECKMOD, sandbox.module)
    sandbox.tmpdir.mkdir()
    return sandbox


def json_report(sandbox: Sandbox) -> Path:
    """`analyze ./codec --format json` of the sandbox, in a file beside the module."""
    outcome = sandbox.run("analyze", "./codec", "--format", "json")
    assert outcome.returncode == 0, outcome.stderr
    path = sandbox.root / "report.json"
    path.write_bytes(outcome.stdout)
    return path


def processes_with(needle: str) -> list[str]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            environ = Path("/proc", entry, "environ").read_bytes()
            cmdline = Path("/proc", entry, "cmdline").read_bytes()
        except OSError:
            continue
        if needle.encode() in environ.split(b"\0"):
            command = cmdline.replace(b"\0", b" ").decode(errors="replace")
            found.append(f"{entry}: {command}")
    return found


def wait_for(condition: object, timeout: float, what: str) -> None:
    assert callable(condition)
    until = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > until:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def snapshot(directory: Path) -> dict[str, str]:
    """Every file under `directory` (links as their target) -> a digest of its bytes."""
    digests = {}
    for path in sorted(directory.rglob("*")):
        key = str(path.relative_to(directory))
        if path.is_symlink():
            digests[key] = "-> " + os.readlink(path)
        elif path.is_file():
            digests[key] = hashlib.sha256(path.read_bytes()).hexdigest()
        elif not path.is_dir():
            digests[key] = "special"
    return digests


def _default_stop_signals() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)


def stop_signal_name(signum: int) -> str:
    return signal.Signals(signum).name


NOBODY = 65534


def run_as_nobody(args: Sequence[str], cwd: Path, stderr: Path) -> int:
    """`escape-lens ARGS` in a forked process that has dropped root for the unprivileged
    user nobody (this interpreter lives under /root, which nobody may not enter, so the
    child runs the already imported code); its stderr goes to the file `stderr`. What the
    child may import late is imported here first: the standard library's `locale` (click's
    messages) and the command's own module, which the CLI loads when the command runs."""
    import importlib
    import locale  # noqa: F401

    from escape_lens.cli import main

    with contextlib.suppress(ImportError):
        importlib.import_module(f"escape_lens.cli.{args[0]}")

    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        code = 99
        try:
            with stderr.open("w", encoding="utf-8") as err:
                sys.stderr = err
                os.setgroups([])
                os.setgid(NOBODY)
                os.setuid(NOBODY)
                os.chdir(cwd)
                try:
                    code = main(list(args))
                except BaseException:  # shown, not lost with the child
                    traceback.print_exc(file=err)
                err.flush()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)
