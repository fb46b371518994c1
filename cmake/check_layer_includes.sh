#!/usr/bin/env bash
# Proves one layer's include path (cmake/layers.cmake): every header of the
# layer's folder preprocesses with it, a header of each layer folder it may
# not use does not, and no source of the layer includes around it with "../".
# usage: check_layer_includes.sh CXX SOURCE_DIR FOLDER LAYER_DIR ALL_FOLDERS FLAGS...
#   LAYER_DIR holds the folders the layer may use; ALL_FOLDERS: comma-separated.
set -uo pipefail
cxx=$1 source_dir=$2 folder=$3 layer_dir=$4 all_folders=$5
shift 5
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
problems=0

# Preprocesses `#include "$1"` with the flags; prints the compiler's errors.
preprocess() {
  printf '#include "%s"\n' "$1" >"$work/check.cpp"
  shift
  "$cxx" -std=c++20 "$@" -E -o /dev/null "$work/check.cpp" 2>&1 >/dev/null
}

for header in "$source_dir/$folder"/*.h; do
  name=$folder/$(basename "$header")
  if ! errors=$(preprocess "$name" "$@"); then
    echo "$name does not build with its layer's include path:"$'\n'"$errors"
    problems=$((problems + 1))
  fi
done

IFS=, read -ra folders <<<"$all_folders"
for other in "${folders[@]}"; do
  [[ -e "$layer_dir/$other" ]] && continue
  headers=("$source_dir/$other"/*.h)
  name=$other/$(basename "${headers[0]}")
  if errors=$(preprocess "$name" "$@"); then
    echo "$folder/ can include $name, a layer it may not use"
    problems=$((problems + 1))
  elif ! grep -q "$name: No such file" <<<"$errors"; then
    echo "including $name failed for another reason than its path:"$'\n'"$errors"
    problems=$((problems + 1))
  fi
done

if grep -n '#[[:space:]]*include[[:space:]]*"\.\./' "$source_dir/$folder"/*; then
  echo "$folder/ includes by a relative path out of its folder (above)"
  problems=$((problems + 1))
fi

echo "$folder/: $problems problem(s); may use: $(ls "$layer_dir" | tr '\n' ' ')"
((problems == 0))
