#!/usr/bin/env python3
"""Round-trip check: does Blender read what Rigsmith wrote the way it reads the original?

    $VALIDATORS_PY scripts/blender_roundtrip_compare.py FILE [FILE...] [--format glb,fbx]
        [--export-dir DIR] [--json SUMMARY.json] [--self-test]

Each FILE (.glb/.gltf/.fbx) is converted with `rigsmith convert FILE OUT.glb` / `OUT.fbx`
(--format picks which; default both). Blender 5 (../shared/validators/blender_inspect.py,
--yup, all vertices) then reads the input and every output twice: at rest (--deform, with
--weights) and posed with --pose-world on three deforming joints that have children (a shallow,
a middle and a deep one, picked from Blender's reading of the input; same angles as
blender_pose_compare.py). Blender's reading of each output is compared with its reading of the
input:
  - bones: names and (bone, parent) pairs as sets -> bones added / missing / reparented;
  - rest and posed world vertex positions, as max deviation / the input's bbox diagonal. Vertices
    are compared by index when counts match and the rest positions agree index by index, else
    each vertex is matched (both ways) to the other side's vertices at the nearest rest position;
  - bounding-box height (Y) of input and output, so a scale error (x100) stands out;
  - artist influences (bone, weight > 0) of input vertices missing from the matched output vertex
    (counted only over input vertices whose rest match is within tolerance; the others are listed
    as "without a rest match").
Input vertices that Blender reads without any weight in a mesh whose other vertices have weights
(the file gives them NaN or negative weights, so glTF leaves them undefined and Blender puts them
at the origin) are counted and left out of the comparison.
PASS needs both deviations <= 1e-4, the same bones and parents, and no dropped influence.
One line per (FILE, format); --json writes all results; exit 1 if any FAIL. A FILE that Blender
itself cannot import is a SKIP. --self-test skips rigsmith and compares each FILE with itself
(a check of this script). Rigsmith: RIGSMITH env var or $CARGO_TARGET_DIR/debug/rigsmith.
"""
import argparse, json, os, subprocess, sys, tempfile
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
VALIDATORS = os.environ.get("VALIDATORS_DIR", os.path.join(HERE, "..", "..", "shared", "validators"))
VHOME = os.environ.get("VALIDATORS_HOME", os.path.expanduser("~/.cache/rig-validators"))
VPY = os.path.join(VHOME, "venv", "bin", "python")
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/rigsmith-target"))
RIGSMITH = os.environ.get("RIGSMITH", os.path.join(TARGET, "debug", "rigsmith"))
ANGLES = [(25, -15, 35), (-30, 20, 10), (15, 30, -25)]  # as in blender_pose_compare.py
TOL = 1e-4


class Skip(Exception):
    pass


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{os.path.basename(cmd[0])} {' '.join(cmd[1:3])} failed: {(r.stderr or r.stdout).strip()[-500:]}")
    return r.stdout


def inspect(path, out_json, extra):
    """Blender's reading of `path` (dict); import failures come back with import.ok false."""
    cmd = [VPY, os.path.join(VALIDATORS, "blender_inspect.py"), path, "--quiet", "--yup",
           "--vertices", "all", "--precision", "8", "--out", out_json] + extra
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode not in (0, 2) or not os.path.exists(out_json):
        raise RuntimeError(f"blender_inspect crashed on {path}: {r.stderr.strip()[-500:]}")
    d = json.load(open(out_json))
    if d["import"]["ok"] and "deform_error" in d:
        raise RuntimeError(f"blender_inspect on {path}: {d['deform_error']}")
    return d


def bones(d):
    """{bone: parent} over all armatures, plus the deform flags."""
    bs = [b for a in d.get("armatures", []) for b in a["bones"]]
    return {b["name"]: b["parent"] for b in bs}, {b["name"]: b["deform"] for b in bs}


def pick_joints(parents, deform, n=3):
    """Deforming non-root bones with children: a shallow, a middle and a deep one (parents first),
    as blender_pose_compare.py picks them."""
    def depth(b):
        return 0 if parents[b] is None else 1 + depth(parents[b])
    has_child = {p for p in parents.values() if p is not None}
    order = list(parents)
    key = lambda b: (depth(b), order.index(b))
    cands = sorted((b for b in order if deform[b] and b in has_child and depth(b) >= 1), key=key)
    if not cands:  # tiny rigs (RiggedSimple): any deforming bone, non-roots first
        cands = sorted((b for b in order if deform[b]), key=lambda b: (depth(b) == 0,) + key(b))[:1]
    if not cands:
        return []
    picked = {cands[int(f * (len(cands) - 1))] for f in (0.0, 0.5, 0.85)[:n]}
    return sorted(picked, key=key)


def vertices(rest, posed, order=None):
    """Rest positions, posed positions and weights of every mesh vertex, objects paired by name,
    and the indices of vertices left without weight in an object whose other vertices have some
    (a skinned mesh whose file gives them NaN or negative weights: glTF leaves their position
    undefined, Blender puts them at the origin). `order`: object names in the order to take
    them, used when it names exactly this reading's objects (an FBX lists objects in another
    order than the GLB it came from; matching overlapping seams by position then swapped
    vertices between objects)."""
    posed_of = {m["object"]: m["vertex_list"] for m in posed["deformed"]}
    meshes = rest["deformed"]
    if order is not None and sorted(order) == sorted(m["object"] for m in meshes):
        meshes = sorted(meshes, key=lambda m: order.index(m["object"]))
    r, p, w, invalid = [], [], [], []
    for m in meshes:
        vl, pl = m["vertex_list"], posed_of.get(m["object"])
        if pl is None or len(pl) != len(vl):
            raise RuntimeError(f"Blender's rest and posed readings differ on object {m['object']!r}")
        ws = [v.get("weights", {}) for v in vl]
        if any(ws):
            invalid += [len(w) + k for k, x in enumerate(ws) if not x]
        r += [v["deformed"] for v in vl]  # evaluated at the rest pose (what one sees)
        p += [v["deformed"] for v in pl]
        w += ws
    return np.array(r, float).reshape(-1, 3), np.array(p, float).reshape(-1, 3), w, invalid


def match(a_rest, a_pose, b_rest, b_pose, eps):
    """For each vertex of a: index into b of the vertex at the nearest rest position (among ties
    within eps, the best posed match), its rest distance and its posed distance."""
    idx, chunk = np.empty(len(a_rest), int), max(1, int(2e6 // len(b_rest)))
    bb = (b_rest ** 2).sum(1)
    for s in range(0, len(a_rest), chunk):
        ar = a_rest[s:s + chunk]
        d2 = np.maximum((ar ** 2).sum(1)[:, None] - 2 * ar @ b_rest.T + bb[None], 0)
        d = np.sqrt(d2)
        ties = d <= d.min(1, keepdims=True) + eps
        dp = np.linalg.norm(a_pose[s:s + chunk, None, :] - b_pose[None], axis=2)
        idx[s:s + chunk] = np.where(ties, dp, np.inf).argmin(1)
    return idx, np.linalg.norm(a_rest - b_rest[idx], axis=1), np.linalg.norm(a_pose - b_pose[idx], axis=1)


def compare(src, out, fmt, ref, work):
    """Compare Blender's reading of `out` with `ref` (the input's readings and posed joints)."""
    base = os.path.join(work, os.path.basename(out) + ".blender")
    rest = inspect(out, base + "-rest.json", ["--deform", "--weights"])
    if not rest["import"]["ok"]:
        raise RuntimeError(f"Blender cannot import our {fmt}: {rest['import']['error']}")
    posed = inspect(out, base + "-posed.json", ref["pose_args"])
    o_rest, o_pose, o_w, _ = vertices(rest, posed, ref["objects"])
    i_rest, i_pose, i_w = ref["rest"], ref["posed"], ref["weights"]
    diag = ref["diag"]
    res = {"file": src, "format": fmt, "output": out, "joints": ref["joints"],
           "vertices_in": len(i_rest), "vertices_out": len(o_rest), "invalid_weights_in": len(ref["invalid"])}
    if ref["invalid"]:  # not compared; with equal counts the output's same vertices go too
        keep = np.setdiff1d(np.arange(len(i_rest)), ref["invalid"])
        if len(o_rest) == len(i_rest):
            o_rest, o_pose, o_w = o_rest[keep], o_pose[keep], [o_w[k] for k in keep]
        i_rest, i_pose, i_w = i_rest[keep], i_pose[keep], [i_w[k] for k in keep]
    ip, idf = ref["bones"]
    op, _ = bones(rest)
    res.update(bones_in=len(ip), bones_out=len(op), added=sorted(set(op) - set(ip)),
               missing=sorted(set(ip) - set(op)),
               reparented=sorted(b for b in set(ip) & set(op) if ip[b] != op[b]),
               posed_joints_missing=posed["pose"]["missing_bones"])
    if len(o_rest) == 0:
        raise RuntimeError("Blender finds no mesh vertex in our output")
    if len(o_rest) == len(i_rest) and np.linalg.norm(o_rest - i_rest, axis=1).max() <= TOL * diag:
        res["matching"] = "index"
        idx, near = np.arange(len(i_rest)), np.ones(len(i_rest), bool)
        rest_dev = np.linalg.norm(o_rest - i_rest, axis=1).max()
        pose_dev = np.linalg.norm(o_pose - i_pose, axis=1).max()
    else:  # both ways, so that geometry missing on either side counts
        res["matching"] = "nearest"
        eps = max(1e-6 * diag, 1e-7)
        idx, r1, p1 = match(i_rest, i_pose, o_rest, o_pose, eps)
        near = r1 <= TOL * diag  # weights are compared only where the rest positions match
        _, r2, p2 = match(o_rest, o_pose, i_rest, i_pose, eps)
        rest_dev, pose_dev = max(r1.max(), r2.max()), max(p1.max(), p2.max())
    dropped = sum(1 for k, j in enumerate(idx) if near[k] for b, x in i_w[k].items() if x > 0 and o_w[j].get(b, 0) <= 0)
    res.update(rest_dev=float(rest_dev / diag), posed_dev=float(pose_dev / diag), diag=diag,
               dropped_influences=dropped, influences_in=sum(len(x) for x in i_w),
               unmatched_vertices=int((~near).sum()),
               height_in=float(np.ptp(i_rest[:, 1])), height_out=float(np.ptp(o_rest[:, 1])),
               bbox_in=np.ptp(i_rest, 0).tolist(), bbox_out=np.ptp(o_rest, 0).tolist())
    why = [k for k, bad in [("rest", res["rest_dev"] > TOL), ("posed", res["posed_dev"] > TOL),
                            ("bones", res["added"] or res["missing"] or res["reparented"]),
                            ("posed joints missing", res["posed_joints_missing"]), ("weights", dropped)] if bad]
    res["status"], res["why"] = ("FAIL" if why else "PASS"), why
    return res


def reference(path, work):
    """Blender's readings of the input file, and the joints to pose."""
    stem = os.path.join(work, os.path.basename(path) + ".input")
    rest = inspect(path, stem + "-rest.json", ["--deform", "--weights"])
    if not rest["import"]["ok"]:
        raise Skip(f"Blender cannot import it: {rest['import']['error']}")
    parents, deform = bones(rest)
    joints = pick_joints(parents, deform)
    specs = [f"{j}={a},{b},{c}" for j, (a, b, c) in zip(joints, ANGLES)]
    pose_args = sum((["--pose-world", s] for s in specs), [])
    posed = inspect(path, stem + "-posed.json", pose_args or ["--deform"])
    r, p, w, invalid = vertices(rest, posed)
    if len(r) == 0:
        raise Skip("Blender finds no mesh vertex in it")
    diag = float(np.linalg.norm(r.max(0) - r.min(0)))
    return {"bones": (parents, deform), "joints": specs, "pose_args": pose_args or ["--deform"],
            "rest": r, "posed": p, "weights": w, "invalid": invalid, "diag": diag,
            "objects": [m["object"] for m in rest["deformed"]]}


def line(res):
    name = f"{os.path.basename(res['file'])} -> {res['format']}"
    if "rest_dev" not in res:  # SKIP, or FAIL before any comparison
        return f"{res['status']} {name}: {res.get('reason', '')}"
    short = lambda xs: f"[{', '.join(xs[:4])}{', ...' if len(xs) > 4 else ''}]" if xs else "[]"
    s = (f"{res['status']} {name:32s} rest {res['rest_dev']:.2e}  posed {res['posed_dev']:.2e} x diag  "
         f"height in/out {res['height_in']:.4g}/{res['height_out']:.4g}  verts {res['vertices_in']}/{res['vertices_out']} ({res['matching']})  "
         f"bones in/out {res['bones_in']}/{res['bones_out']} added {short(res['added'])} missing {short(res['missing'])}")
    if res["reparented"]:
        s += f" reparented {short(res['reparented'])}"
    if res["posed_joints_missing"]:
        s += f" posed joints missing {short(res['posed_joints_missing'])}"
    s += f"  dropped influences {res['dropped_influences']}/{res['influences_in']}"
    if res.get("invalid_weights_in"):
        s += f" ({res['invalid_weights_in']} input vertices with invalid weights not compared)"
    return s + (f" ({res['unmatched_vertices']} input vertices without a rest match)" if res["unmatched_vertices"] else "")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+")
    ap.add_argument("--format", default="glb,fbx", help="comma-separated: glb, fbx (default both)")
    ap.add_argument("--export-dir", help="keep the converted files and Blender's JSON readings here")
    ap.add_argument("--json", help="write a machine-readable summary here")
    ap.add_argument("--self-test", action="store_true", help="compare each FILE with itself, no rigsmith")
    a = ap.parse_args()
    fmts = [f.strip() for f in a.format.split(",") if f.strip()]
    if any(f not in ("glb", "fbx") for f in fmts):
        ap.error("--format takes glb, fbx or glb,fbx")
    work = a.export_dir or tempfile.mkdtemp(prefix="rigsmith-roundtrip-")
    os.makedirs(work, exist_ok=True)
    results = []
    for path in a.files:
        stem = os.path.join(work, os.path.splitext(os.path.basename(path))[0])
        try:
            ref = reference(path, work)
        except Exception as e:  # Skip, or a crash: the same for every format
            status = "SKIP" if isinstance(e, Skip) else "FAIL"
            for fmt in (["self"] if a.self_test else fmts):
                results.append({"file": path, "format": fmt, "status": status, "reason": str(e)})
                print(line(results[-1]), flush=True)
            continue
        for fmt in (["self"] if a.self_test else fmts):
            try:
                out = path if a.self_test else f"{stem}.{fmt}"
                if not a.self_test:
                    run([RIGSMITH, "convert", path, out, "--force"])
                res = compare(path, out, fmt, ref, work)
            except Exception as e:  # report and go on
                res = {"file": path, "format": fmt, "status": "FAIL", "reason": str(e)}
            results.append(res)
            print(line(res), flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)
    sys.exit(1 if any(r["status"] == "FAIL" for r in results) else 0)


if __name__ == "__main__":
    main()
