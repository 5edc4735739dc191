#!/usr/bin/env bash
# mypy --strict over the tests, one directory at a time: test directories are not packages (pytest
# puts each on sys.path, so helpers such as client_sim are imported by their bare names), and each
# has its own conftest.py, which one mypy run would see as a duplicate module.
set -euo pipefail
cd "$(dirname "$0")/.."
MYPY=${MYPY:-.venv/bin/mypy}
status=0
while IFS= read -r dir; do
  files=("$dir"/*.py)
  MYPYPATH="src:$dir" "$MYPY" --strict "${files[@]}" || status=1
done < <(find tests -name '*.py' -printf '%h\n' | sort -u)
exit $status
