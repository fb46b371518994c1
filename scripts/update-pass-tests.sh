#!/usr/bin/env bash
# Rewrites the expected outputs of the pass tests from what the passes make
# now: the expected sections of tests/passes/*.txt and the golden listings of
# tests/data/passes/. The numeric checks still run (a pass that changes a
# value fails). Then shows the diff: review it, it is the change in what the
# passes do, and commit it with the change that caused it.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --build --preset release --target kiln_tests
KILN_UPDATE_GOLDEN=1 ./build/kiln_tests "[passes]"
git --no-pager diff --stat -- tests/passes tests/data/passes
git --no-pager diff -- tests/passes tests/data/passes
