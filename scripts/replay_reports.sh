#!/usr/bin/env bash
# Replays what a new user ran into with the editor and the command line, and prints what
# Rigsmith does now: exit codes, messages, and screenshots to look at.
#
#   scripts/replay_reports.sh [OUT]
#
# OUT (default /tmp/rigsmith-replay) receives the files and screenshots. Needs the dev build
# (or RIGSMITH), xvfb-run and xdotool for the editor; ../shared/assets and VALIDATORS_PY (a
# Python with Blender 5's bpy) for the parts that use the evaluation characters and Blender.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-/tmp/rigsmith-replay}"
# The tests it runs build where the dev build is (not a second target in the repository).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/rigsmith-target}"
R="${RIGSMITH:-$CARGO_TARGET_DIR/debug/rigsmith}"
ASSETS="${RIGSMITH_SHARED_ASSETS:-../shared/assets}"
FOX=assets/samples/khronos_fox/Fox.glb
rm -rf "$OUT" && mkdir -p "$OUT"
export RIGSMITH_RECOVERY_DIR="$OUT/recovery"
section() { echo; echo "== $*"; }
# Runs a command, prints its stderr's first lines and its exit code.
show() {
  "$@" >"$OUT/stdout" 2>"$OUT/stderr"
  local rc=$?
  grep -v '^\s*[a-z ]* ([0-9]* %)$' "$OUT/stderr" | grep -vE 'WARN|INFO|XDG_RUNTIME' | head -6 | sed 's/^/   | /'
  echo "   exit $rc"
}
in_x() { xvfb-run -a -s "-screen 0 1280x800x24" "$@"; }

section "1. the editor without a display: one error line, exit 1"
show env -u DISPLAY -u WAYLAND_DISPLAY "$R" edit "$FOX"

section "2. no desktop file dialog: the in-window browser (screenshot)"
RIGSMITH_FILE_DIALOG=builtin show in_x "$R" edit "$FOX" --do "sleep 3000" --do "dialog export" --do "wait 10" \
  --do "screenshot $OUT/2-file-browser.png" --do quit
echo "   look at $OUT/2-file-browser.png"

section "3. a click on a joint's row in the tree selects it (xdotool clicks the name b_Spine02_03)"
in_x sh -c "'$R' edit '$FOX' --do 'sleep 7000' --do 'wait 5' --do 'screenshot $OUT/3-tree-click.png' --do quit & \
  sleep 5; xdotool mousemove 140 196 click 1; wait" >/dev/null 2>&1
echo "   look at $OUT/3-tree-click.png (the row is highlighted, the Joint panel shows b_Spine02_03)"

section "4. rig health on the artists' rigs and on rigs broken on purpose"
cargo test --test health -- --nocapture --test-threads 1 2>&1 | grep -E "rigs, [0-9]+ findings|^test .*(found|findings)|test result" | sed 's/^/   | /'

section "5. messages"
echo " a missing file (its cause once):"
show "$R" inspect /nope/x.glb
echo " --output naming an existing folder (the rig lands there as NAME.glb):"
mkdir -p "$OUT/outdir"
show "$R" rig --input "$FOX" --output "$OUT/outdir" --use-skeleton
ls "$OUT/outdir" | sed 's/^/   | /'
echo " eval of a folder that does not exist:"
show "$R" eval --pred /nope --truth "$FOX"
echo " a scripted editor step that fails:"
show in_x "$R" edit "$FOX" --do "select no_such_joint" --do quit
echo " --max-influences 0:"
show "$R" convert "$FOX" "$OUT/x.glb" --max-influences 0

section "6. nothing dropped silently"
echo " rig on a rigged file says what it replaces:"
show "$R" rig --input "$FOX" --output "$OUT/fox_generated.glb"
if [ -d "$ASSETS/godot_mannequiny" ]; then
  echo " --keep-clips plays the file's clips on the generated skeleton:"
  show "$R" rig --input "$ASSETS/godot_mannequiny/mannequiny.glb" --output "$OUT/mannequiny_generated.glb" --keep-clips
  "$R" inspect "$OUT/mannequiny_generated.glb" | grep -E "joints|animations" | sed 's/^/   | /'
fi
echo " an animation channel on a node that is not a joint: refused without --force"
python3 - "$OUT" <<'PY'
import json, struct, sys
out = sys.argv[1]
doc = json.load(open("tests/bad_input/valid_base.gltf"))
marker = len(doc["nodes"])
doc["nodes"].append({"name": "marker"})
doc["scenes"][0]["nodes"].append(marker)
open(f"{out}/anim.bin", "wb").write(struct.pack("<8f", 0, 1, 0, 0, 0, 0, 1, 0))
doc["buffers"].append({"byteLength": 32, "uri": "anim.bin"})
b, v, a = len(doc["buffers"]) - 1, len(doc["bufferViews"]), len(doc["accessors"])
doc["bufferViews"] += [{"buffer": b, "byteOffset": 0, "byteLength": 8}, {"buffer": b, "byteOffset": 8, "byteLength": 24}]
doc["accessors"] += [{"bufferView": v, "componentType": 5126, "count": 2, "type": "SCALAR", "min": [0], "max": [1]},
                     {"bufferView": v + 1, "componentType": 5126, "count": 2, "type": "VEC3"}]
doc["animations"] = [{"name": "slide", "samplers": [{"input": a, "output": a + 1}],
                      "channels": [{"sampler": 0, "target": {"node": marker, "path": "translation"}}]}]
json.dump(doc, open(f"{out}/anim.gltf", "w"))
PY
show "$R" convert "$OUT/anim.gltf" "$OUT/anim_out.glb"
show "$R" convert "$OUT/anim.gltf" "$OUT/anim_out.glb" --force
echo " a second UV set is kept (Kenney's TEXCOORD_1), through GLB and FBX:"
cargo test -q --test formats a_second_uv_set 2>&1 | grep -E "test result" | sed 's/^/   | /'
if [ -n "${VALIDATORS_PY:-}" ] && [ -d "$ASSETS/godot_mannequiny" ]; then
  echo " FBX and GLB give Blender the same object names (mannequiny):"
  "$R" convert "$ASSETS/godot_mannequiny/mannequiny.glb" "$OUT/mannequiny.fbx" 2>/dev/null
  for f in "$ASSETS/godot_mannequiny/mannequiny.glb" "$OUT/mannequiny.fbx"; do
    "$VALIDATORS_PY" ../shared/validators/blender_inspect.py "$f" 2>/dev/null |
      python3 -c "import json,sys; d=json.load(sys.stdin); print('   |', sys.argv[1].split('/')[-1], sorted(o['name'] for o in d['objects'] if o['type']=='MESH'))" "$f"
  done
fi

section "7 and 8. generated skeletons: upright in the file's frame, bones whose tails reach their children (Blender)"
if [ -n "${VALIDATORS_PY:-}" ] && [ -d "$ASSETS/khronos_cesiumman" ]; then
  for c in khronos_cesiumman/CesiumMan.glb quaternius_char_basecharacter/BaseCharacter.glb khronos_fox/Fox.glb \
           quaternius_monster_flying_dragon_evolved/Dragon_Evolved.glb kaykit_knight/Knight.glb; do
    [ -f "$ASSETS/$c" ] || continue
    n=$(basename "$c" .glb)
    "$R" rig --input "$ASSETS/$c" --output "$OUT/gen_$n.glb" 2>/dev/null
    "$VALIDATORS_PY" ../shared/validators/blender_inspect.py "$OUT/gen_$n.glb" 2>/dev/null | python3 -c '
import json, math, sys
d = json.load(sys.stdin)
for arm in d.get("armatures", []):
    bones = {b["name"]: b for b in arm["bones"]}
    kids = {}
    for b in arm["bones"]:
        kids.setdefault(b.get("parent"), []).append(b)
    with_kids = [b for b in arm["bones"] if kids.get(b["name"])]
    at_child = sum(1 for b in with_kids if any(math.dist(b["tail"], k["head"]) < 1e-3 for k in kids[b["name"]]))
    root = next((b for b in arm["bones"] if not b.get("parent")), None)
    top = max(arm["bones"], key=lambda b: b["head"][2])
    name, top_z, root_z = top["name"], top["head"][2], root["head"][2]
    print(f"   | {sys.argv[1]}: {at_child} of {len(with_kids)} bones end at a child; highest joint {name} at z {top_z:.2f}, root at z {root_z:.2f} (Blender: Z up)")
' "$n"
  done
else
  echo "   skipped: needs VALIDATORS_PY and $ASSETS"
fi

section "9 and 10. exports Blender reads as the input: scripts/check_fbx.sh, scripts/check_exports.sh, scripts/check_blender_roundtrip.sh"

section "11. rigsmith FILE opens the editor (still open after 15 s, then closed by timeout: exit 124)"
show in_x timeout 15 "$R" "$FOX"
grep -c "Creating new window" "$OUT/stderr" | sed 's/^/   | windows opened: /'
