"""What the runtime does with the request behind an allocation call: the model applied.

The join (escape_lens/sites.py) pairs calls with diagnostics; this module sizes the
request a call makes and asks the allocator model what happens to it. Rules:

* **The real request.** A slice's element size times a constant count; a variable
  length gets path `dynamic` with the thresholds (elements up to which it stays tiny or
  small); `append` is dynamic by nature; a map's header and buckets/groups and a
  channel's hchan + buffer come from the model's object lists; `convT*` sizes follow
  ALLOCATOR §8.2 (convTstring 16 B scan, convTslice 24 B scan, convT16/32/64 2/4/8 B
  tiny, and no allocation at all for values < 256).
* **Sizes are read, never guessed**: from the type descriptors the compiler dumped (or
  the type-size helper found), else from the language's layout of predeclared and
  built-in composite types (`gotypes.resolve_type`); a type neither tells stays unsized.
* **Self-check**: when the compiler itself chose a size-specialized entry
  (`mallocgcSmallNoScanSC4`, `mallocgcTinySC2`), its size class must equal the model's.
  A disagreement is a model bug: the site's note says so in capitals, and the tests
  fail on it (`specialized_disagreement`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from escape_lens import model
from escape_lens.entries import is_size_specialized
from escape_lens.gonames import chan_elem, map_key_elem
from escape_lens.gotypes import resolve_type
from escape_lens.records import AllocCall, EscapeDiagnostic, Note, Prediction, Site, TypeInfo
from escape_lens.vocab import EntryFamily, NoteCode


@dataclass(frozen=True, slots=True)
class Estimate:
    type: TypeInfo | None
    count: int | None
    main: Prediction | None
    extra: tuple[Prediction, ...] = ()
    notes: tuple[Note, ...] = ()


_CONVT_FIXED: dict[str, TypeInfo] = {
    "convT16": TypeInfo("uint16", 2, 0),
    "convT32": TypeInfo("uint32", 4, 0),
    "convT64": TypeInfo("uint64", 8, 0),
    "convTstring": TypeInfo("string", 16, 8),
    "convTslice": TypeInfo("[]uint8", 24, 8),
}


def _objects(
    objects: Sequence[tuple[int, bool]], rules: model.AllocRules
) -> tuple[Prediction | None, tuple[Prediction, ...]]:
    predictions = [model.predict(size, pointers, rules) for size, pointers in objects]
    if not predictions:
        return None, ()
    return predictions[0], tuple(predictions[1:])


# How the self-check's note opens: in capitals, whatever reads it (select it by its code).
MODEL_DISAGREES = "MODEL DISAGREES WITH THE COMPILER"


def _note(code: NoteCode, text: str) -> tuple[Note, ...]:
    return (Note(code, text),)


_BOXED_UNKNOWN = _note(NoteCode.BOXED_TYPE_UNKNOWN, "boxed type unknown")


def _specialized_check(call: AllocCall, main: Prediction | None) -> tuple[Note, ...]:
    if not is_size_specialized(call.entry) or main is None:
        return ()
    compiler_class = model.class_of_specialized_entry(call.entry)
    if compiler_class is None or compiler_class == main.size_class:
        return ()
    return _note(
        NoteCode.MODEL_DISAGREES,
        f"{MODEL_DISAGREES}: {call.entry} is size class {compiler_class}, "
        f"the model says {main.size_class}",
    )


def specialized_disagreement(site: Site) -> str | None:
    """The self-check of rule 7 for one site: a message when the model is wrong."""
    if site.call is None:
        return None
    found = _specialized_check(site.call, site.prediction)
    return found[0].text if found else None


def predict_call(
    call: AllocCall, family: EntryFamily, rules: model.AllocRules, known: dict[str, TypeInfo]
) -> Estimate:
    entry = call.entry
    typ = call.type
    if family == EntryFamily.OBJECT:
        size = typ.size if typ is not None else call.const_count
        if size is None:
            return Estimate(typ, None, None, notes=_note(NoteCode.SIZE_UNKNOWN, "size unknown"))
        pointers = typ.pointers if typ is not None else False
        main = model.predict(size, pointers, rules)
        return Estimate(typ, None, main, notes=_specialized_check(call, main))
    if family == EntryFamily.MAKE_SLICE:
        if typ is None:
            return Estimate(None, call.const_count, None, notes=_ELEMENT_UNKNOWN)
        if entry == "makeslicecopy" or call.const_count is None:
            return Estimate(typ, None, model.predict_dynamic(typ.size, typ.pointers, rules))
        return Estimate(
            typ, call.const_count, model.predict(typ.size * call.const_count, typ.pointers, rules)
        )
    if family == EntryFamily.APPEND:
        if typ is None and entry.startswith("moveSlice") and call.const_count:
            # moveSliceNoScan gets the element size, not a type: pointer-free bytes
            size = call.const_count
            dynamic = model.predict_dynamic(size, False, rules)
            return Estimate(None, None, dynamic, notes=SLICE_MOVED)
        if typ is None:
            return Estimate(None, None, None, notes=_ELEMENT_UNKNOWN)
        pointers = typ.pointers and "NoScan" not in entry
        note = SLICE_MOVED if entry.startswith("moveSlice") else _APPEND_GROWTH
        return Estimate(typ, None, model.predict_dynamic(typ.size, pointers, rules), notes=note)
    if family == EntryFamily.MAP:
        return _predict_map(call, rules, known)
    if family == EntryFamily.CHAN:
        return _predict_chan(call, rules, known)
    if family == EntryFamily.INTERFACE:
        if entry in _CONVT_FIXED:
            helper = _CONVT_FIXED[entry]
            main = model.predict(helper.size, helper.pointers, rules)
            notes: tuple[Note, ...] = ()
            boxed = None
            if call.boxed is None:
                # The helper's own type (uint64, []uint8) is only the value's size: an
                # int, an Errno or a float64 is boxed by convT64 as well.
                notes = _BOXED_UNKNOWN
            else:
                # The source type (`int`, `[]byte`) the interface's type word names.
                boxed = TypeInfo(call.boxed, helper.size, helper.ptrbytes)
            floating = boxed is not None and boxed.name in ("float32", "float64")
            if entry in ("convT16", "convT32", "convT64") and not floating:
                notes += _note(
                    NoteCode.SMALL_INTEGER,
                    "no allocation for values below 256 (runtime.staticuint64s)",
                )
            return Estimate(boxed, None, main, (), notes)
        if typ is None:
            return Estimate(None, None, None, notes=_BOXED_UNKNOWN)
        pointers = typ.pointers and entry != "convTnoptr"
        return Estimate(typ, None, model.predict(typ.size, pointers, rules))
    if family in _STRING_ELEM:
        return _predict_string(call, family, rules)
    return Estimate(
        typ,
        None,
        None,
        notes=_note(
            NoteCode.POOLED_RECORD,
            "the runtime reuses a free g / _defer record; a new one is allocated "
            "only when its free list is empty",
        ),
    )


_ELEMENT_UNKNOWN = _note(NoteCode.ELEMENT_TYPE_UNKNOWN, "element type unknown")
SLICE_MOVED = _note(NoteCode.SLICE_MOVED, "the appended slice is moved to the heap here (Go 1.26+)")
_APPEND_GROWTH = _note(
    NoteCode.APPEND_GROWTH,
    "grows by doubling (by 1.25 beyond 256 elements), rounded up to a size class",
)


_MAKE_ELEM = re.compile(r"^make\(\[\](?P<elem>[^,]+),")


def predict_make_copy(
    call: AllocCall, diag: EscapeDiagnostic, rules: model.AllocRules, known: dict[str, TypeInfo]
) -> Estimate:
    """`make([]T, len(s)); copy(...)` with pointer-free T: a bare `mallocgc(n*size, nil,
    false)` (OMAKESLICECOPY), so only the source names the element type."""
    spelled = _MAKE_ELEM.match(diag.subject)
    elem = resolve_type(spelled.group("elem"), known) if spelled else None
    note = _note(
        NoteCode.MAKE_COPY, "make and copy in one allocation (not rounded up to the size class)"
    )
    if call.const_count is not None:  # the bytes are known, whatever the element type
        return Estimate(elem, None, model.predict(call.const_count, False, rules), (), note)
    if elem is None:  # `make(IP, len(x))`: a defined slice type does not spell it
        return Estimate(None, None, None, notes=_ELEMENT_UNKNOWN)
    return Estimate(elem, None, model.predict_dynamic(elem.size, False, rules), (), note)


def _predict_map(call: AllocCall, rules: model.AllocRules, known: dict[str, TypeInfo]) -> Estimate:
    key = elem = None
    if call.type is not None:
        parts = map_key_elem(call.type.name)
        if parts is not None:
            key, elem = (resolve_type(p, known) for p in parts)
        else:  # a defined map type (`http.Header`): the type-size helper read its parts
            key, elem = call.type.key, call.type.elem
    if call.entry == "makemap_small":
        objects = model.map_objects(
            key.size if key else 0,
            bool(key and key.pointers),
            elem.size if elem else 0,
            bool(elem and elem.pointers),
            None,
            rules,
        )
        main, extra = _objects(objects, rules)
        return Estimate(
            call.type,
            None,
            main,
            extra,
            _note(NoteCode.MAP_BUCKETS_LATER, "buckets/groups come with the first insert"),
        )
    hint = call.const_count
    if key is None or elem is None:
        # The key or element could not be sized (a defined map type whose parts the
        # helper could not read): the header is certain (48 B), the buckets/groups not.
        header = model.map_objects(0, False, 0, False, None, rules)[:1]
        main, _ = _objects(header, rules)
        note = "key/element sizes unknown: the map header only"
        if hint is not None and hint > 8:
            note += f", not the buckets/groups for hint {hint}"
        return Estimate(call.type, hint, main, (), _note(NoteCode.MAP_PARTS_UNKNOWN, note))
    notes: tuple[Note, ...] = ()
    if hint is None:
        notes = _note(
            NoteCode.MAP_HINT_DYNAMIC,
            "hint not constant: the buckets/groups depend on it at run time",
        )
    objects = model.map_objects(
        key.size, key.pointers, elem.size, elem.pointers, hint if hint is not None else 0, rules
    )
    main, extra = _objects(objects, rules)
    return Estimate(call.type, hint, main, extra, notes)


def _predict_chan(call: AllocCall, rules: model.AllocRules, known: dict[str, TypeInfo]) -> Estimate:
    elem_name = chan_elem(call.type.name) if call.type is not None else None
    elem = resolve_type(elem_name, known) if elem_name is not None else None
    if elem is None and call.type is not None:
        elem = call.type.elem  # a defined channel type: the helper read its element
    if elem is None:
        return Estimate(call.type, call.const_count, None, notes=_ELEMENT_UNKNOWN)
    if call.const_count is None:
        return _dynamic_chan(call, elem, rules)
    objects = model.chan_objects(elem.size, elem.pointers, call.const_count, rules)
    main, extra = _objects(objects, rules)
    return Estimate(call.type, call.const_count, main, extra)


def _dynamic_chan(call: AllocCall, elem: TypeInfo, rules: model.AllocRules) -> Estimate:
    """A buffer size known only at run time: the hchan header is allocated whatever it
    is (`makechan`); a pointer-free buffer shares its object, a pointerful one is a
    second object."""
    header = model.hchan_size(rules)
    main = model.predict(header, False, rules)
    if elem.size == 0:
        return Estimate(call.type, None, main)
    if elem.pointers:
        buffer = model.predict_dynamic(elem.size, True, rules)
        text = f"buffer size not constant: the {header} B header, and a buffer of n*{elem.size} B"
        notes = _note(NoteCode.CHAN_BUFFER_DYNAMIC, text)
        return Estimate(call.type, None, main, (buffer,), notes)
    text = (
        f"buffer size not constant: one object of {header} + n*{elem.size} B "
        f"(the header alone for n = 0)"
    )
    return Estimate(call.type, None, main, (), _note(NoteCode.CHAN_BUFFER_DYNAMIC, text))


def first_insert(
    map_name: str, rules: model.AllocRules, known: dict[str, TypeInfo]
) -> Prediction | None:
    """What the first insert into a map of type `map_name` made by makemap_small
    allocates (None when its key or element cannot be sized)."""
    parts = map_key_elem(map_name)
    if parts is None:
        return None
    key, elem = (resolve_type(part, known) for part in parts)
    if key is None or elem is None:
        return None
    objects = model.first_insert_objects(key.size, key.pointers, elem.size, elem.pointers, rules)
    return model.predict(*objects[0], rules)


_STRING_ELEM = {
    EntryFamily.STRING_CONCAT: TypeInfo("string", 16, 8),
    EntryFamily.STRING_CONVERSION: TypeInfo("string", 16, 8),
    EntryFamily.BYTES_CONVERSION: TypeInfo("[]uint8", 24, 8),
    EntryFamily.RUNES_CONVERSION: TypeInfo("[]int32", 24, 8),
}


def _predict_string(call: AllocCall, family: EntryFamily, rules: model.AllocRules) -> Estimate:
    result_type = _STRING_ELEM[family]
    if call.entry == "intstring":
        # The 4 bytes a rune encodes into, not the string header: no pointers.
        return Estimate(TypeInfo("[4]uint8", 4, 0), 1, model.predict(4, False, rules))
    elem_bytes = 4 if family == EntryFamily.RUNES_CONVERSION else 1
    notes = _note(
        NoteCode.STRING_BUFFER, "no allocation when the result does not escape and fits 32 bytes"
    )
    if call.const_count is not None and call.entry == "slicebytetostring":
        return Estimate(
            result_type, call.const_count, model.predict(call.const_count, False, rules), (), notes
        )
    return Estimate(result_type, None, model.predict_dynamic(elem_bytes, False, rules), (), notes)
