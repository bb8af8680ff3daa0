"""Write the GraphQL schema to docs/schema.graphql, or check that the checked-in file is current.

python -m api.graphql.export            # (re)write docs/schema.graphql
python -m api.graphql.export --check    # exit 1, saying so, when docs/schema.graphql differs
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from api.graphql.schema import schema_sdl

DEFAULT = Path(__file__).resolve().parents[2] / "docs" / "schema.graphql"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m api.graphql.export", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing; exit 1 on a difference")
    parser.add_argument("--out", type=Path, default=DEFAULT, help=f"file to write or check (default {DEFAULT})")
    args = parser.parse_args(argv)
    sdl = schema_sdl()
    if args.check:
        current = args.out.read_text() if args.out.exists() else ""
        if current != sdl:
            print(f"{args.out} is not the current schema; run `python -m api.graphql.export` and commit it")
            return 1
        print(f"{args.out} is current")
        return 0
    args.out.write_text(sdl)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
