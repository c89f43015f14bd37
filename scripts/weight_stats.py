#!/usr/bin/env python3
"""How the artists' skin weights spread: per file, the influences (weights over 1e-3) and the
share of them under 10 % and 5 % of their vertex's total, which a decoder that drops influences
under that threshold cannot recall.

    python3 scripts/weight_stats.py /tmp/evin/*/*.glb /tmp/evin/*/*.gltf

Reads glTF/GLB (embedded, data-URI or external buffers) with numpy only.
"""
import json,struct,sys,os,glob,numpy as np,base64
CT={5120:np.int8,5121:np.uint8,5122:np.int16,5123:np.uint16,5125:np.uint32,5126:np.float32}
NC={'SCALAR':1,'VEC2':2,'VEC3':3,'VEC4':4,'MAT4':16}
def load(path):
    data=open(path,'rb').read()
    if data[:4]==b'glTF':
        jl=struct.unpack('<I',data[12:16])[0]; js=json.loads(data[20:20+jl]); rest=data[20+jl:]
        bins=[rest[8:8+struct.unpack('<I',rest[:4])[0]]] if rest else []
    else:
        js=json.loads(data); bins=[]
    bufs=[]
    for i,b in enumerate(js.get('buffers',[])):
        if 'uri' not in b: bufs.append(bins[0])
        elif b['uri'].startswith('data:'): bufs.append(base64.b64decode(b['uri'].split(',',1)[1]))
        else: bufs.append(open(os.path.join(os.path.dirname(path),b['uri']),'rb').read())
    def acc(i):
        a=js['accessors'][i]; bv=js['bufferViews'][a['bufferView']]; dt=np.dtype(CT[a['componentType']]); n=NC[a['type']]
        off=bv.get('byteOffset',0)+a.get('byteOffset',0); stride=bv.get('byteStride',dt.itemsize*n)
        buf=bufs[bv['buffer']]
        out=np.zeros((a['count'],n),dt)
        for k in range(a['count']): out[k]=np.frombuffer(buf,dt,n,off+k*stride)
        if a.get('normalized') and dt!=np.float32: out=out.astype(np.float32)/np.iinfo(dt).max
        return out.astype(np.float32)
    W=[]
    for m in js.get('meshes',[]):
        for p in m['primitives']:
            at=p['attributes']
            if 'WEIGHTS_0' in at:
                w=acc(at['WEIGHTS_0'])
                if 'WEIGHTS_1' in at: w=np.concatenate([w,acc(at['WEIGHTS_1'])],1)
                W.append(w)
    return np.concatenate(W) if W else None
tot=small=small5=rank5=0
for f in sorted(sys.argv[1:]):
    w=load(f)
    if w is None: continue
    w=w/np.maximum(w.sum(1,keepdims=True),1e-9)
    nz=w>1e-3; tot+=nz.sum(); small+=(nz&(w<0.1)).sum(); small05=(nz&(w<0.05)).sum(); small5+=small05
    ws=-np.sort(-w,1); rank5+=(ws[:,4:]>1e-3).sum() if ws.shape[1]>4 else 0
    print(f"{os.path.basename(f):30s} infl {nz.sum():7d} <0.1 {(nz&(w<0.1)).sum()/nz.sum():.3f} <0.05 {small05/nz.sum():.3f}")
print(f'all: {tot} influences over 1e-3; under 0.1 of their vertex: {small/tot:.3f}, under 0.05: {small5/tot:.3f}; beyond the 4 strongest: {rank5/tot:.3f}')
