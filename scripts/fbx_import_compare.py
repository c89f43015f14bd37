#!/usr/bin/env python3
"""Compare Rigsmith's import of an FBX file with the glTF original it was made from.

    scripts/fbx_import_compare.py ORIGINAL.glb COPY.fbx [ORIGINAL COPY ...]

For each pair, with Rigsmith's own readers: every deforming joint of the original exists in the
copy at the same bind position; both are posed with the same three joint rotations
(`rigsmith pose --pose-world`, Euler XYZ about the joint in model axes) and every vertex of the
original is matched by its skinned bind-pose position to the copy; the largest posed-vertex distance must stay
within 1e-4 of the bounding-box diagonal; clips are listed with their time ranges. Exits 1 on
any failure. Needs a built `rigsmith` (RIGSMITH env var or the target dir).
"""
import json, os, subprocess, sys
import numpy as np

TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/rigsmith-target"))
RIGSMITH = os.environ.get("RIGSMITH", os.path.join(TARGET, "debug", "rigsmith"))
ANGLES = [(25, -15, 35), (-30, 20, 10), (15, 30, -25)]


def run(*cmd):
    r = subprocess.run(list(cmd), capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}\n{r.stderr[-2000:]}")
    return r.stdout


def compare(orig, copy):
    a = json.loads(run(RIGSMITH, "inspect", "--json", orig))
    b = json.loads(run(RIGSMITH, "inspect", "--json", copy))
    b_joints = {j["name"]: j for j in b["skeleton"]}
    deforming = [j for j in a["skeleton"] if j["deform"] and j["weighted_vertices"] > 0]
    missing = [j["name"] for j in deforming if j["name"] not in b_joints]
    if missing:
        raise RuntimeError(f"joints missing in the copy: {missing[:5]}")
    pa = np.array([j["bind_position"] for j in deforming])
    pb = np.array([b_joints[j["name"]]["bind_position"] for j in deforming])
    diag = float(np.linalg.norm(a["bounds_size"]))
    joint_err = float(np.linalg.norm(pa - pb, axis=1).max()) / diag
    with_children = {j["parent"] for j in a["skeleton"] if j["parent"] is not None}
    picks = [j["name"] for i, j in enumerate(a["skeleton"]) if j["deform"] and i in with_children][:: max(1, len(deforming) // 3)][:3]
    pose = sum((["--pose-world", f"{n}={x},{y},{z}"] for n, (x, y, z) in zip(picks, ANGLES)), [])
    oa = json.loads(run(RIGSMITH, "pose", orig, *pose))
    ob = json.loads(run(RIGSMITH, "pose", copy, *pose))
    # Match vertices where they are drawn at bind time (skinned, not the raw mesh-space values).
    ra = np.array(json.loads(run(RIGSMITH, "pose", orig))["deformed"])
    rb = np.array(json.loads(run(RIGSMITH, "pose", copy))["deformed"])
    da, db = np.array(oa["deformed"]), np.array(ob["deformed"])
    worst = 0.0
    for k in range(len(ra)):
        d = np.linalg.norm(rb - ra[k], axis=1)
        if d.min() > 1e-5 * diag:
            raise RuntimeError(f"vertex {k} of the original has no rest match in the copy (nearest {d.min():.3g})")
        near = np.nonzero(d <= d.min() + 1e-6 * diag)[0]
        worst = max(worst, float(np.linalg.norm(db[near] - da[k], axis=1).min()))
    clips = [(c["name"], round(c["start_secs"], 3), round(c["end_secs"], 3)) for c in b["clips"]]
    return joint_err, worst / diag, clips


def main():
    args = sys.argv[1:]
    if len(args) < 2 or len(args) % 2:
        sys.exit(__doc__)
    failed = 0
    for orig, copy in zip(args[::2], args[1::2]):
        try:
            joint_err, vert_err, clips = compare(orig, copy)
        except Exception as e:
            print(f"FAIL {copy}: {e}")
            failed += 1
            continue
        ok = joint_err <= 1e-4 and vert_err <= 1e-4
        failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {os.path.basename(copy):28s} joints {joint_err:.2e} x diag, posed vertices {vert_err:.2e} x diag, clips {clips}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
