#!/usr/bin/env python3
"""Re-meshed copies of face heads, made by Blender for `rigsmith face-eval --variants`.

    $VALIDATORS_PY scripts/face_variants.py --input HEADS_DIR --output OUT_DIR --ratio 0.25 [--subdivide 1]

Reads every head_*.glb in HEADS_DIR (as `rigsmith face-eval --write-heads` writes them), applies
Blender's Decimate modifier (edge collapse to RATIO of the faces, triangulated) to every mesh,
then with --subdivide N splits every face N times (Subdivision Surface, simple), and writes
OUT_DIR/head_*.glb with the same names. Parts stay separate pieces; their vertex
order and count change.
"""
import argparse, glob, os, sys
import bpy

def main():
    argv = sys.argv[sys.argv.index('--') + 1:] if '--' in sys.argv else sys.argv[1:]
    ap = argparse.ArgumentParser()
    ap.add_argument('--input', required=True)
    ap.add_argument('--output', required=True)
    ap.add_argument('--ratio', type=float, default=0.25)
    ap.add_argument('--subdivide', type=int, default=0)
    a = ap.parse_args(argv)
    os.makedirs(a.output, exist_ok=True)
    for path in sorted(glob.glob(os.path.join(a.input, 'head_*.glb'))):
        bpy.ops.wm.read_factory_settings(use_empty=True)
        bpy.ops.import_scene.gltf(filepath=path)
        for o in [o for o in bpy.context.scene.objects if o.type == 'MESH']:
            bpy.context.view_layer.objects.active = o
            m = o.modifiers.new('decimate', 'DECIMATE')
            m.decimate_type = 'COLLAPSE'
            m.ratio = a.ratio
            m.use_collapse_triangulate = True
            bpy.ops.object.modifier_apply(modifier=m.name)
            if a.subdivide > 0:
                s = o.modifiers.new('subdivide', 'SUBSURF')
                s.subdivision_type = 'SIMPLE'
                s.levels = a.subdivide
                bpy.ops.object.modifier_apply(modifier=s.name)
        out = os.path.join(a.output, os.path.basename(path))
        bpy.ops.export_scene.gltf(filepath=out, export_format='GLB', export_materials='NONE', export_normals=False, export_texcoords=False)
        print(out, sum(len(o.data.vertices) for o in bpy.context.scene.objects if o.type == 'MESH'))

main()
