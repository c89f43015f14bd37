#!/usr/bin/env bash
# The editor's export after a joint move, read by Blender: opens the bundled Fox in the real
# editor (under xvfb-run when there is no display), moves one joint, re-skins, exports GLB and
# FBX, and checks that Blender 5 puts the moved joint's head where the editor put it (within
# 1e-4 of the mesh's diagonal). Needs ../shared/validators/setup.sh to have run.
# Usage: scripts/check_editor_export.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
V="$(pwd)/../shared/validators"
RIGSMITH="${RIGSMITH:-${CARGO_TARGET_DIR:-$HOME/.cache/rigsmith-target}/debug/rigsmith}"
. "$V/env.sh"
OUT="${1:-$(mktemp -d)}"; mkdir -p "$OUT"
FOX=assets/samples/khronos_fox/Fox.glb
JOINT=b_LeftForeArm_010
RUN=("$RIGSMITH" edit "$FOX" --do "nudge $JOINT 3 -2 4" --do reskin --do "export $OUT/moved.glb" --do "export $OUT/moved.fbx" --do quit)
export RIGSMITH_RECOVERY_DIR="$OUT/recovery"
if [ -n "${DISPLAY:-}" ]; then "${RUN[@]}" >"$OUT/editor.log" 2>&1; else xvfb-run -a -s "-screen 0 1280x800x24" "${RUN[@]}" >"$OUT/editor.log" 2>&1; fi
"$RIGSMITH" inspect "$OUT/moved.glb" --json > "$OUT/rigsmith.json"
fail=0
for ext in glb fbx; do
  "$VALIDATORS_PY" "$V/blender_inspect.py" "$OUT/moved.$ext" --yup > "$OUT/blender_$ext.json" 2>/dev/null || { echo "FAIL: Blender could not import moved.$ext"; fail=1; continue; }
  python3 - "$OUT/rigsmith.json" "$OUT/blender_$ext.json" "$JOINT" "$ext" <<'PY' || fail=1
import json, math, sys
ours, theirs, joint, ext = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3], sys.argv[4]
editor = next(j["bind_position"] for j in ours["skeleton"] if j["name"] == joint)
heads = [b["head"] for a in theirs["armatures"] for b in a["bones"] if b["name"] == joint]
diag = math.sqrt(sum(s * s for s in ours["bounds_size"]))
err = min(math.dist(h, editor) for h in heads) / diag if heads else float("inf")
print(f"{ext}: editor puts {joint} at {[round(x, 4) for x in editor]}, Blender at {[round(x, 4) for x in heads[0]] if heads else None}: {err:.1e} x diagonal")
sys.exit(0 if err <= 1e-4 else 1)
PY
done
exit $fail
