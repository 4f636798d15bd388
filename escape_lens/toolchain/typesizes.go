// typesizes prints the size and pointer bytes of Go types, the way the gc compiler lays
// them out, from the packages' export data. escape-lens runs it with `go run` (standard
// library only, so it builds offline) when an allocation's type descriptor is not in the
// -S listing of a target package, i.e. the type is defined in another package.
//
// Input: one line of JSON on stdin (escape-lens may start it before it knows what to
// ask, and processes it forks meanwhile hold copies of the pipe: the newline, not the
// end of the input, ends the request):
//
//	{"goarch": "amd64",
//	 "exports": {"bytes": "/cache/xx-d", ...},
//	 "types": [{"name": "bytes.Buffer", "expr": "p0.Buffer", "imports": {"p0": "bytes"}}]}
//
// `expr` is the descriptor's type name with every import path replaced by an identifier
// (`imports` maps them back), so go/parser can read it. Output: one line per type,
// "name<TAB>size<TAB>ptrbytes", or "name<TAB>-<TAB>reason" when it cannot be resolved.
// A defined map or channel type (`type Header map[string][]string`) does not spell its
// key and element, so its line goes on with them, each as name, size and ptrbytes:
// "...<TAB>map<TAB>key...<TAB>elem..." or "...<TAB>chan<TAB>-<TAB>-<TAB>-<TAB>elem...".
// ptrbytes follows cmd/compile/internal/types.PtrDataSize: the prefix of the object
// that holds pointers.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"strconv"
)

type request struct {
	GOARCH  string            `json:"goarch"`
	Exports map[string]string `json:"exports"`
	Types   []struct {
		Name    string            `json:"name"`
		Expr    string            `json:"expr"`
		Imports map[string]string `json:"imports"`
	} `json:"types"`
}

type resolver struct {
	imp     types.Importer
	sizes   types.Sizes
	ptrSize int64
	imports map[string]string
}

func main() {
	var req request
	input, err := bufio.NewReader(os.Stdin).ReadBytes('\n')
	if err == io.EOF {
		err = nil
	}
	if err == nil {
		err = json.Unmarshal(input, &req)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "typesizes: bad input:", err)
		os.Exit(2)
	}
	fset := token.NewFileSet()
	lookup := func(path string) (io.ReadCloser, error) {
		file, ok := req.Exports[path]
		if !ok || file == "" {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(file)
	}
	sizes := types.SizesFor("gc", req.GOARCH)
	if sizes == nil {
		fmt.Fprintln(os.Stderr, "typesizes: unknown GOARCH", req.GOARCH)
		os.Exit(2)
	}
	r := &resolver{
		imp:     importer.ForCompiler(fset, "gc", lookup),
		sizes:   sizes,
		ptrSize: sizes.Sizeof(types.Typ[types.UnsafePointer]),
	}
	for _, t := range req.Types {
		r.imports = t.Imports
		typ, err := r.resolve(t.Expr)
		if err != nil {
			fmt.Printf("%s\t-\t%v\n", t.Name, err)
			continue
		}
		fmt.Printf("%s\t%d\t%d%s\n", t.Name, r.size(typ), r.ptrBytes(typ), r.components(typ))
	}
}

// components is the key and element columns of a defined map or channel type, else "".
func (r *resolver) components(t types.Type) string {
	if _, named := t.(*types.Named); !named {
		return ""
	}
	column := func(t types.Type) string {
		name := types.TypeString(t, func(p *types.Package) string { return p.Path() })
		return fmt.Sprintf("\t%s\t%d\t%d", name, r.size(t), r.ptrBytes(t))
	}
	switch u := t.Underlying().(type) {
	case *types.Map:
		return "\tmap" + column(u.Key()) + column(u.Elem())
	case *types.Chan:
		return "\tchan\t-\t-\t-" + column(u.Elem())
	}
	return ""
}

func (r *resolver) resolve(expr string) (t types.Type, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%v", p)
		}
	}()
	node, err := parser.ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	return r.typeOf(node)
}

func (r *resolver) typeOf(node ast.Expr) (types.Type, error) {
	switch n := node.(type) {
	case *ast.Ident:
		obj := types.Universe.Lookup(n.Name)
		if tn, ok := obj.(*types.TypeName); ok {
			return tn.Type(), nil
		}
		return nil, fmt.Errorf("unknown type %s", n.Name)
	case *ast.SelectorExpr:
		pkgIdent, ok := n.X.(*ast.Ident)
		if !ok {
			return nil, fmt.Errorf("unsupported selector")
		}
		if pkgIdent.Name == "unsafe" && n.Sel.Name == "Pointer" {
			return types.Typ[types.UnsafePointer], nil
		}
		path, ok := r.imports[pkgIdent.Name]
		if !ok {
			return nil, fmt.Errorf("unknown package %s", pkgIdent.Name)
		}
		pkg, err := r.imp.Import(path)
		if err != nil {
			return nil, err
		}
		obj := pkg.Scope().Lookup(n.Sel.Name)
		if obj == nil {
			return nil, fmt.Errorf("%s.%s not found (unexported local type?)", path, n.Sel.Name)
		}
		tn, ok := obj.(*types.TypeName)
		if !ok {
			return nil, fmt.Errorf("%s.%s is not a type", path, n.Sel.Name)
		}
		return tn.Type(), nil
	case *ast.StarExpr:
		elem, err := r.typeOf(n.X)
		if err != nil {
			return nil, err
		}
		return types.NewPointer(elem), nil
	case *ast.ParenExpr:
		return r.typeOf(n.X)
	case *ast.ArrayType:
		elem, err := r.typeOf(n.Elt)
		if err != nil {
			return nil, err
		}
		if n.Len == nil {
			return types.NewSlice(elem), nil
		}
		lit, ok := n.Len.(*ast.BasicLit)
		if !ok {
			return nil, fmt.Errorf("unsupported array length")
		}
		length, err := strconv.ParseInt(lit.Value, 0, 64)
		if err != nil {
			return nil, err
		}
		return types.NewArray(elem, length), nil
	case *ast.MapType:
		key, err := r.typeOf(n.Key)
		if err != nil {
			return nil, err
		}
		elem, err := r.typeOf(n.Value)
		if err != nil {
			return nil, err
		}
		return types.NewMap(key, elem), nil
	case *ast.ChanType:
		elem, err := r.typeOf(n.Value)
		if err != nil {
			return nil, err
		}
		return types.NewChan(types.SendRecv, elem), nil
	case *ast.FuncType:
		return types.NewSignatureType(nil, nil, nil, nil, nil, false), nil
	case *ast.InterfaceType:
		// Every interface value is two pointer words whatever its methods.
		return types.NewInterfaceType(nil, nil), nil
	case *ast.StructType:
		var fields []*types.Var
		for _, f := range n.Fields.List {
			ft, err := r.typeOf(f.Type)
			if err != nil {
				return nil, err
			}
			names := f.Names
			if len(names) == 0 {
				names = []*ast.Ident{ast.NewIdent("_")}
			}
			for _, name := range names {
				fields = append(fields, types.NewField(token.NoPos, nil, name.Name, ft, len(f.Names) == 0))
			}
		}
		return types.NewStruct(fields, nil), nil
	case *ast.IndexExpr, *ast.IndexListExpr:
		var base ast.Expr
		var args []ast.Expr
		if ix, ok := n.(*ast.IndexExpr); ok {
			base, args = ix.X, []ast.Expr{ix.Index}
		} else {
			ixl := n.(*ast.IndexListExpr)
			base, args = ixl.X, ixl.Indices
		}
		generic, err := r.typeOf(base)
		if err != nil {
			return nil, err
		}
		var targs []types.Type
		for _, a := range args {
			ta, err := r.typeOf(a)
			if err != nil {
				return nil, err
			}
			targs = append(targs, ta)
		}
		return types.Instantiate(nil, generic, targs, false)
	}
	return nil, fmt.Errorf("unsupported type expression %T", node)
}

// size and align mirror cmd/compile/internal/types (size.go): go/types' own gc sizes
// round struct sizes differently before go1.22, so composites are laid out here and
// only the basic kinds come from types.SizesFor.
func (r *resolver) size(t types.Type) int64 {
	switch u := t.Underlying().(type) {
	case *types.Basic:
		return r.sizes.Sizeof(u)
	case *types.Pointer, *types.Chan, *types.Map, *types.Signature:
		return r.ptrSize
	case *types.Slice:
		return 3 * r.ptrSize
	case *types.Interface:
		return 2 * r.ptrSize
	case *types.Array:
		return u.Len() * r.size(u.Elem())
	case *types.Struct:
		size, _ := r.layout(u)
		return size
	}
	return r.sizes.Sizeof(t)
}

func (r *resolver) align(t types.Type) int64 {
	switch u := t.Underlying().(type) {
	case *types.Basic:
		return r.sizes.Alignof(u)
	case *types.Array:
		return r.align(u.Elem())
	case *types.Struct:
		max := int64(1)
		for i := 0; i < u.NumFields(); i++ {
			if a := r.align(u.Field(i).Type()); a > max {
				max = a
			}
		}
		return max
	}
	return r.ptrSize
}

// layout returns a struct's size and field offsets: fields at their alignment, one byte
// of padding after a trailing zero-size field of a non-empty struct, rounded up to the
// struct's alignment (CalcStructSize).
func (r *resolver) layout(s *types.Struct) (int64, []int64) {
	offsets := make([]int64, s.NumFields())
	var offset, maxAlign int64 = 0, 1
	for i := 0; i < s.NumFields(); i++ {
		ft := s.Field(i).Type()
		a := r.align(ft)
		if a > maxAlign {
			maxAlign = a
		}
		offset = (offset + a - 1) / a * a
		offsets[i] = offset
		offset += r.size(ft)
	}
	if n := s.NumFields(); n > 0 && offset > 0 && r.size(s.Field(n-1).Type()) == 0 {
		offset++
	}
	return (offset + maxAlign - 1) / maxAlign * maxAlign, offsets
}

// ptrBytes mirrors cmd/compile/internal/types.PtrDataSize.
func (r *resolver) ptrBytes(t types.Type) int64 {
	switch u := t.Underlying().(type) {
	case *types.Basic:
		switch u.Kind() {
		case types.String, types.UnsafePointer:
			return r.ptrSize
		}
		return 0
	case *types.Pointer, *types.Chan, *types.Map, *types.Signature, *types.Slice:
		return r.ptrSize
	case *types.Interface:
		return 2 * r.ptrSize
	case *types.Array:
		if u.Len() == 0 {
			return 0
		}
		elem := r.ptrBytes(u.Elem())
		if elem == 0 {
			return 0
		}
		return (u.Len()-1)*r.size(u.Elem()) + elem
	case *types.Struct:
		_, offsets := r.layout(u)
		for i := u.NumFields() - 1; i >= 0; i-- {
			if p := r.ptrBytes(u.Field(i).Type()); p > 0 {
				return offsets[i] + p
			}
		}
		return 0
	}
	return 0
}
