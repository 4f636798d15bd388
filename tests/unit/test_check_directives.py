"""`//escape-lens:hot` and `//escape-lens:allow` in Go source."""

from __future__ import annotations

from escape_lens.gate.directives import scan_source

SOURCE = """\
package codec

// Encode is hot.
//
//escape-lens:hot
func (e *Encoder) Encode(r Record) {
	e.last = &Record{} //escape-lens:allow kept for the next call
	//escape-lens:allow
	e.buf = make([]byte, 10)
	//escape-lens:allow grows once per connection
	// (a second comment line)
	e.more = make([]byte, 20)
	s := "//escape-lens:allow not a directive"
	// see escape-lens:allow in the docs, not a directive either
	//escape-lens:allowed is not the directive
}

//escape-lens:hot

func NotHot() {}

// Plain has no marker.
func Plain() {}

//escape-lens:hot
func (Value) Size() int { return 0 }

//escape-lens:hot
func (s *Stack[T]) Push(v T) {}

//escape-lens:hot
func Generic[T any](v T) {}
"""


def test_hot_functions() -> None:
    found = scan_source(SOURCE, "codec/codec.go", "example.com/m/codec")
    assert found.hot_functions == {
        "example.com/m/codec.(*Encoder).Encode",
        "example.com/m/codec.Value.Size",
        "example.com/m/codec.(*Stack).Push",
        "example.com/m/codec.Generic",
    }


def test_suppressions_and_their_lines() -> None:
    found = scan_source(SOURCE, "codec/codec.go", "example.com/m/codec")
    got = [(s.line, s.target_line, s.reason) for s in found.suppressions]
    assert got == [
        (7, 7, "kept for the next call"),
        (8, 9, ""),
        (10, 12, "grows once per connection"),
    ]
    assert found.suppression_for("codec/codec.go", 12) is found.suppressions[2]
    assert found.suppression_for("codec/other.go", 12) is None
    assert found.suppressions[0].col == SOURCE.splitlines()[6].index("//") + 1


def test_declared_functions() -> None:
    found = scan_source(SOURCE, "codec/codec.go", "m/codec")
    assert found.declared == {
        "m/codec.(*Encoder).Encode",
        "m/codec.NotHot",
        "m/codec.Plain",
        "m/codec.Value.Size",
        "m/codec.(*Stack).Push",
        "m/codec.Generic",
    }
