#!/usr/bin/env python3
"""Blender's automatic weights (bone heat) on each artist skeleton: the baseline that
`rigsmith eval --baseline` prints beside Rigsmith's figures.

    $VALIDATORS_PY scripts/blender_autoweights.py --input ../shared/assets --output /tmp/blender_pred [--exclude NAME ...]

For every .glb/.gltf under --input: re-export it with `rigsmith convert` (same skeleton, weights
and mesh, laid out as Rigsmith writes it: skinned mesh at the scene root, rigid props skinned to
their joint; Blender's reading of such files matches ours, see blender_pose_compare.py), import
that with Blender's glTF importer, clear the mesh's
vertex groups, mark bones that carried no weight in the file as non-deforming (the same rule
`rigsmith rig --use-skeleton` applies), parent the meshes to the armature with automatic
weights, and write the result as NAME.weights.json at the same relative path under --output:
{"vertices": [[x, y, z], ...] (rest positions in glTF's Y-up frame), "weights": [[[bone, w], ...], ...]}.
`rigsmith eval` reads these files as predictions (vertices matched by position, bones by name);
vertices Blender leaves unweighted stay unweighted there, and are counted as such.
Prints one line per asset with the time bone heat took and how many vertices it left unweighted.
"""
import argparse, json, os, subprocess, sys, tempfile, time

import bpy
from mathutils import Matrix

ZUP_TO_YUP = Matrix(((1, 0, 0), (0, 0, 1), (0, -1, 0)))


def files_under(root):
    for d, _, names in sorted(os.walk(root, followlinks=True)):
        for n in sorted(names):
            if n.lower().endswith((".glb", ".gltf")):
                yield os.path.join(d, n)


def weighted_bones(meshes):
    used = set()
    for mo in meshes:
        names = {g.index: g.name for g in mo.vertex_groups}
        for v in mo.data.vertices:
            for g in v.groups:
                if g.weight > 0:
                    used.add(names.get(g.group))
    return used


RIGSMITH = os.environ.get("RIGSMITH", os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/rigsmith-target")), "release", "rigsmith"))


def bone_heat(path, out):
    converted = os.path.join(tempfile.mkdtemp(prefix="rigsmith-bh-"), "in.glb")
    subprocess.run([RIGSMITH, "convert", path, converted], check=True, capture_output=True)
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.import_scene.gltf(filepath=converted)
    arms = [o for o in bpy.data.objects if o.type == "ARMATURE"]
    meshes = [o for o in bpy.data.objects if o.type == "MESH" and any(m.type == "ARMATURE" for m in o.modifiers)]
    if not arms or not meshes:
        return None
    arm = arms[0]
    used = weighted_bones(meshes)
    for b in arm.data.bones:
        b.use_deform = b.name in used
    for mo in meshes:
        mo.vertex_groups.clear()
        for m in [m for m in mo.modifiers if m.type == "ARMATURE"]:
            mo.modifiers.remove(m)
    bpy.ops.object.select_all(action="DESELECT")
    for mo in meshes:
        mo.select_set(True)
    arm.select_set(True)
    bpy.context.view_layer.objects.active = arm
    t = time.time()
    bpy.ops.object.parent_set(type="ARMATURE_AUTO", keep_transform=True)
    took = time.time() - t
    unweighted = sum(1 for mo in meshes for v in mo.data.vertices if not any(g.weight > 0 for g in v.groups))
    os.makedirs(os.path.dirname(out), exist_ok=True)
    vertices, weights = [], []
    for mo in meshes:
        names = {g.index: g.name for g in mo.vertex_groups}
        for v in mo.data.vertices:
            p = ZUP_TO_YUP @ (mo.matrix_world @ v.co)
            vertices.append([round(c, 7) for c in p])
            weights.append([[names[g.group], round(g.weight, 7)] for g in v.groups if g.weight > 0 and g.group in names])
    with open(out, "w") as f:
        json.dump({"source": path, "generator": "Blender automatic weights (bone heat)", "vertices": vertices, "weights": weights}, f)
    return took, unweighted, len(vertices)


def main():
    argv = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else sys.argv[1:]
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--exclude", action="append", default=[])
    a = ap.parse_args(argv)
    for f in files_under(a.input):
        if any(x in f for x in a.exclude):
            continue
        rel = os.path.splitext(os.path.relpath(f, a.input))[0]
        try:
            r = bone_heat(f, os.path.join(a.output, rel + ".weights.json"))
        except Exception as e:  # one broken asset must not stop the batch
            print(f"FAIL {rel}: {e}", flush=True)
            continue
        if r is None:
            print(f"skip {rel}: no skinned mesh", flush=True)
        else:
            print(f"ok   {rel}: bone heat {r[0]:.2f} s, {r[1]} of {r[2]} vertices unweighted", flush=True)


if __name__ == "__main__":
    main()
