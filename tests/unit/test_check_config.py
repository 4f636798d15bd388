"""Config parsing, validation with file:line errors, and function-pattern matching."""

from __future__ import annotations

from pathlib import Path

import pytest

from escape_lens.errors import ConfigError
from escape_lens.gate.config import (
    FunctionPattern,
    enclosing_names,
    find_config,
    load_config,
    parse_config_text,
)
from escape_lens.gonames import qualified_name

GOOD = """\
# a comment
baseline = "allocs.json"
hot = [
  "example.com/svc/codec.(*Encoder).*",
  "example.com/svc/handler.Serve",
]

[[budget]]
function = "example.com/svc/codec.(*Encoder).Encode"
max-sites = 2
max-bytes = 128
forbid = ["large"]

[[budget]]
function = "example.com/svc/...Parse"
none = true
"""


def parse(text: str, table: tuple[str, ...] = ()) -> object:
    return parse_config_text(text, "escape-lens.toml", "/base", table)


def test_parses_every_key() -> None:
    config = parse_config_text(GOOD, "escape-lens.toml", "/base")
    assert config.baseline_path == "/base/allocs.json"
    assert [p.text for p in config.hot] == [
        "example.com/svc/codec.(*Encoder).*",
        "example.com/svc/handler.Serve",
    ]
    first, second = config.budgets
    assert (first.max_sites, first.max_bytes, first.forbid, first.none) == (
        2,
        128,
        ("large",),
        False,
    )
    assert first.line == 8
    assert second.none
    assert second.line == 14


def test_default_baseline_is_next_to_the_config() -> None:
    config = parse_config_text("", "escape-lens.toml", "/m")
    assert config.baseline_path == "/m/escape-lens.baseline.json"
    assert config.hot == ()
    assert config.budgets == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('baseline = "b.json"\nhott = ["x.F"]\n', r"escape-lens.toml:2: hott: unknown key"),
        ("baseline = 3\n", r"escape-lens.toml:1: baseline: must be a path"),
        ('hot = "x.F"\n', r"escape-lens.toml:1: hot: must be a list"),
        (
            'hot = [\n  "x.F",\n  "x.(*T",\n]\n',
            r"escape-lens.toml:3: hot: invalid pattern 'x.\(\*T': unbalanced",
        ),
        ('hot = ["a b"]\n', r"escape-lens.toml:1: hot: invalid pattern 'a b': invalid character"),
        (
            '[[budget]]\nfunction = "x.F"\nmax-sites = 1\n\n'
            '[[budget]]\nfunction = "x.G"\nmax-site = 1\n',
            r"escape-lens.toml:7: budget\[1\].max-site: unknown key",
        ),
        (
            '[[budget]]\nfunction = "x.F"\nmax-bytes = -1\n',
            r"escape-lens.toml:3: budget\[0\].max-bytes: must be a non-negative integer",
        ),
        (
            '[[budget]]\nfunction = "x.F"\nmax-sites = true\n',
            r"escape-lens.toml:3: budget\[0\].max-sites: must be a non-negative integer",
        ),
        (
            '[[budget]]\nfunction = "x.F"\nforbid = ["huge"]\n',
            r"escape-lens.toml:3: budget\[0\].forbid: unknown path 'huge'",
        ),
        ('[[budget]]\nfunction = "x.F"\n', r"escape-lens.toml:1: budget\[0\]: sets no limit"),
        ("[[budget]]\nmax-sites = 1\n", r"escape-lens.toml:1: budget\[0\]: missing 'function'"),
        ('hot = ["x.F"\n', r"escape-lens.toml:\d+: invalid TOML"),
    ],
)
def test_errors_name_file_and_line(text: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        parse(text)


def test_pyproject_table_and_its_lines() -> None:
    text = '[project]\nname = "x"\n\n[tool.escape-lens]\nhot = ["x.F"]\nbogus = 1\n'
    with pytest.raises(ConfigError, match=r"pyproject.toml:6: bogus: unknown key"):
        parse_config_text(text, "pyproject.toml", "/b", ("tool", "escape-lens"))
    text = (
        '[tool.escape-lens]\nhot = ["x.F"]\n\n'
        '[[tool.escape-lens.budget]]\nfunction = "x.F"\nnone = "yes"\n'
    )
    with pytest.raises(ConfigError, match=r"pyproject.toml:6: budget\[0\].none: must be a boolean"):
        parse_config_text(text, "pyproject.toml", "/b", ("tool", "escape-lens"))


def test_discovery_walks_up_to_the_module_root(tmp_path: Path) -> None:
    (tmp_path / "escape-lens.toml").write_text('hot = ["outside.F"]\n')
    module = tmp_path / "mod"
    (module / "pkg").mkdir(parents=True)
    (module / "go.mod").write_text("module example.com/m\n")
    # Above the module root: not found.
    assert find_config(str(module / "pkg")) is None
    (module / "pyproject.toml").write_text('[tool.escape-lens]\nhot = ["example.com/m.F"]\n')
    assert find_config(str(module / "pkg")) == (
        str(module / "pyproject.toml"),
        ("tool", "escape-lens"),
    )
    (module / "escape-lens.toml").write_text('hot = ["example.com/m.G"]\n')
    config = load_config(None, str(module / "pkg"))
    assert [p.text for p in config.hot] == ["example.com/m.G"]
    # A pyproject.toml without our table is not a config.
    (module / "escape-lens.toml").unlink()
    (module / "pyproject.toml").write_text('[project]\nname = "m"\n')
    config = load_config(None, str(module / "pkg"))
    assert config.path == ""
    assert config.base == str(module)


def test_explicit_missing_config_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_config(str(tmp_path / "nope.toml"), str(tmp_path))


@pytest.mark.parametrize(
    ("pattern", "name", "matches"),
    [
        ("example.com/svc/codec.(*Encoder).*", "example.com/svc/codec.(*Encoder).Encode", True),
        ("example.com/svc/codec.(*Encoder).*", "example.com/svc/codec.Encoder.Size", False),
        ("example.com/svc/codec.(*Encoder).*", "example.com/svc/codec.(*Decoder).Decode", False),
        ("example.com/svc/codec.*", "example.com/svc/codec.Checksum", True),
        ("example.com/svc/codec.*", "example.com/svc/codec/sub.Checksum", False),
        ("example.com/svc/...", "example.com/svc/codec/sub.Checksum", True),
        ("example.com/svc/codec.Encode", "example.com/svc/codec.Encode.func1", True),
        ("example.com/svc/codec.Encode", "example.com/svc/codec.Encode.func1.2", True),
        ("example.com/svc/codec.Encode", "example.com/svc/codec.EncodeAll", False),
        (
            "example.com/svc/codec.Stack.Push",
            "example.com/svc/codec.Stack[go.shape.int].Push",
            True,
        ),
        (
            "example.com/svc/codec.(*Stack).Push",
            "example.com/svc/codec.(*Stack[go.shape.*uint8]).Push",
            True,
        ),
    ],
)
def test_pattern_matching(pattern: str, name: str, matches: bool) -> None:
    assert FunctionPattern.parse(pattern).matches(name) is matches


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ("", "empty"),
        ("a b", "invalid character"),
        ("x.(*T", "unbalanced parentheses"),
        ("x.F)", "unbalanced parentheses"),
        ("x.F[", "unbalanced brackets"),
        ("x/**/F", r"'\*\*' is not a pattern"),
        ("x.F;", "invalid character"),
    ],
)
def test_invalid_patterns(bad: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        FunctionPattern.parse(bad)


def test_names() -> None:
    assert enclosing_names("p.F.func1.2") == ["p.F.func1.2", "p.F.func1", "p.F"]
    assert qualified_name("example.com/m/p", "(*T).M") == "example.com/m/p.(*T).M"
    assert qualified_name("example.com/m/p", "example.com/m/p.F") == "example.com/m/p.F"
    assert qualified_name("example.com/m/cmd", "main.func1") == "example.com/m/cmd.main.func1"


def test_a_directory_given_as_config_is_named_as_such(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="a directory, not a configuration file"):
        load_config(str(tmp_path), str(tmp_path))
