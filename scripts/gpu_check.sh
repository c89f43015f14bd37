#!/usr/bin/env bash
# The learned models on a lent NVIDIA GPU (the workplace's device tool), over a copy of the
# repository with .carry/ beside it: rigsmith built here with `cargo build --features cuda`
# (xz-compressed, .carry/rigsmith.xz), the 28 test characters (.carry/evin.tar.xz) and
# BaseCharacter.glb. Prints: the GPU, `bench learned` on CUDA and on the CPU (all cores, then
# 2 threads), the skin-only rig of the 28 on CUDA against the CPU's, and one epoch of each
# training on CUDA. Logs go to $OUT when it is set.
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gpu-out}; mkdir -p "$OUT" /tmp/w
python3 -c "import lzma,shutil; shutil.copyfileobj(lzma.open('.carry/rigsmith.xz'), open('/tmp/w/rigsmith','wb'))" && chmod +x /tmp/w/rigsmith
R=/tmp/w/rigsmith
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
NVRTC=$(find / -name 'libnvrtc.so.1*' -not -path '/proc/*' 2>/dev/null | head -1)
echo "nvrtc: $NVRTC"; nproc
export LD_LIBRARY_PATH=/usr/local/nvidia/lib64:$(dirname "${NVRTC:-/x/y}"):${LD_LIBRARY_PATH:-}
export CUDA_PATH=${CUDA_PATH:-/usr/local/cuda}
big=.carry/BaseCharacter.glb
for b in cuda cuda cpu; do echo "[$SECONDS s] == bench learned --backend $b"; $R bench learned --input $big --vertices 50000 --backend $b 2>&1; done
echo "[$SECONDS s] == bench learned --backend cpu, 2 threads"; RAYON_NUM_THREADS=2 $R bench learned --input $big --vertices 50000 --backend cpu 2>&1
tar xJf .carry/evin.tar.xz -C /tmp || python3 -c "import tarfile; tarfile.open('.carry/evin.tar.xz').extractall('/tmp')"
for b in cuda cpu; do
  echo "[$SECONDS s] == rig the 28 (artist skeleton, learned skin) on $b"
  /usr/bin/time -f "%e s, %M KiB" $R rig --input /tmp/evin --output /tmp/skin_$b --use-skeleton --method learned --backend $b 2>&1 | tail -3
done
echo "[$SECONDS s] == eval: CUDA's skin (pred) against the CPU's (baseline)"
$R eval --pred /tmp/skin_cuda --truth /tmp/evin --baseline /tmp/skin_cpu 2>&1 | tail -8
echo "[$SECONDS s] == rig the 28 from the bare mesh on CUDA"
$R rig --input /tmp/evin --output /tmp/bare_cuda --method learned --backend cuda 2>&1 | tail -2
$R eval --pred /tmp/bare_cuda --truth /tmp/evin 2>&1 | tail -4
mkdir -p /tmp/train && tar xJf .carry/train.tar.xz -C /tmp/train
cp -r models /tmp/m
echo "[$SECONDS s] == one tokenizer epoch on CUDA"
$R train tokenizer --data /tmp/train/train --run /tmp/rt --out /tmp/m --epochs 1 --prior heat --backend cuda 2>&1 | tail -3
cp -r models /tmp/m2
echo "[$SECONDS s] == one generator epoch on CUDA"
$R train generator --data /tmp/train/train --run /tmp/rg --out /tmp/m2 --epochs 1 --backend cuda 2>&1 | tail -3
