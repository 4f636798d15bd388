"""Everything that starts a process lives here: finding Go, asking it about itself, building.

`find_go` and `read_toolchain` are the entry points; `run` is the one way a process starts.
"""

from escape_lens.toolchain.locate import MIN_GO, find_go, read_toolchain
from escape_lens.toolchain.process import run

__all__ = ["MIN_GO", "find_go", "read_toolchain", "run"]
