"""The field order that makes a struct smallest, and whether it reaches a smaller class.

Go lays a struct's fields out in declaration order, each at the next multiple of its
alignment, a final zero-size field after a non-empty prefix padded by one byte, the whole
rounded up to the largest alignment (gotypes.struct_size). Invariants:

- The best order puts zero-size fields first (anywhere else they may cost the final
  byte), then the rest by alignment, largest first, keeping declaration order among
  equals. Every field's size is a multiple of its alignment, so after the largest-aligned
  fields no padding remains between fields: only the final rounding, which no order
  avoids. The order is therefore minimal; its size is computed, not assumed.
- Advice comes only with sized fields (`TypeInfo.fields`: a target package's own defined
  struct whose fields the layout rules reproduce) and only for objects of the struct
  itself or an array of it: the class a size reaches is the model's (`model.predict`),
  for the site's Go version.
- Recoverable bytes are class bytes, never padding alone: an order that shrinks the
  struct within its class recovers nothing, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from escape_lens.gotypes import struct_size
from escape_lens.model import AllocRules, predict
from escape_lens.records import FieldInfo, Site, TypeInfo
from escape_lens.vocab import AllocPath


@dataclass(frozen=True, slots=True)
class Layout:
    """A site's struct as declared and in its best order, with the classes they take.

    objects: how many structs one request holds (an array or slice of them: > 1).
    """

    type: TypeInfo
    objects: int
    order: tuple[FieldInfo, ...]
    best_size: int
    class_bytes: int
    best_class_bytes: int

    @property
    def recoverable(self) -> int:
        """Class bytes per execution the best order gives back (0: none)."""
        return max(0, self.class_bytes - self.best_class_bytes)

    @property
    def reordered(self) -> bool:
        return tuple(f.name for f in self.order) != tuple(f.name for f in self.type.fields)


def best_order(fields: tuple[FieldInfo, ...]) -> tuple[FieldInfo, ...]:
    """The fields in an order of least size (see the module's invariants)."""
    return tuple(sorted(fields, key=lambda f: (f.size != 0, -f.align)))


def site_layout(site: Site, rules: AllocRules) -> Layout | None:
    """The layout advice for one site; None when its object is not a struct with sized
    fields (or an array of one), or when the site takes nothing from a size class."""
    typ, prediction = site.type, site.prediction
    if typ is None or not typ.fields or prediction is None or typ.size == 0:
        return None
    # A tiny object's class is the shared 16 B block: bytes per object are not its class.
    if prediction.path not in (AllocPath.SMALL, AllocPath.LARGE):
        return None
    objects, remainder = divmod(prediction.requested_bytes, typ.size)
    if remainder or objects == 0:
        return None
    order = best_order(typ.fields)
    best = struct_size(tuple((f.size, f.align) for f in order))
    after = predict(best * objects, typ.pointers, rules)
    return Layout(typ, objects, order, best, prediction.class_bytes, after.class_bytes)
