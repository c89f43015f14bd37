#!/usr/bin/env bash
# Rig from motion through Blender: a recovered rig written as GLB and as FBX, imported by
# Blender 5, posed at its first, middle and last key, against Rigsmith's playback of the same
# file (scripts/blender_motion_check.py; 1e-4 of the diagonal). Inputs: the bundled fox's Run
# clip, and the Dem Bones sample sequence when ../shared is beside the repository.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
rigsmith="${RIGSMITH:-${CARGO_TARGET_DIR:-$HOME/.cache/rigsmith-target}/debug/rigsmith}"
. "$here/../shared/validators/env.sh"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
inputs=("$here/assets/samples/khronos_fox/Fox.glb|Run|12")
[ -f "$here/../shared/assets/seq_dembones/Bone_All.fbx" ] && inputs+=("$here/../shared/assets/seq_dembones/Bone_All.fbx|0|8")
failed=0
for entry in "${inputs[@]}"; do
  IFS='|' read -r file clip bones <<<"$entry"
  name="$(basename "${file%.*}")"
  for ext in glb fbx; do
    rig="$out/$name.$ext"
    "$rigsmith" rig-from-motion --input "$file" --clip "$clip" --bones "$bones" --output "$rig" 2>&1 | tail -1
    "$rigsmith" rig-from-motion --input "$rig" --frames-out "$out/$name.$ext.played" >/dev/null 2>&1
    if "$VALIDATORS_PY" "$here/scripts/blender_motion_check.py" "$rig" "$out/$name.$ext.played" 2>/dev/null | grep '^{' | sed "s|^|$name.$ext |"; then
      echo "$name.$ext: Blender plays the clip as Rigsmith does"
    else
      echo "$name.$ext: Blender's playback differs (above)"; failed=1
    fi
  done
done
exit $failed
