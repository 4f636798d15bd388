"""reporters/beside.py: a forked child's value, the parent's own run when the child has
none, nothing left behind, and the split of the work."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from escape_lens.reporters import beside


def test_the_value_comes_from_the_child() -> None:
    parent = os.getpid()
    with beside.Beside(lambda: (os.getpid(), [1, 2, 3])) as child:
        pid, value = child.result()
    assert value == [1, 2, 3]
    assert pid != parent


def test_the_work_is_done_once_however_often_its_result_is_asked() -> None:
    parent = os.getpid()
    with beside.Beside(lambda: os.getpid()) as child:
        first = child.result()
        assert child.result() == first  # not run again here
    assert first != parent
    assert child.forked


def test_a_failing_child_leaves_the_work_to_the_parent() -> None:
    parent = os.getpid()

    def work() -> int:
        if os.getpid() != parent:
            raise RuntimeError("only in the child")
        return os.getpid()

    with beside.Beside(work) as child:
        assert child.result() == parent
        assert not child.forked


def test_a_child_that_dies_leaves_the_work_to_the_parent() -> None:
    parent = os.getpid()

    def work() -> int:
        if os.getpid() != parent:
            os._exit(3)  # killed, or crashed, before it sent anything
        return 7

    with beside.Beside(work) as child:
        assert child.result() == 7


def test_leaving_early_kills_and_reaps_the_child() -> None:
    def work() -> None:
        import time

        time.sleep(60)

    started: list[int] = []

    def fail_while_it_works() -> None:
        with beside.Beside(work) as child:
            started.append(child._pid)
            raise KeyError("the parent failed while the child worked")

    with pytest.raises(KeyError):
        fail_while_it_works()
    (pid,) = started
    assert pid > 0
    with pytest.raises(ChildProcessError):  # reaped: no such child any more
        os.waitpid(pid, os.WNOHANG)


def test_the_child_does_not_flush_what_the_parent_buffered(tmp_path: Path) -> None:
    path = os.path.join(str(tmp_path), "out")
    with open(path, "w", encoding="utf-8") as out:
        out.write("written once\n")  # still in the parent's buffer at the fork
        with beside.Beside(lambda: "theirs") as child:
            out.write(child.result() + "\n")
    with open(path, encoding="utf-8") as written:
        assert written.read() == "written once\ntheirs\n"


@pytest.mark.parametrize(
    ("weights", "theirs", "cut"),
    [
        ([], 0.5, 0),
        ([5], 0.5, 1),
        ([1, 1], 0.5, 1),
        ([1, 1, 1, 1], 0.5, 2),
        ([100, 1, 1, 1], 0.5, 1),  # both sides keep a package
        ([1, 1, 1, 100], 0.5, 3),
        ([1] * 10, 0.6, 4),
    ],
)
def test_split_at(weights: list[int], theirs: float, cut: int) -> None:
    assert beside.split_at(weights, theirs) == cut


def test_worth_forking(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda _: {0, 1}, raising=False)
    monkeypatch.delenv("ESCAPE_LENS_JOBS", raising=False)
    assert beside.worth_forking(beside.MIN_SITES)
    assert not beside.worth_forking(beside.MIN_SITES - 1)
    monkeypatch.setenv("ESCAPE_LENS_JOBS", "1")
    assert not beside.worth_forking(beside.MIN_SITES)
    monkeypatch.delenv("ESCAPE_LENS_JOBS")
    monkeypatch.setattr(os, "sched_getaffinity", lambda _: {0}, raising=False)
    assert not beside.worth_forking(beside.MIN_SITES)
