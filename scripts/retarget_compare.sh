#!/usr/bin/env bash
# End-effector path error of retargeted clips (hands, feet, head; % of height) for source/target
# pairs of ../shared/assets: `rigsmith retarget --json` (corrected) next to the plain copy of the
# channels onto the joints paired by name, in % of height (from the ground under the hips) and in
# % of limb length (from the limb's root). Prints one row per clip and a mean per pair
# (SUMMARY=1: the means only).
# Usage: scripts/retarget_compare.sh   (RIGSMITH: the binary; default $CARGO_TARGET_DIR/debug/rigsmith)
set -euo pipefail
cd "$(dirname "$0")/.."
A="$(pwd)/../shared/assets"
RIGSMITH="${RIGSMITH:-${CARGO_TARGET_DIR:-$HOME/.cache/rigsmith-target}/debug/rigsmith}"
PAIRS=(
  "quaternius_char_basecharacter/BaseCharacter.glb kaykit_knight/Knight.glb"
  "kaykit_knight/Knight.glb quaternius_char_basecharacter/BaseCharacter.glb"
  "godot_mannequiny/mannequiny.glb gdquest_gdbot/gdbot.glb"
  "gdquest_gdbot/gdbot.glb godot_mannequiny/mannequiny.glb"
  "threejs_robotexpressive/RobotExpressive.glb godot_mannequiny/mannequiny.glb"
  "godot_mannequiny/mannequiny.glb threejs_robotexpressive/RobotExpressive.glb"
  "quaternius_char_basecharacter/BaseCharacter.glb gdquest_gdbot/gdbot.glb"
  "kaykit_knight/Knight.glb threejs_robotexpressive/RobotExpressive.glb"
)
printf '%-22s %-22s %-28s %9s %9s %9s %9s\n' source target clip 'height:' copy 'limb:' copy
for pair in "${PAIRS[@]}"; do
  set -- $pair
  if ! json=$("$RIGSMITH" retarget --clip "$A/$1" --rig "$A/$2" --json 2>/tmp/retarget_err); then
    printf '%-34s %-30s refused: %s\n' "$(basename "$1")" "$(basename "$2")" "$(tail -1 /tmp/retarget_err)"
    continue
  fi
  RJSON="$json" python3 - "$1" "$2" <<'PY'
import json, os, sys
src, dst = (os.path.basename(p) for p in sys.argv[1:3])
r = json.loads(os.environ["RJSON"])
nan = float("nan")
def get(c, key, field):
    v = c[key]
    return v[field] if v and v[field] is not None else nan
def mean(xs):
    xs = [x for x in xs if x == x]
    return sum(xs) / len(xs) if xs else nan
cols = [("path_error_percent", "mean"), ("copy_path_error_percent", "mean"), ("path_error_percent", "limb_mean"), ("copy_path_error_percent", "limb_mean")]
quiet = os.environ.get("SUMMARY") == "1"
for c in r["clips"]:
    if not quiet:
        print(f"{src:22s} {dst:22s} {c['name'][:28]:28s} " + " ".join(f"{get(c, k, f):9.2f}" for k, f in cols))
means = [mean([get(c, k, f) for c in r["clips"]]) for k, f in cols]
print(f"{src:22s} {dst:22s} {'mean of %d clips' % len(r['clips']):28s} " + " ".join(f"{m:9.2f}" for m in means) + f"   ({len(r['pairs'])} joints paired)")
PY
done
