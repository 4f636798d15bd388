"""go list's listing: targets, their errors, archives and build IDs (captured, go1.21/1.27)."""

from __future__ import annotations

import json

import pytest

from escape_lens.errors import TargetError
from escape_lens.toolchain.golist import read_listing
from tests.unit.parse_captured import CAPTURED


def _captured(version: str) -> str:
    label, _, text = (CAPTURED / version / "mod-listing.json").read_text().partition("\n")
    assert label.startswith(f"// captured: {version};")
    return text


@pytest.mark.parametrize("version", ["go1.21.13", "go1.27.3"])
def test_a_broken_package_and_its_importer_say_why(version: str) -> None:
    listing = read_listing(_captured(version))
    targets = {t.import_path: t for t in listing.targets}
    assert list(targets) == sorted(targets)  # go list's order, dependencies left out
    assert set(targets) == {
        "example.com/m/a",
        "example.com/m/b",
        "example.com/m/broken",
        "example.com/m/c",
    }
    broken = targets["example.com/m/broken"].error
    assert broken is not None
    assert broken.startswith('broken/x.go:3:23: cannot use "x"')  # go's `# pkg` line dropped
    assert targets["example.com/m/c"].error == (
        f"not compiled: dependency example.com/m/broken failed: {broken.splitlines()[0]}"
    )
    a = targets["example.com/m/a"]
    assert a.error is None
    assert a.dir.endswith("/mod/a")
    (build_id,) = a.build_ids
    assert "/" in build_id
    assert listing.archives["example.com/m/a"].endswith("-d")
    assert targets["example.com/m/broken"].build_ids == ()
    assert "bytes" in listing.exports  # a dependency's export data, for type sizes
    assert "bytes" not in targets


def test_a_pattern_without_packages_is_a_target_error() -> None:
    raw = {
        "ImportPath": "./nothing/...",
        "Error": {"Err": "pattern ./nothing/...: lstat ./nothing/: no such file or directory"},
    }
    with pytest.raises(TargetError, match=r"^\./nothing/\.\.\.: pattern"):
        read_listing(json.dumps(raw))


def test_test_variants_give_the_build_ids_and_errors_of_what_is_analysed() -> None:
    listing = read_listing(
        "\n".join(
            json.dumps(raw)
            for raw in (
                {
                    "ImportPath": "m/u",
                    "Dir": "/m/u",
                    "Name": "u",
                    "TestGoFiles": ["u_test.go"],
                    "BuildID": "p/1",
                },
                {
                    "ImportPath": "m/v",
                    "Dir": "/m/v",
                    "Name": "v",
                    "XTestGoFiles": ["v_test.go"],
                    "BuildID": "v/1",
                },
                {
                    "ImportPath": "m/u [m/u.test]",
                    "ForTest": "m/u",
                    "BuildID": "t/2",
                    "Error": {"Err": "# m/u [m/u.test]\nu/u_test.go:3:15: syntax error"},
                },
                {"ImportPath": "m/v_test [m/v.test]", "ForTest": "m/v", "BuildID": "x/3"},
                {"ImportPath": "m/u.test", "Name": "main", "BuildID": "main/4"},
                {"ImportPath": "m/v.test", "Name": "main", "BuildID": "main/5"},
            )
        ),
        tests=True,
    )
    u, v = listing.targets
    assert (u.import_path, v.import_path) == ("m/u", "m/v")
    assert u.error == "u/u_test.go:3:15: syntax error"
    assert v.error is None
    assert v.build_ids == ("v/1", "x/3")  # the package itself, then its external tests
