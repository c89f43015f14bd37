#!/usr/bin/env python3
"""Front views (X right, Y up) of artist vs generated skeletons over the mesh vertices; with
VIEW=side, side views (Z right, Y up) for animals; with VIEW=top, top views (X right, Z down).

    TRUTH_DIR=/tmp/evin PRED_DIR=/tmp/generated python3 scripts/plot_skeletons.py out.png ASSET/STEM ...

ASSET/STEM is a path under both folders without .glb (e.g. khronos_cesiumman/CesiumMan). Needs matplotlib.
"""
import json, subprocess, sys
import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt
import os
R=os.environ.get('RIGSMITH', os.path.expanduser('~/.cache/rigsmith-target/release/rigsmith'))
TRUTH=os.environ.get('TRUTH_DIR','/tmp/evin'); PRED=os.environ.get('PRED_DIR','/tmp/generated')
VIEW=os.environ.get('VIEW','front')
H=2 if VIEW=='side' else 0
V=2 if VIEW=='top' else 1
def sk(f):
    d=json.loads(subprocess.run([R,'inspect','--json',f],capture_output=True,text=True).stdout); return d['skeleton']
def verts(f):
    d=json.loads(subprocess.run([R,'pose',f],capture_output=True,text=True).stdout); return d['rest']
def truth_file(a):
    return next((f'{TRUTH}/{a}.{e}' for e in ('glb','gltf','vrm') if os.path.exists(f'{TRUTH}/{a}.{e}')), f'{TRUTH}/{a}.glb')
assets=sys.argv[2:]; fig,axes=plt.subplots(2,len(assets),figsize=(4*len(assets),8),squeeze=False)
for c,a in enumerate(assets):
    v=verts(truth_file(a))
    for r,(f,title) in enumerate([(truth_file(a),'artist'),(f'{PRED}/{a}.glb','rigsmith (auto kind)')]):
        ax=axes[r][c]; ax.scatter([p[H] for p in v],[-p[V] if V==2 else p[V] for p in v],s=0.3,c='#bbbbbb')
        s=sk(f); 
        for j in s:
            if not j['deform'] or (title=='artist' and j['weighted_vertices']==0): continue
            p=j['bind_position']; ax.plot(p[H],-p[V] if V==2 else p[V],'o',ms=3,c='r')
            if j['parent'] is not None:
                q=s[j['parent']]['bind_position']; ax.plot([p[H],q[H]],[-p[V],-q[V]] if V==2 else [p[V],q[V]],'-',c='b',lw=1)
        ax.set_aspect('equal'); ax.set_title(f'{a.split("/")[0]}: {title}',fontsize=8); ax.axis('off')
plt.tight_layout(); plt.savefig(sys.argv[1],dpi=80)
