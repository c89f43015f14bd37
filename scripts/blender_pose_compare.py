#!/usr/bin/env python3
"""Pose a rig in Blender and in Rigsmith and compare the skinned vertices.

    scripts/blender_pose_compare.py FILE [FILE...] [--export-dir DIR] [--joints N] [--format glb|fbx]

Each FILE is first converted by `rigsmith convert` to GLB or binary FBX (the file we compare
is the one we wrote). With --format blender-fbx it is the other way round: Blender exports FILE
to FBX, Blender poses FILE itself, and Rigsmith poses its import of Blender's FBX. Then a few deforming joints are rotated about their heads in world axes
(Euler XYZ, degrees, glTF's Y-up frame) by both
  - ../shared/validators/blender_inspect.py --pose-world ... --yup  (Blender 5's importer)
  - rigsmith pose ... --pose-world ...                                  (our CPU skinning)
and vertices are matched by rest position. Prints, per file, the largest deviation divided
by the bounding-box diagonal; exits 1 if any is above 1e-4. With --format fbx every clip we
wrote must also be a Blender action of the same length (within a frame). Needs the validators installed
(../shared/validators/setup.sh) and a built `rigsmith` (RIGSMITH env var or target dir).
Run it with the validators' Python (it has numpy): $VALIDATORS_PY scripts/blender_pose_compare.py ...
"""
import argparse, json, os, subprocess, sys, tempfile
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
VALIDATORS = os.environ.get("VALIDATORS_DIR", os.path.join(REPO, "..", "shared", "validators"))
VHOME = os.environ.get("VALIDATORS_HOME", os.path.expanduser("~/.cache/rig-validators"))
VPY = os.path.join(VHOME, "venv", "bin", "python")
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/rigsmith-target"))
RIGSMITH = os.environ.get("RIGSMITH", os.path.join(TARGET, "debug", "rigsmith"))
ANGLES = [(25, -15, 35), (-30, 20, 10), (15, 30, -25)]


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}\n{r.stderr[-2000:]}")
    return r.stdout


def pick_joints(skeleton, n):
    """Deforming joints with children at several depths, skipping roots."""
    depth = []
    for j in skeleton:
        depth.append(0 if j["parent"] is None else depth[j["parent"]] + 1)
    has_child = {j["parent"] for j in skeleton if j["parent"] is not None}
    cands = [i for i, j in enumerate(skeleton) if j["deform"] and i in has_child and depth[i] >= 1]
    cands.sort(key=lambda i: (depth[i], i))
    if not cands:
        return []
    # A shallow, a middle and a deep joint; applied parents first, as Blender does.
    picked = sorted({cands[int(f * (len(cands) - 1))] for f in (0.0, 0.5, 0.85)[:n]})
    return [skeleton[i]["name"] for i in picked]


BLENDER_FBX = """
import bpy, sys
src, dst = sys.argv[-2], sys.argv[-1]
bpy.ops.wm.read_factory_settings(use_empty=True)
bpy.ops.import_scene.gltf(filepath=src)
bpy.ops.export_scene.fbx(filepath=dst, add_leaf_bones=False, bake_anim=True)
"""


def check_clips(clips, bl):
    """Every clip we wrote is a Blender action ('Armature|CLIP|LAYER') of the same length."""
    fps = bl["scene"]["fps"]
    seen = {}
    for a in bl["animations"]:
        parts = a["name"].split("|")
        name = "|".join(parts[1:-1]) if len(parts) >= 3 else a["name"]
        seen[name] = (a["frame_range"][1] - a["frame_range"][0]) / fps
    for c in clips:
        want = c["end_secs"] - c["start_secs"]
        got = seen.get(c["name"])
        if got is None:
            raise RuntimeError(f"Blender has no action for clip {c['name']!r} (actions: {sorted(seen)[:5]})")
        if abs(got - want) > 1.0 / fps + 1e-4:
            raise RuntimeError(f"Blender's action {c['name']!r} lasts {got:.3f} s, we wrote {want:.3f} s")


def compare(path, export_dir, n_joints, fmt="glb", start="bind"):
    glb = os.path.join(export_dir, os.path.basename(os.path.dirname(os.path.abspath(path))) + "." + fmt)
    blender_reads = glb
    if fmt == "blender-fbx":
        # Blender writes the FBX from the original; Blender reads the original, we read its FBX.
        glb = glb[: -len(fmt)] + "blender.fbx"
        script = os.path.join(export_dir, "blender_fbx_export.py")
        open(script, "w").write(BLENDER_FBX)
        run([VPY, script, path, glb])
        blender_reads = path
    else:
        # --force: the comparison is of skinning; what the format leaves out (FBX: morph
        # targets) is listed by convert.
        run([RIGSMITH, "convert", path, glb, "--force"])
    info = json.loads(run([RIGSMITH, "inspect", "--json", glb]))
    joints = pick_joints(info["skeleton"], n_joints)
    specs = [f"{j}={a},{b},{c}" for j, (a, b, c) in zip(joints, ANGLES)]
    pose_args = sum((["--pose-world", s] for s in specs), [])
    ours_path = glb + ".ours.json"
    bl_path = glb + ".blender.json"
    run([RIGSMITH, "pose", glb, "--from", start, "--out", ours_path] + pose_args)
    run([VPY, os.path.join(VALIDATORS, "blender_inspect.py"), blender_reads, "--yup", "--vertices", "all", "--quiet", "--out", bl_path] + pose_args)
    # blender_inspect's "rest" is each object's matrix_world applied to its mesh, taken after the
    # pose: right for skinned meshes (the armature modifier leaves matrix_world alone), but a
    # mesh parented to a bone moves with the posed bone, so its "rest" is posed. The true rest
    # positions come from a second run without a pose (evaluated geometry at the rest pose).
    bl_rest_path = glb + ".blender-rest.json"
    run([VPY, os.path.join(VALIDATORS, "blender_inspect.py"), blender_reads, "--yup", "--vertices", "all", "--quiet", "--out", bl_rest_path])
    ours = json.load(open(ours_path))
    bl = json.load(open(bl_path))
    bl_rest = json.load(open(bl_rest_path))
    if bl["pose"]["missing_bones"]:
        raise RuntimeError(f"Blender has no bones {bl['pose']['missing_bones']}")
    o_rest, o_def = np.array(ours["rest"]), np.array(ours["deformed"])
    # Objects may come in another order in the second run: pair them by name.
    rest_of = {d["object"]: d["vertex_list"] for d in bl_rest["deformed"]}
    if sorted(rest_of) != sorted(d["object"] for d in bl["deformed"]):
        raise RuntimeError("Blender's two imports of the file hold different objects")
    b_rest = np.array([r["deformed"] for d in bl["deformed"] for r in rest_of[d["object"]]])
    b_def = np.array([v["deformed"] for d in bl["deformed"] for v in d["vertex_list"]])
    diag = float(np.linalg.norm(o_rest.max(0) - o_rest.min(0)))
    worst = 0.0
    # blender_inspect prints 6 decimals: on a tiny model that rounding dominates the tolerance.
    match_tol = max(1e-5 * diag, 2e-6)
    for k in range(len(b_rest)):  # each Blender vertex: our vertices at the same rest position
        d_rest = np.linalg.norm(o_rest - b_rest[k], axis=1)
        near = np.nonzero(d_rest <= d_rest.min() + 1e-6 * diag)[0]
        if d_rest.min() > match_tol:
            raise RuntimeError(f"Blender vertex {k} has no rest match (nearest {d_rest.min()})")
        worst = max(worst, float(np.linalg.norm(o_def[near] - b_def[k], axis=1).min()))
    moved = float(np.linalg.norm(o_def - o_rest, axis=1).max())
    if fmt == "fbx":
        check_clips(info["clips"], bl)
    return {"file": path, "joints": specs, "vertices_ours": len(o_rest), "vertices_blender": len(b_rest),
            "clips": len(info["clips"]) if fmt == "fbx" else None, "diag": diag, "max_displacement": moved, "max_error": worst, "max_error_over_diag": worst / diag}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+")
    ap.add_argument("--export-dir")
    ap.add_argument("--joints", type=int, default=3)
    ap.add_argument("--format", choices=["glb", "fbx", "blender-fbx"], default="glb",
                    help="glb/fbx: we write that format and Blender reads it; blender-fbx: Blender writes FBX from FILE, we read it")
    ap.add_argument("--from", dest="start", choices=["bind", "rest"], default="bind",
                    help="pose our side from the bind pose (default) or the rest pose (rigs whose rest pose is not their bind pose)")
    a = ap.parse_args()
    out = a.export_dir or tempfile.mkdtemp(prefix="rigsmith-blender-")
    os.makedirs(out, exist_ok=True)
    failed = 0
    for f in a.files:
        try:
            r = compare(f, out, a.joints, a.format, a.start)
        except Exception as e:  # report and go on with the next file
            print(f"FAIL {f}: {e}")
            failed += 1
            continue
        ok = r["max_error_over_diag"] <= 1e-4
        failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {os.path.basename(f):28s} verts {r['vertices_ours']:6d}/{r['vertices_blender']:6d} "
              f"moved {r['max_displacement']:.4f}  max error {r['max_error']:.3e} = {r['max_error_over_diag']:.2e} x diag  {r['joints']}" + (f"  clips {r['clips']}/{r['clips']}" if r["clips"] is not None else ""))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
