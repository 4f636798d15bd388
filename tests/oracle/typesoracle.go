// typesoracle prints, for every Go package directory named on the command line, what
// go/types knows about each expression and variable at the positions cmd/compile uses
// in its escape diagnostics. The tests compare escape-lens's sites with it: it is an
// oracle independent of the listing (which boxing allocates, with which runtime helper,
// how big each object is), not a part of the tool.
//
// Output, one JSON object per line:
//
//	{"file": "/abs/x.go", "line": 3, "col": 9, "what": "expr"|"var", "type": "int",
//	 "size": 8, "const": false, "box": "convT64", "elem": "int64", "elem_size": 8,
//	 "kind": "map", "conv": "bytes"}
//
// `kind` is the underlying type's kind when a name may hide it ("map", "chan",
// "slice"); `conv`, for a conversion, what it does: "bytes", "runes" or "string" (the
// runtime copies), "noop" (a slice or string to a type of the same underlying kind:
// nothing is copied). `box` is the data-word helper walk/convert.go would call to box a value of this type
// ("" when boxing needs no allocation: constants, zero-size, one-byte and pointer-shaped
// values); `elem` the element type of a slice, array, map value or channel.
package main

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/build"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

type fact struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Col      int    `json:"col"`
	What     string `json:"what"`
	Node     string `json:"node,omitempty"`
	Type     string `json:"type"`
	Size     int64  `json:"size"`
	Const    bool   `json:"const"`
	Box      string `json:"box"`
	Elem     string `json:"elem,omitempty"`
	ElemSize int64  `json:"elem_size,omitempty"`
	Kind     string `json:"kind,omitempty"`
	Conv     string `json:"conv,omitempty"`
}

// underlyingKind: "map", "chan" or "slice" for a type of that underlying kind, else "".
func underlyingKind(t types.Type) string {
	switch t.Underlying().(type) {
	case *types.Map:
		return "map"
	case *types.Chan:
		return "chan"
	case *types.Slice:
		return "slice"
	}
	return ""
}

// conversionKind: what converting a value of type `from` to `to` does at run time.
func conversionKind(to, from types.Type) string {
	isString := func(t types.Type) bool {
		b, ok := t.Underlying().(*types.Basic)
		return ok && b.Info()&types.IsString != 0
	}
	sliceOf := func(t types.Type, kind types.BasicKind) bool {
		s, ok := t.Underlying().(*types.Slice)
		if !ok {
			return false
		}
		b, ok := s.Elem().Underlying().(*types.Basic)
		return ok && b.Kind() == kind
	}
	switch {
	case sliceOf(to, types.Byte) && isString(from):
		return "bytes"
	case sliceOf(to, types.Rune) && isString(from):
		return "runes"
	case isString(to) && (sliceOf(from, types.Byte) || sliceOf(from, types.Rune)):
		return "string"
	case isString(to) && isString(from), underlyingKind(to) == "slice" && underlyingKind(from) == "slice":
		return "noop"
	}
	return ""
}

var sizes = types.SizesFor("gc", "amd64")

func pointerShaped(t types.Type) bool {
	switch u := t.Underlying().(type) {
	case *types.Pointer, *types.Map, *types.Chan, *types.Signature:
		return true
	case *types.Basic:
		return u.Kind() == types.UnsafePointer
	case *types.Struct:
		return u.NumFields() == 1 && pointerShaped(u.Field(0).Type())
	case *types.Array:
		return u.Len() == 1 && pointerShaped(u.Elem())
	}
	return false
}

func hasPointers(t types.Type) bool {
	switch u := t.Underlying().(type) {
	case *types.Basic:
		return u.Kind() == types.String || u.Kind() == types.UnsafePointer
	case *types.Struct:
		for i := 0; i < u.NumFields(); i++ {
			if hasPointers(u.Field(i).Type()) {
				return true
			}
		}
		return false
	case *types.Array:
		return u.Len() > 0 && hasPointers(u.Elem())
	}
	return true
}

// soleComponent follows cmd/compile's Type.SoleComponent: a struct or array of one
// element, recursively.
func soleComponent(t types.Type) types.Type {
	for {
		switch u := t.Underlying().(type) {
		case *types.Struct:
			if u.NumFields() != 1 {
				return t
			}
			t = u.Field(0).Type()
		case *types.Array:
			if u.Len() != 1 {
				return t
			}
			t = u.Elem()
		default:
			return t
		}
	}
}

// box is walk/convert.go's dataWord + dataWordFuncName for a non-constant value.
func box(t types.Type) string {
	if _, ok := t.Underlying().(*types.Interface); ok {
		return ""
	}
	size := sizes.Sizeof(t)
	align := sizes.Alignof(t)
	switch {
	case pointerShaped(t), size == 0, size == 1:
		return ""
	case size == 2 && align == 2:
		return "convT16"
	case size == 4 && align == 4 && !hasPointers(t):
		return "convT32"
	case size == 8 && align == 8 && !hasPointers(t):
		return "convT64"
	}
	if b, ok := soleComponent(t).Underlying().(*types.Basic); ok && b.Kind() == types.String {
		return "convTstring"
	}
	if _, ok := soleComponent(t).Underlying().(*types.Slice); ok {
		return "convTslice"
	}
	if hasPointers(t) {
		return "convT"
	}
	return "convTnoptr"
}

func elem(t types.Type) types.Type {
	switch u := t.Underlying().(type) {
	case *types.Slice:
		return u.Elem()
	case *types.Array:
		return u.Elem()
	case *types.Map:
		return u.Elem()
	case *types.Chan:
		return u.Elem()
	case *types.Pointer:
		return u.Elem()
	}
	return nil
}

// compilerPos is where cmd/compile's syntax tree puts a node: calls at `(`, binary
// operators at the operator, composite literals at `{`, selectors at the selector
// name, index expressions at `[`.
func compilerPos(n ast.Expr) token.Pos {
	switch e := n.(type) {
	case *ast.CallExpr:
		return e.Lparen
	case *ast.BinaryExpr:
		return e.OpPos
	case *ast.CompositeLit:
		return e.Lbrace
	case *ast.SelectorExpr:
		return e.Sel.Pos()
	case *ast.IndexExpr:
		return e.Lbrack
	case *ast.IndexListExpr:
		return e.Lbrack
	case *ast.SliceExpr:
		return e.Lbrack
	case *ast.ParenExpr:
		return compilerPos(e.X)
	}
	return n.Pos()
}

// nodeKind says what the compiler's node at this position is: "conversion" (a call
// whose function is a type), "call", "builtin", "binary" or "" (anything else).
func nodeKind(expr ast.Expr, info *types.Info) string {
	switch e := expr.(type) {
	case *ast.CallExpr:
		fun := info.Types[e.Fun]
		if fun.IsType() {
			return "conversion"
		}
		if fun.IsBuiltin() {
			return "builtin"
		}
		return "call"
	case *ast.BinaryExpr:
		return "binary"
	case *ast.SelectorExpr:
		if sel := info.Selections[e]; sel != nil && sel.Kind() == types.MethodVal {
			return "method-value"
		}
	case *ast.FuncLit:
		if captures(e, info) {
			return "closure"
		}
		return "static-func"
	}
	return ""
}

// captures: whether a func literal refers to a local variable declared outside it
// (then it is a closure struct; otherwise static data).
func captures(lit *ast.FuncLit, info *types.Info) bool {
	found := false
	ast.Inspect(lit.Body, func(n ast.Node) bool {
		id, ok := n.(*ast.Ident)
		if !ok || found {
			return !found
		}
		v, ok := info.Uses[id].(*types.Var)
		if !ok || v.IsField() || v.Parent() == nil || v.Parent() == v.Pkg().Scope() {
			return true
		}
		if v.Pos() < lit.Pos() || v.Pos() > lit.End() {
			found = true
		}
		return !found
	})
	return found
}

// sizable: a type without type parameters (go/types cannot lay those out).
func sizable(t types.Type) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	sizes.Sizeof(t)
	if e := elem(t); e != nil {
		sizes.Sizeof(e)
	}
	box(t)
	return true
}

func typeName(t types.Type) string {
	return types.TypeString(t, func(p *types.Package) string { return p.Path() })
}

func main() {
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "source", nil)
	var out []fact
	for _, dir := range os.Args[1:] {
		names, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		var files []*ast.File
		for _, name := range names {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			// As the build: a file for newer Go versions (`//go:build go1.23`) is left out.
			if ok, err := build.Default.MatchFile(dir, filepath.Base(name)); err != nil || !ok {
				continue
			}
			f, err := parser.ParseFile(fset, name, nil, 0)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
			files = append(files, f)
		}
		info := &types.Info{
			Types:      map[ast.Expr]types.TypeAndValue{},
			Defs:       map[*ast.Ident]types.Object{},
			Uses:       map[*ast.Ident]types.Object{},
			Selections: map[*ast.SelectorExpr]*types.Selection{},
		}
		conf := types.Config{Importer: imp, Sizes: sizes}
		if _, err := conf.Check(dir, fset, files, info); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		add := func(pos token.Pos, what string, t types.Type, isConst bool, node string) {
			p := fset.Position(pos)
			abs, _ := filepath.Abs(p.Filename)
			f := fact{File: abs, Line: p.Line, Col: p.Column, What: what, Type: typeName(t), Const: isConst, Node: node, Kind: underlyingKind(t)}
			if _, generic := t.(*types.TypeParam); generic {
				f.Type = "typeparam " + f.Type
			}
			if b, ok := t.(*types.Basic); ok && b.Info()&types.IsUntyped != 0 {
				out = append(out, f)
				return
			}
			if !sizable(t) {
				out = append(out, f)
				return
			}
			if _, generic := t.(*types.TypeParam); !generic {
				f.Size = sizes.Sizeof(t)
				if !isConst {
					f.Box = box(t)
				}
				if e := elem(t); e != nil {
					if _, generic := e.(*types.TypeParam); !generic {
						f.Elem, f.ElemSize = typeName(e), sizes.Sizeof(e)
					}
				}
			}
			out = append(out, f)
		}
		for expr, tv := range info.Types {
			if tv.IsType() || tv.Type == nil {
				continue
			}
			if _, tuple := tv.Type.(*types.Tuple); tuple {
				continue
			}
			add(compilerPos(expr), "expr", tv.Type, tv.Value != nil, nodeKind(expr, info))
			if call, ok := expr.(*ast.CallExpr); ok && len(call.Args) == 1 && info.Types[call.Fun].IsType() {
				if arg := info.Types[call.Args[0]].Type; arg != nil {
					out[len(out)-1].Conv = conversionKind(tv.Type, arg)
				}
			}
			if sel, ok := expr.(*ast.SelectorExpr); ok {
				// cmd/compile places a field selection at its dot
				add(sel.Sel.Pos()-1, "expr", tv.Type, tv.Value != nil, nodeKind(expr, info))
			}
		}
		for ident, obj := range info.Defs {
			if v, ok := obj.(*types.Var); ok && !v.IsField() {
				add(ident.Pos(), "var", v.Type(), false, "")
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Col != b.Col {
			return a.Col < b.Col
		}
		if a.What != b.What {
			return a.What < b.What
		}
		return a.Type < b.Type
	})
	enc := json.NewEncoder(os.Stdout)
	for _, f := range out {
		enc.Encode(f)
	}
}
