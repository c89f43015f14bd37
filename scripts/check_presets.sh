#!/usr/bin/env bash
# Naming presets as other programs read them: a humanoid of ../shared/assets, stripped to its
# mesh by `rigsmith rig` (a generated biped), written with each preset as GLB and as FBX and read
# by Blender 5 (../shared/validators/blender_inspect.py). Lists the bones Blender found and checks
# the preset's names and parents (pelvis/hips under the root, spine links, arms under the
# clavicles, hands under the forearms, feet under the shins); the .vrm output must pass the
# Khronos validator with 0 errors and carry every humanoid bone VRM 1.0 requires.
# Usage: scripts/check_presets.sh [CHARACTER.glb] [OUT_DIR]   (needs ../shared/validators/setup.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
V="$(pwd)/../shared/validators"; A="$(pwd)/../shared/assets"
. "$V/env.sh"
RIGSMITH="${RIGSMITH:-${CARGO_TARGET_DIR:-$HOME/.cache/rigsmith-target}/debug/rigsmith}"
IN="${1:-$A/quaternius_char_basecharacter/BaseCharacter.glb}"
OUT="${2:-$(mktemp -d)}"; mkdir -p "$OUT"
fail=0
for preset in mixamo unreal unity vrm; do
  for ext in glb fbx; do
    "$RIGSMITH" rig --input "$IN" --output "$OUT/$preset.$ext" --kind biped --preset "$preset" --force 2>"$OUT/$preset.$ext.log" \
      || { echo "FAIL rig --preset $preset -> .$ext: $(tail -1 "$OUT/$preset.$ext.log")"; fail=1; continue; }
    "$VALIDATORS_PY" "$V/blender_inspect.py" "$OUT/$preset.$ext" --quiet --out "$OUT/$preset.$ext.json" >/dev/null 2>&1 || true
    "$VALIDATORS_PY" - "$preset" "$ext" "$OUT/$preset.$ext.json" <<'PY' || fail=1
import json, sys
preset, ext, path = sys.argv[1:4]
expect = {  # (bone, parent) pairs each preset must show
    "mixamo": [("mixamorig:Spine", "mixamorig:Hips"), ("mixamorig:LeftArm", "mixamorig:LeftShoulder"),
               ("mixamorig:LeftForeArm", "mixamorig:LeftArm"), ("mixamorig:LeftHand", "mixamorig:LeftForeArm"),
               ("mixamorig:RightUpLeg", "mixamorig:Hips"), ("mixamorig:RightFoot", "mixamorig:RightLeg"),
               ("mixamorig:Head", "mixamorig:Neck")],
    "unreal": [("pelvis", "root"), ("spine_01", "pelvis"), ("upperarm_l", "clavicle_l"), ("lowerarm_l", "upperarm_l"),
               ("hand_l", "lowerarm_l"), ("thigh_r", "pelvis"), ("foot_r", "calf_r"), ("head", "neck_01")],
    "unity": [("Spine", "Hips"), ("LeftUpperArm", "LeftShoulder"), ("LeftLowerArm", "LeftUpperArm"),
              ("LeftHand", "LeftLowerArm"), ("RightUpperLeg", "Hips"), ("RightFoot", "RightLowerLeg"), ("Head", "Neck")],
    "vrm": [("spine", "hips"), ("leftUpperArm", "leftShoulder"), ("leftLowerArm", "leftUpperArm"),
            ("leftHand", "leftLowerArm"), ("rightUpperLeg", "hips"), ("rightFoot", "rightLowerLeg"), ("head", "neck")],
}[preset]
try:
    r = json.load(open(path))
except Exception as e:
    print(f"FAIL {preset}.{ext}: Blender could not read it ({e})"); sys.exit(1)
bones = {b["name"]: b["parent"] for a in r.get("armatures", []) for b in a["bones"]}
missing = [(b, p) for b, p in expect if bones.get(b, "<absent>") != p]
print(f"{'FAIL' if missing else 'ok  '} {preset:6s} .{ext}: Blender shows {len(bones)} bones: {', '.join(sorted(bones))}")
for b, p in missing:
    print(f"     expected {b} under {p}, Blender has {bones.get(b, '<absent>')}")
sys.exit(1 if missing else 0)
PY
  done
done
# The VRM file: cp to .glb for the validator, then the VRMC_vrm humanoid.
"$RIGSMITH" rig --input "$IN" --output "$OUT/character.vrm" --kind biped --preset vrm --force 2>/dev/null || { echo "FAIL rig -> .vrm"; fail=1; }
cp "$OUT/character.vrm" "$OUT/character_vrm.glb"
node "$V/validate_gltf.mjs" "$OUT/character_vrm.glb" > "$OUT/vrm_validator.txt" 2>&1 || { echo "FAIL: the validator reports errors in the .vrm"; cat "$OUT/vrm_validator.txt"; fail=1; }
grep -o 'numErrors=[0-9]*.*' "$OUT/vrm_validator.txt" | head -1
"$VALIDATORS_PY" - "$OUT/character.vrm" <<'PY' || fail=1
import json, struct, sys
data = open(sys.argv[1], "rb").read()
n = struct.unpack("<I", data[12:16])[0]
doc = json.loads(data[20:20 + n])
bones = doc["extensions"]["VRMC_vrm"]["humanoid"]["humanBones"]
required = ["hips", "spine", "head", "leftUpperArm", "leftLowerArm", "leftHand", "rightUpperArm", "rightLowerArm",
            "rightHand", "leftUpperLeg", "leftLowerLeg", "leftFoot", "rightUpperLeg", "rightLowerLeg", "rightFoot"]
absent = [b for b in required if b not in bones]
print(f"{'FAIL' if absent else 'ok  '} .vrm: VRMC_vrm names {len(bones)} humanoid bones ({', '.join(sorted(bones))})" + (f"; missing {absent}" if absent else ""))
sys.exit(1 if absent else 0)
PY
exit $fail
