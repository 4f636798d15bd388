#!/usr/bin/env python3
"""Generate escape_lens/profile/pprof_pb2.py (and .pyi) from escape_lens/profile/pprof.proto.

The heap-profile reader (escape_lens/profile/reader.py) parses pprof files with the
`protobuf` package; the message definitions are the few pprof fields it reads, written
from the documented format, and compiled with the `protoc` of the `grpcio-tools` wheel
(the `dev` extra). The generated modules are checked in so that users need only the
`protobuf` runtime; `--check` fails when they are not what the .proto gives.

    python tools/gen_pprof_proto.py            # regenerate
    python tools/gen_pprof_proto.py --check    # exit 1 if the checked-in modules are stale
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "escape_lens" / "profile"
PROTO = "pprof.proto"
OUTPUTS = ("pprof_pb2.py", "pprof_pb2.pyi")


def generate(out_dir: Path) -> None:
    try:
        from grpc_tools import protoc
    except ModuleNotFoundError:
        sys.exit("gen_pprof_proto: needs grpcio-tools: pip install -e '.[dev]'")
    status = protoc.main(
        ["protoc", f"-I{PACKAGE}", f"--python_out={out_dir}", f"--pyi_out={out_dir}", PROTO]
    )
    if status != 0:
        sys.exit(f"gen_pprof_proto: protoc failed ({status})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the modules are stale")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp))
        stale = [
            name
            for name in OUTPUTS
            if not (PACKAGE / name).is_file()
            or (PACKAGE / name).read_bytes() != (Path(tmp) / name).read_bytes()
        ]
        if args.check:
            for name in stale:
                print(f"escape_lens/profile/{name} is stale: run tools/gen_pprof_proto.py")
            return 1 if stale else 0
        for name in OUTPUTS:
            (PACKAGE / name).write_bytes((Path(tmp) / name).read_bytes())
    return 0


if __name__ == "__main__":
    sys.exit(main())
