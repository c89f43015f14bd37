#!/usr/bin/env bash
# The editor's drawing on a lent GPU (the workplace's device tool; no display server needed):
# `rigsmith bench gpu` on the Khronos fox subdivided to 1,000,000 vertices and more, over a copy
# of the repository with .carry/rigsmith.xz beside it (rigsmith built here with `cargo build`,
# xz-compressed). Prints the adapter and the frame times; logs go to $OUT when it is set.
#
#   xz -T2 -9 -c "$CARGO_TARGET_DIR/debug/rigsmith" > .carry/rigsmith.xz
#   device run (carry .carry): OUT=$OUT bash scripts/gpu_bench.sh
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gpu-out}; mkdir -p "$OUT" /tmp/w
python3 -c "import lzma,shutil; shutil.copyfileobj(lzma.open('.carry/rigsmith.xz'), open('/tmp/w/rigsmith','wb'))" && chmod +x /tmp/w/rigsmith
R=/tmp/w/rigsmith
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>/dev/null
for v in 100000 1000000 4000000; do
  echo "[$SECONDS s] == bench gpu --vertices $v"
  $R bench gpu --vertices "$v" --frames 300 --size 1920x1080 --image "$OUT/fox_$v.png" 2>&1 | grep -E "^(adapter|gpu|last frame|error)"
done
