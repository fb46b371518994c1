#!/usr/bin/env bash
# check_aot_binary.sh NM READELF BINARY: a program built on an ahead-of-time
# compiled model links no LLVM, by symbol or by shared library. Prints the
# binary's size and the shared libraries it needs.
set -euo pipefail
nm=$1 readelf=$2 binary=$3
needed=$("$readelf" -d "$binary" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
echo "$binary: $(stat -c %s "$binary") bytes; needs: $needed"
# Code or data of LLVM's (kiln functions merely naming llvm:: types in their
# signatures are the one thing allowed: there are none in a runtime binary).
listing=$("$nm" -C "$binary") # fails the check if nm cannot read it
symbols=$(grep -E ' [A-Za-z] llvm::| U .*llvm' <<<"$listing" | head -5 || true)
if [[ -n "$symbols" ]]; then
  echo "FAIL: uses LLVM:"
  echo "$symbols"
  exit 1
fi
if grep -qi llvm <<<"$needed"; then
  echo "FAIL: links LLVM: $needed"
  exit 1
fi
echo "no LLVM"
