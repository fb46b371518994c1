#!/usr/bin/env bash
# Proves one layer links downward only (cmake/layers.cmake): every kiln
# symbol that the archives of the layer and of what it links use is defined
# among those archives, so nothing calls a layer above; with LLVM forbidden,
# no linked target is LLVM and no symbol they use from outside is LLVM's
# (llvm::Value * as an opaque handle in a signature is no use of LLVM).
# usage: check_layer_symbols.sh NM TARGETS FORBID ALLOW ARCHIVE...
#   TARGETS: the layer's link closure, comma-separated; FORBID: "LLVM" or "";
#   ALLOW: one symbol that may stay undefined, or "".
set -euo pipefail
export LC_ALL=C
nm=$1 targets=$2 forbid=$3 allow=$4
shift 4
symbols() { "$nm" -C -j "$@" | { grep -v -e '^$' -e '\.o:$' || true; } | sort -u; }
defined=$(symbols --defined-only "$@")
undefined=$(symbols --undefined-only "$@")
problems=0

external=$(comm -23 <(echo "$undefined") <(echo "$defined"))
missing=$(grep 'kiln' <<<"$external" || true)
[[ -n "$allow" ]] && missing=$(grep -vxF "$allow" <<<"$missing" || true)
if [[ -n "$missing" ]]; then
  echo "uses kiln symbols defined in no library it links:"$'\n'"$missing"
  problems=$((problems + 1))
fi

if [[ "$forbid" == LLVM ]]; then
  if grep -qE '(^|,)LLVM' <<<"$targets"; then
    echo "links LLVM (its link closure: $targets)"
    problems=$((problems + 1))
  fi
  llvm=$(grep -E '(^|[^[:alnum:]_])llvm::|^LLVM' <<<"$external" | head -5 || true)
  if [[ -n "$llvm" ]]; then
    echo "uses llvm:: symbols, e.g.:"$'\n'"$llvm"
    problems=$((problems + 1))
  fi
fi

echo "links $targets: $problems problem(s)"
((problems == 0))
