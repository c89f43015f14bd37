#!/usr/bin/env bash
# Which humanoids the biped template fits, and how many fingers it finds on each hand.
#
#   scripts/biped_fits.sh ASSETS [EXTRA.glb ...]
#
# ASSETS is ../shared/assets (the humanoids among it and its train/ folder are listed below);
# EXTRA files (re-posed or stretched copies, see docs/biped.md) are tried as well. Prints one line per file: the path,
# FITS or the reason the template refuses, and the fingers found on the left and right hand.
# RIGSMITH names the binary (default: the dev build in $CARGO_TARGET_DIR).
set -uo pipefail
ASSETS="${1:?usage: scripts/biped_fits.sh ASSETS [EXTRA.glb ...]}"
shift
cd "$(dirname "$0")/.."
R="${RIGSMITH:-${CARGO_TARGET_DIR:-$HOME/.cache/rigsmith-target}/debug/rigsmith}"
HUMANOIDS="khronos_cesiumman/CesiumMan.glb khronos_riggedfigure/RiggedFigure.glb godot_mannequiny/mannequiny.glb
godot_platformer_robot/player.glb gdquest_gdbot/gdbot.glb quaternius_char_basecharacter/BaseCharacter.glb
quaternius_char_casual_female/Casual_Female.glb quaternius_char_goblin_male/Goblin_Male.glb
quaternius_monster_big_alien/Alien.glb kaykit_knight/Knight.glb kaykit_barbarian/Barbarian.glb
kenney_mini_character/player.glb threejs_robotexpressive/RobotExpressive.glb train/gdquest_gobot/gobot.glb
train/gdquest_sophia/sophia.glb train/kaykit_mannequin_large/Mannequin_Large.glb
train/kaykit_mannequin_medium/Mannequin_Medium.glb train/kaykit_ranger_v2/Ranger.glb
train/quaternius_cyberpunk_character/Character.glb train/quaternius_knight_character/KnightCharacter.glb
train/quaternius_modular_men_adventurer/Adventurer.glb train/quaternius_modular_men_beach/Beach.glb
train/quaternius_modular_men_king/King.glb train/quaternius_modular_men_spacesuit/Spacesuit.glb
train/quaternius_modular_men_suit/Suit.glb train/quaternius_modular_men_swat/Swat.glb
train/quaternius_modular_women_formal/Formal.glb train/quaternius_modular_women_scifi/SciFi.glb
train/quaternius_modular_women_suit/Suit.glb train/quaternius_platformer_character/Character.glb
train/quaternius_space_astronaut_redpanda/Astronaut_RaeTheRedPanda.glb train/quaternius_mech_george/George.glb
train/quaternius_mech_mike/Mike.glb train/quaternius_mech_stan/Stan.glb"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
fingers() {
  python3 - "$1" <<'PY'
import json, struct, sys
b = open(sys.argv[1], 'rb').read()
d = json.loads(b[20:20 + struct.unpack('<I', b[12:16])[0]])
names = [n.get('name', '') for n in d['nodes']]
digit = lambda n, s: n.endswith(s) and n.split('_')[0] in ('thumb', 'index', 'middle', 'ring', 'pinky')
print(sum(digit(n, '_l') for n in names) // 3, sum(digit(n, '_r') for n in names) // 3)
PY
}
fits=0; total=0
for f in $(for h in $HUMANOIDS; do echo "$ASSETS/$h"; done) "$@"; do
  total=$((total + 1))
  msg=$("$R" rig --input "$f" --output "$OUT/o.glb" --kind biped 2>&1 | grep -E "^error" | sed 's/.*does not fit: //; s/; try the generic kind//')
  if [ -z "$msg" ] && [ -f "$OUT/o.glb" ]; then
    fits=$((fits + 1)); echo "$f | FITS | fingers $(fingers "$OUT/o.glb")"
  else
    echo "$f | $msg"
  fi
  rm -f "$OUT/o.glb"
done
echo "fits $fits of $total"
