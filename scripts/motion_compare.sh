#!/usr/bin/env bash
# Rig from motion side by side with Dem Bones (py-dem-bones) on the same frames.
#
#   scripts/motion_compare.sh [RIGSMITH] [PYTHON] [OUT_DIR] [BONES...]
#
# RIGSMITH: the rigsmith binary (default: target/release/rigsmith, else the dev build);
# PYTHON: a Python with numpy and py-dem-bones (python3 -m venv V && V/bin/pip install
# py-dem-bones numpy); OUT_DIR: where frames and JSON go (default /tmp/rigsmith-motion).
# BONES: bone counts to compare (default 10 20). Each sequence is baked once by Rigsmith
# (--frames-out), then both solvers run on it one after the other, alone, with 4 influences
# and 30 iterations; Dem Bones once with the first frame as its rest pose and once with the
# file's bind pose, the better kept. Prints a Markdown table: RMSE in % of the first frame's bounding-box
# diagonal, solve time in seconds (reading files not included), for both.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$HOME/.cache/rigsmith-target}"
rigsmith="${1:-$target/release/rigsmith}"
[ -x "$rigsmith" ] || rigsmith="$target/debug/rigsmith"
python="${2:-python3}"
out="${3:-/tmp/rigsmith-motion}"
shift $(( $# > 3 ? 3 : $# ))
bones=("$@")
[ ${#bones[@]} -gt 0 ] || bones=(10 20)
assets="$here/../shared/assets"
[ -d "$assets" ] || { echo "skipped: ../shared/assets is not beside the repository"; exit 0; }
mkdir -p "$out"

# name | file | clip. SET=dev (default): the sequences the solver was tuned on; SET=heldout:
# characters of ../shared/assets/train and creature seeds it never saw while tuned.
train="$assets/train"
heldout=(
  "T-rex run|$train/quaternius_dino_trex/Trex.glb|Armature|TRex_Run"
  "Spider walk|$train/quaternius_enemy_spider/Spider.glb|SpiderArmature|Spider_Walk"
  "Sophia run|$train/gdquest_sophia/sophia.glb|Run"
  "Shark swim|$train/quaternius_fish_shark/Shark.glb|Armature|Swim"
  "George dance|$train/quaternius_mech_george/George.glb|Dance"
  "creature 100|$out/creatures/creature_100.glb|0"
  "creature 101|$out/creatures/creature_101.glb|0"
)
sequences=(
  "dembones Bone_All|$assets/seq_dembones/Bone_All.fbx|0"
  "CesiumMan walk|$assets/khronos_cesiumman/CesiumMan.glb|0"
  "BaseCharacter death|$assets/quaternius_char_basecharacter/BaseCharacter.glb|Death"
  "Knight chop|$assets/kaykit_knight/Knight.glb|1H_Melee_Attack_Chop"
  "Fox run|$assets/khronos_fox/Fox.glb|Run"
  "Husky gallop|$assets/quaternius_animal_husky/Husky.glb|Gallop"
  "Alpaca gallop jump|$assets/quaternius_animal_alpaca/Alpaca.glb|Gallop_Jump"
  "Dragon flying|$assets/quaternius_monster_flying_dragon_evolved/Dragon_Evolved.glb|Fast_Flying"
  "creature 7|$out/creatures/creature_7.glb|0"
  "creature 8|$out/creatures/creature_8.glb|0"
)
"$rigsmith" creatures --output "$out/creatures" --count 2 --seed 7 --motion-frames 60 >/dev/null 2>&1
"$rigsmith" creatures --output "$out/creatures" --count 2 --seed 100 --motion-frames 60 >/dev/null 2>&1
[ "${SET:-dev}" = heldout ] && sequences=("${heldout[@]}")

field() { "$python" -c "import json,sys; d=json.load(open(sys.argv[1])); v=d.get(sys.argv[2]); print('-' if v is None else (f'{v:.4f}' if isinstance(v,float) else v))" "$1" "$2"; }

echo "| sequence | vertices | frames | bones | Rigsmith free RMSE % | Rigsmith skeleton RMSE % | Rigsmith s | Dem Bones RMSE % | Dem Bones bones | Dem Bones rest | Dem Bones s |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for entry in "${sequences[@]}"; do
  name="${entry%%|*}"; rest="${entry#*|}"; file="${rest%%|*}"; clip="${rest#*|}"
  slug="$(echo "$name" | tr ' ' '_')"
  for b in "${bones[@]}"; do
    rs="$out/$slug.$b.rigsmith.json"
    db="$out/$slug.$b.dembones.json"
    frames_arg=()
    [ -d "$out/$slug.frames" ] || frames_arg=(--frames-out "$out/$slug.frames")
    "$rigsmith" rig-from-motion --input "$file" --clip "$clip" --bones "$b" --output "$out/$slug.$b.glb" --json "${frames_arg[@]}" >"$rs" 2>"$out/$slug.$b.log"
    "$python" "$here/scripts/dembones_baseline.py" "$out/$slug.frames" "$b" >"$db" 2>>"$out/$slug.$b.log"
    echo "| $name | $(field "$rs" vertices) | $(field "$rs" frames) | $b | $(field "$rs" free_rmse_percent) | $(field "$rs" skeleton_rmse_percent) | $(field "$rs" seconds) | $(field "$db" rmse_percent) | $(field "$db" bones_used) | $(field "$db" rest | sed 's|.*/bind/.*|bind pose|') | $(field "$db" seconds) |"
  done
done
