#!/usr/bin/env bash
# The HTML viewer (kiln dump --format html) in headless Chromium: writes the
# test models and their pages, then check_page.cjs loads each page and
# checks it (no JS errors; scopes open and close; search; detail panel;
# overlays; fused kernels; SVG export; a screenshot's colours), and the
# training dashboard of kiln plot.
# Exit status 77 (CTest: skipped) where Chromium or the npm packages are missing.
#
#   viewer_test.sh KILN VIEWER_TEST_MODELS DIR
set -euo pipefail
kiln=$1 models=$2 dir=$3
here=$(cd "$(dirname "$0")" && pwd)
viewer=$(cd "$here/../../viewer" && pwd)
chromium=$(command -v chromium || true)
if [[ -z $chromium ]]; then
  echo "skipped: chromium is not installed (scripts/setup.sh installs it)"
  exit 77
fi
if [[ ! -d $viewer/node_modules/playwright-core ]]; then
  echo "skipped: viewer/node_modules/playwright-core is missing (scripts/setup.sh installs it)"
  exit 77
fi
rm -rf "$dir"
mkdir -p "$dir"
"$models" "$dir"
"$kiln" dump "$dir/mlp.kiln" --format html -o "$dir/mlp.html"
"$kiln" dump "$dir/mlp.kiln" --format html --memory --batch 16 --profile "$dir/mlp_trace.json" \
  -o "$dir/mlp_compiled.html"
"$kiln" dump "$dir/convnet.kiln" --format html -o "$dir/convnet.html"
"$kiln" dump "$dir/deep_mlp.kiln" --format html -o "$dir/deep_mlp.html"
"$kiln" dump "$dir/chain.kiln" --format html -o "$dir/chain.html"
"$kiln" plot "$dir/sgd_0.01.jsonl" "$dir/sgd_0.1.jsonl" -o "$dir/runs.html"
VIEWER_MODULES="$viewer/node_modules" node "$here/check_page.cjs" "$chromium" "$dir"
