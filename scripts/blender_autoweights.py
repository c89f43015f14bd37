#!/usr/bin/env python3
"""Blender's automatic weights (bone heat) on each artist skeleton: the baseline that
`rigsmith eval --baseline` prints beside Rigsmith's figures.

    $VALIDATORS_PY scripts/blender_autoweights.py --input ../shared/assets --output /tmp/blender_pred [--exclude NAME ...]

For every .glb/.gltf under --input: import it with Blender's glTF importer, clear the mesh's
vertex groups, mark bones that carried no weight in the file as non-deforming (the same rule
`rigsmith rig --use-skeleton` applies), parent the meshes to the armature with automatic
weights, and export a GLB at the same relative path under --output (no animations).
Prints one line per asset with the time bone heat took and how many vertices it left unweighted.
"""
import argparse, os, sys, time

import bpy


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


def bone_heat(path, out):
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.import_scene.gltf(filepath=path)
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
    bpy.ops.export_scene.gltf(filepath=out, export_format="GLB", export_animations=False, export_skins=True)
    return took, unweighted, sum(len(mo.data.vertices) for mo in meshes)


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
            r = bone_heat(f, os.path.join(a.output, rel + ".glb"))
        except Exception as e:  # one broken asset must not stop the batch
            print(f"FAIL {rel}: {e}", flush=True)
            continue
        if r is None:
            print(f"skip {rel}: no skinned mesh", flush=True)
        else:
            print(f"ok   {rel}: bone heat {r[0]:.2f} s, {r[1]} of {r[2]} vertices unweighted", flush=True)


if __name__ == "__main__":
    main()
