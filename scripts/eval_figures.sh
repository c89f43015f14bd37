#!/usr/bin/env bash
# Prints every figure of the README's "How good is it" table, one named line each.
#
#   scripts/eval_figures.sh ASSETS [OUT]
#
# ASSETS holds one folder per character (the 28 evaluation characters listed below; in this
# repository's CI they are ../shared/assets). OUT (default /tmp/rigsmith-eval) receives the
# rigs. RIGSMITH names the binary (default: the dev build in $CARGO_TARGET_DIR); VALIDATORS_PY,
# a Python with Blender 5's bpy, adds Blender's automatic weights as the baseline.
set -euo pipefail
ASSETS="${1:?usage: scripts/eval_figures.sh ASSETS [OUT]}"
OUT="${2:-/tmp/rigsmith-eval}"
cd "$(dirname "$0")/.."
R="${RIGSMITH:-${CARGO_TARGET_DIR:-$HOME/.cache/rigsmith-target}/debug/rigsmith}"
CHARACTERS="gdquest_gdbot godot_left_hand godot_mannequiny godot_platformer_enemy godot_platformer_robot
kaykit_barbarian kaykit_knight kenney_mini_character khronos_cesiumman khronos_fox
khronos_riggedfigure khronos_riggedsimple khronos_simpleskin quaternius_animal_alpaca
quaternius_animal_cow quaternius_animal_deer quaternius_animal_fox quaternius_animal_husky
quaternius_char_basecharacter quaternius_char_casual_female quaternius_char_goblin_male
quaternius_monster_big_alien quaternius_monster_big_dino quaternius_monster_blob_greenspikyblob
quaternius_monster_flying_armabee quaternius_monster_flying_dragon_evolved
quaternius_monster_flying_ghost threejs_simpleskinning"
rm -rf "$OUT" && mkdir -p "$OUT/in"
for n in $CHARACTERS; do ln -sfn "$(realpath "$ASSETS/$n")" "$OUT/in/$n"; done
# The MEAN line of `rigsmith eval` (and the baseline's after it): name, then the figures.
# Columns: prec recall L1 pose% J2J J2B B2B in% unwt.
skin() { awk -v n="$1" -v b="$2" '/^MEAN/ {m=1; printf "%s: %s / %s / %s / %s %%\n", n, $(NF-8), $(NF-7), $(NF-6), $(NF-5); next}
  m==1 && b!="" {printf "%s: %s / %s / %s / %s %%\n", b, $(NF-8), $(NF-7), $(NF-6), $(NF-5)} {m=0}'; }
skeleton() { awk -v n="$1" '/^MEAN/ {printf "%s: %s / %s / %s; %s %% inside\n", n, $(NF-4), $(NF-3), $(NF-2), $(NF-1)}'; }

"$R" rig --input "$OUT/in" --output "$OUT/geo_keep" --use-skeleton 2>/dev/null
if [ -n "${VALIDATORS_PY:-}" ] && [ -x "${VALIDATORS_PY}" ]; then
  RIGSMITH="$R" "$VALIDATORS_PY" scripts/blender_autoweights.py --input "$OUT/in" --output "$OUT/blender" >/dev/null 2>&1
  "$R" eval --pred "$OUT/geo_keep" --truth "$OUT/in" --baseline "$OUT/blender" | skin "geometric skin" "blender skin"
else
  "$R" eval --pred "$OUT/geo_keep" --truth "$OUT/in" | skin "geometric skin" ""
  echo "blender skin: not measured (set VALIDATORS_PY to a Python with Blender 5's bpy)"
fi
"$R" rig --input "$OUT/in" --output "$OUT/geo_bare" 2>/dev/null
"$R" eval --pred "$OUT/geo_bare" --truth "$OUT/in" | skeleton "geometric skeleton"
"$R" rig --input "$OUT/in" --output "$OUT/learned_keep" --use-skeleton --method learned --backend cpu 2>/dev/null
"$R" eval --pred "$OUT/learned_keep" --truth "$OUT/in" | skin "learned skin" ""
"$R" rig --input "$OUT/in" --output "$OUT/learned_bare" --method learned --backend cpu 2>/dev/null
"$R" eval --pred "$OUT/learned_bare" --truth "$OUT/in" | skeleton "learned skeleton"

# Skinning speed: the Khronos fox subdivided to 88,128 vertices (22 deforming joints), twice.
# (Blender's bone heat finds no solution on the Quaternius animals and leaves every vertex
# unweighted, so they cannot be timed against it.)
FOX="$ASSETS/khronos_fox/Fox.glb"
mkdir -p "$OUT/speed/fox"
"$R" bench make --input "$FOX" --vertices 50000 --out "$OUT/speed/fox/Fox.glb" >/dev/null
for run in 1 2; do
  "$R" bench skin --input "$OUT/speed/fox/Fox.glb" --vertices 0 | awk -v run="$run" '/^\(target/ {for (i = 1; i < NF; i++) if ($i == "skin:") s = $(i+1); for (i = 1; i < NF; i++) if ($i == "for") v = $(i+1)}
    /re-skin after/ {for (i = 1; i < NF; i++) if ($i ~ /^[0-9.]+$/ && $(i+1) ~ /^s/) {r = $i; break}}
    END {printf "skin speed (run %s, %s vertices): %s s whole skin, %s s re-skin after moving one joint\n", run, v, s, r}'
done
if [ -n "${VALIDATORS_PY:-}" ] && [ -x "${VALIDATORS_PY}" ]; then
  for run in 1 2; do
    RIGSMITH="$R" "$VALIDATORS_PY" scripts/blender_autoweights.py --input "$OUT/speed" --output "$OUT/speed_blender" 2>&1 | grep -E "^(ok|FAIL)" | sed "s/^/skin speed (Blender, run $run): /"
  done
fi
