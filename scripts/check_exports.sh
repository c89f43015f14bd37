#!/usr/bin/env bash
# Converts every glTF/GLB of ../shared/assets with `rigsmith convert`, checks each output with
# the Khronos glTF validator (0 errors required), and poses five characters in Blender and in
# Rigsmith (vertices must agree within 1e-4 of the bounding-box diagonal).
# Needs ../shared/validators/setup.sh to have run. Usage: scripts/check_exports.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
V="$(pwd)/../shared/validators"; A="$(pwd)/../shared/assets"
. "$V/env.sh"
RIGSMITH="${RIGSMITH:-${CARGO_TARGET_DIR:-$HOME/.cache/rigsmith-target}/debug/rigsmith}"
OUT="${1:-$(mktemp -d)}"; mkdir -p "$OUT"
fail=0
for f in "$A"/*/*.glb "$A"/*/*.gltf; do
  name="$(basename "$(dirname "$f")")"
  "$RIGSMITH" convert "$f" "$OUT/$name.glb" 2>/dev/null || { echo "FAIL convert $f"; fail=1; }
done
echo "Khronos glTF validator on $(ls "$OUT"/*.glb | wc -l) exported files:"
node "$V/validate_gltf.mjs" "$OUT"/*.glb > "$OUT/validator.txt" 2>&1 || { echo "FAIL: validator reported errors"; fail=1; }
grep -o 'numErrors=[0-9]*' "$OUT/validator.txt" | sort | uniq -c
echo "Blender 5 vs Rigsmith CPU skinning, posed:"
RIGSMITH="$RIGSMITH" "$VALIDATORS_PY" scripts/blender_pose_compare.py --export-dir "$OUT/blender" \
  "$A/khronos_cesiumman/CesiumMan.glb" "$A/khronos_fox/Fox.glb" "$A/godot_mannequiny/mannequiny.glb" \
  "$A/quaternius_animal_husky/Husky.glb" "$A/kaykit_knight/Knight.glb" || fail=1
# Blender reads each GLB Rigsmith writes as it reads the input (bones, parents, rest and posed
# vertices within 1e-4 of the diagonal, every artist influence): the top-level characters and
# ten train/ characters whose armature node carries a scale. Left out, failing:
# RecursiveSkeletons (84 skins over different joint sets; Blender's reading of the input is
# 0.33 of the diagonal from the glTF rules, scripts/spec_roundtrip.py settles it) and
# RobotExpressive (752 vertices whose weights do not sum to 1: Rigsmith renormalises them).
# Instances bound under joints of different scales: the FBX's bind matrices stay rigid, so
# Blender (which drops their scale) poses it as Rigsmith does.
echo "Blender 5 vs Rigsmith CPU skinning, posed, FBX of RecursiveSkeletons:"
RIGSMITH="$RIGSMITH" "$VALIDATORS_PY" scripts/blender_pose_compare.py --format fbx --export-dir "$OUT/blender" \
  "$A/khronos_recursiveskeletons/RecursiveSkeletons.glb" || fail=1
echo "Blender reads Rigsmith's GLB as it reads the input:"
same=()
for f in "$A"/*/*.glb "$A"/*/*.gltf; do
  case "$f" in */face/*|*/seq_dembones/*|*/rignet_format_samples/*|*RecursiveSkeletons*|*RobotExpressive*) continue;; esac
  same+=("$f")
done
for n in quaternius_cutefish_anglerfish/Anglerfish quaternius_cyberpunk_character/Character quaternius_dino_trex/Trex \
         quaternius_enemy_rat/Rat quaternius_fish_dolphin/Dolphin quaternius_knight_character/KnightCharacter \
         quaternius_modular_men_adventurer/Adventurer quaternius_modular_women_formal/Formal \
         quaternius_platformer_bee/Bee quaternius_tank/Tank; do
  same+=("$A/train/$n.glb")
done
RIGSMITH="$RIGSMITH" "$VALIDATORS_PY" scripts/blender_roundtrip_compare.py --format glb --export-dir "$OUT/roundtrip" "${same[@]}" | cut -c1-140 || fail=1
exit $fail
