#!/usr/bin/env bash
# check_readme_program.sh README PROGRAM: the first ```cpp block after the
# heading "## A first program" in README must be PROGRAM, byte for byte.
set -euo pipefail
block=$(awk '/^## A first program/ { section = 1 }
             section && /^```cpp$/ { inside = 1; next }
             inside && /^```$/ { exit }
             inside { print }' "$1")
if ! diff <(printf '%s\n' "$block") "$2"; then
  echo "README's first program differs from $2 (above: < README, > file)" >&2
  exit 1
fi
echo "README's first program is $2"
