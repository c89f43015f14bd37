#!/usr/bin/env bash
# FBX export and import against the independent readers of ../shared/validators:
#  1. every skinned glTF/GLB character of ../shared/assets is converted to FBX by Rigsmith, then
#     - Blender 5 poses it (three joints, --pose-world) and must agree with our CPU skinning
#       within 1e-4 of the bounding-box diagonal (scripts/blender_pose_compare.py --format fbx);
#     - assimp must list the same bones with the same parents, and the clips;
#     - Autodesk's FBX SDK (FBX2glTF) must find the skin and the clips (fbx_check.mjs);
#  2. Blender writes FBX from the same characters and Rigsmith's import of it, posed, must agree
#     with Blender's own reading of the original (--format blender-fbx).
# Needs ../shared/validators/setup.sh to have run. Usage: scripts/check_fbx.sh [OUT_DIR]
set -uo pipefail
cd "$(dirname "$0")/.."
V="$(pwd)/../shared/validators"; A="$(pwd)/../shared/assets"
. "$V/env.sh"
export RIGSMITH="${RIGSMITH:-${CARGO_TARGET_DIR:-$HOME/.cache/rigsmith-target}/debug/rigsmith}"
OUT="${1:-$(mktemp -d)}"; mkdir -p "$OUT"
fail=0
files=()
for f in "$A"/*/*.glb "$A"/*/*.gltf; do
  case "$f" in *recursiveskeletons*) continue;; esac   # several skins on one skeleton: not a character
  # read the whole report first: `grep -q` closing the pipe early would fail it under pipefail
  report="$("$RIGSMITH" inspect "$f" 2>/dev/null)" || continue
  grep -q "skinned vertices unweighted" <<<"$report" || continue   # skinned characters only
  files+=("$f")
done
echo "== Blender reads Rigsmith's FBX of ${#files[@]} characters, posed:"
"$VALIDATORS_PY" scripts/blender_pose_compare.py --format fbx --export-dir "$OUT/ours" "${files[@]}" || fail=1
mkdir -p "$OUT/ours"
echo "== assimp and the FBX SDK read the same files:"
for f in "$OUT"/ours/*.fbx; do
  python3 scripts/fbx_readers_check.py "$f" || fail=1
done
echo "== Rigsmith reads Blender's FBX of the same characters, posed, against Blender's reading of the original:"
"$VALIDATORS_PY" scripts/blender_pose_compare.py --format blender-fbx --export-dir "$OUT/blender" "${files[@]}" || fail=1
exit $fail
