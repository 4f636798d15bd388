"""Predictions in words: every phrase that says what the allocator does, in one place.

Each output needs its own length (a terminal column, a diff line, a sentence that
teaches), so there is one function per form, all here: `path_column` (the text report's
path column), `path_words` and `object_words` (its `-v` lines), `describe_cost` (diff,
check and the HTML diff), `summary` (`sizeclass --verify`), `explain` (`sizeclass`).
A site without a prediction is "unknown size", never an allocator path (vocab.AllocPath);
`site_path` names the one word (vocab.SitePath) every output counts a site under, and
`constant_size` says whether its bytes are known before it runs.
"""

from __future__ import annotations

from escape_lens.entries import entry_family
from escape_lens.model.rules import AllocRules
from escape_lens.model.sizeclass import HEADERLESS_MAX, TINY_SIZE, tiny_share
from escape_lens.records import Prediction, Site
from escape_lens.vocab import AllocPath, EntryFamily, SitePath


def is_pooled(site: Site) -> bool:
    """A goroutine's g or a defer record: the runtime takes one from a free list."""
    family = entry_family(site.entry) if site.entry else None
    return family in (EntryFamily.GOROUTINE, EntryFamily.DEFER)


def site_path(site: Site) -> SitePath | None:
    """The word an allocating site is counted under; None for one that allocates nothing."""
    if not site.allocates:
        return None
    if site.prediction is not None:
        return SitePath(str(site.prediction.path))
    return SitePath.POOLED if is_pooled(site) else SitePath.UNKNOWN


def variable_size(site: Site) -> bool:
    """An allocating site with an object whose length is known only at run time."""
    objects = (site.prediction, *site.extra) if site.prediction is not None else site.extra
    return site.allocates and any(p.path == AllocPath.DYNAMIC for p in objects)


def constant_size(site: Site) -> bool:
    """Every object of one execution has a size known at compile time, so `class_bytes`
    is what the site takes; a run-time length or an unreadable size makes it not so."""
    return site.allocates and site.prediction is not None and not variable_size(site)


def path_words(prediction: Prediction | None) -> str:
    """The allocator's path in words: tiny, size and span class, large pages, thresholds."""
    if prediction is None:
        return ""
    if prediction.path == AllocPath.TINY:
        return f"tiny (shares a {TINY_SIZE} B block)"
    if prediction.path == AllocPath.LARGE:
        return f"large, {prediction.span_pages} pages"
    if prediction.path == AllocPath.DYNAMIC:
        return "dynamic: " + thresholds(prediction)
    return path_column(prediction)


def path_column(prediction: Prediction | None) -> str:
    """As `path_words`, without the words a column headed by the path makes obvious."""
    if prediction is None:
        return "unknown"
    if prediction.path == AllocPath.TINY:
        return "tiny"
    if prediction.path == AllocPath.SMALL:
        return f"class {prediction.size_class}, span {prediction.span_class}"
    if prediction.path == AllocPath.LARGE:
        return f"large, {prediction.span_pages} pages"
    if prediction.path == AllocPath.DYNAMIC:
        return thresholds(prediction)
    return SitePath.NONE.value  # runtime.zerobase: no memory is taken


def thresholds(prediction: Prediction) -> str:
    """A dynamic path's element counts up to which it stays tiny / small."""
    tiny = prediction.tiny_max_count or 0
    small = prediction.small_max_count or 0
    return (f"tiny ≤{tiny}, " if tiny else "") + f"small ≤{small}"


def object_words(prediction: Prediction) -> str:
    """One object of a site: `304→320 B class 9, span 19, 8 B malloc header, 25 per span`."""
    if prediction.path == AllocPath.DYNAMIC:
        return f"{prediction.elem_bytes or 0} B per element, " + path_words(prediction)
    text = f"{prediction.requested_bytes}→{prediction.class_bytes} B {path_words(prediction)}"
    if prediction.header_bytes:
        text += f", {prediction.header_bytes} B malloc header"
    if prediction.path == AllocPath.SMALL:
        text += f", {prediction.objects_per_span} per span"
    return text


def describe_cost(site: Site) -> str:
    """What one execution of a site costs: `48 B small (class 5)`, `large 40960 B`,
    `dynamic, 8 B elements`, `unknown size`, `pooled` (its path word, vocab.SitePath)."""
    prediction = site.prediction
    if prediction is None:
        return SitePath.POOLED.value if is_pooled(site) else "unknown size"
    if prediction.path == AllocPath.DYNAMIC:
        return f"dynamic, {prediction.elem_bytes or 0} B elements"
    if prediction.path == AllocPath.SMALL:
        return f"{site.class_bytes} B small (class {prediction.size_class})"
    return f"{site.class_bytes} B {prediction.path}"


def summary(p: Prediction) -> str:
    """A prediction in one short line: `small, 48 B +header, 170/span`."""
    if p.path == AllocPath.NONE:
        return "no allocation"
    if p.path == AllocPath.LARGE:
        return f"large, {p.span_pages} pages ({p.class_bytes} B)"
    header = " +header" if p.header_bytes else ""
    share = ""
    if p.path == AllocPath.TINY:
        share = f", {tiny_share(p.requested_bytes)} per block"
    return f"{p.path}, {p.class_bytes} B{header}{share}, {p.objects_per_span}/span"


def _pct(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "0%"


def _span(p: Prediction) -> str:
    return f"{p.span_pages}-page span holds {p.objects_per_span}"


def explain(p: Prediction, pointers: bool, rules: AllocRules) -> str:
    """E.g. "33 B, no pointers → small path, size class 5 (48 B), 15 B (31%) wasted ..."."""
    size = p.requested_bytes
    kind = "pointers" if pointers else "no pointers"
    if p.path == AllocPath.NONE:
        return f"0 B, {kind} → no allocation: mallocgc returns &runtime.zerobase"
    if p.path == AllocPath.TINY:
        share = tiny_share(size)
        sharing = (
            f"{share} such objects share a block, {TINY_SIZE / share:.3g} B each"
            if share > 1
            else "each takes a whole block"
        )
        return (
            f"{size} B, {kind} → tiny path: packed into a shared {TINY_SIZE}-byte block "
            f"(size class {p.size_class}, span class {p.span_class}); {sharing}, "
            f"~{p.waste_bytes} B wasted per object in a loop of this size, {_span(p)} blocks"
        )
    scan = "noscan" if p.span_class & 1 else "scan"
    if p.path == AllocPath.LARGE:
        limit = (
            f" (over the {rules.max_small_size}-byte small-object limit)" if size <= 32768 else ""
        )
        return (
            f"{size} B, {kind} → large path{limit}: its own {p.span_pages}-page span "
            f"({p.class_bytes} B), {p.waste_bytes} B ({_pct(p.waste_bytes, p.class_bytes)}) "
            f"wasted, span class {p.span_class} ({scan}, size class 0)"
        )
    header = ""
    if p.header_bytes:
        header = (
            f" with an {p.header_bytes}-byte malloc header (pointerful, over {HEADERLESS_MAX} B)"
        )
    of_it = f", {p.header_bytes} B of it the header" if p.header_bytes else ""
    return (
        f"{size} B, {kind} → small path{header}, size class {p.size_class} "
        f"({p.class_bytes} B), {p.waste_bytes} B ({_pct(p.waste_bytes, p.class_bytes)}) "
        f"wasted per object{of_it}, span class {p.span_class} ({scan}), {_span(p)}"
    )
