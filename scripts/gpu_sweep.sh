#!/usr/bin/env bash
# Several tokenizer trainings at once on a lent NVIDIA GPU (device tool), each stopped after
# LIMIT seconds; the run folders (weights per epoch, best, losses.csv; no optimiser state)
# come back as $OUT/runs.tar.xz. Needs .carry/ as scripts/gpu_check.sh describes.
# Each RUNS entry: name|backend|extra train arguments. The default list is session 15's first
# sweep (5 epochs each); its second set RUNS to five 12-16-epoch runs, among them
# "Q4|cuda|--epochs 14 --augment 2 --presence-weight 0.3" (the presence-head row of the model
# card). Pick decode thresholds afterwards on the 9 validation files with
# `rigsmith tokenize --input FILE... --model runs/NAME/out --min-weight 0 --min-presence P`.
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gpu-out}; LIMIT=${LIMIT:-470}; mkdir -p "$OUT" /tmp/w /tmp/train /tmp/runs
python3 -c "import lzma,shutil; shutil.copyfileobj(lzma.open('.carry/rigsmith.xz'), open('/tmp/w/rigsmith','wb'))" && chmod +x /tmp/w/rigsmith
R=/tmp/w/rigsmith
NVRTC=$(find / -name 'libnvrtc.so.1*' -not -path '/proc/*' 2>/dev/null | head -1)
export LD_LIBRARY_PATH=/usr/local/nvidia/lib64:$(dirname "${NVRTC:-/x/y}"):${LD_LIBRARY_PATH:-}
tar xJf .carry/train.tar.xz -C /tmp/train
RUNS=${RUNS:-"A|cuda|--epochs 5 --augment 2 --presence-weight 1
B|cuda|--epochs 5 --augment 2
C|cuda|--epochs 4 --augment 2 --presence-weight 1 --queries 4096 --points 512 --decoder-width 256 --encoder-width 128
D|cuda|--epochs 4 --augment 2 --presence-weight 1 --creatures 67
E|cuda|--epochs 5 --augment 2 --presence-weight 0.3
F|cpu|--epochs 5 --augment 2 --presence-weight 1"}
while IFS='|' read -r name backend extra; do
  [ -z "$name" ] && continue
  threads=2; [ "$backend" = cpu ] && threads=6
  RAYON_NUM_THREADS=$threads timeout "$LIMIT" $R train tokenizer --data /tmp/train/train --run /tmp/runs/$name --out /tmp/runs/$name/out \
    --prior heat --backend "$backend" $extra > /tmp/runs/$name.log 2>&1 &
done <<< "$RUNS"
wait
for f in /tmp/runs/*.log; do echo "== $f"; grep -v "^warning" "$f" | tail -8; done
tar cJf "$OUT/runs.tar.xz" --exclude='optimizer.mpk' -C /tmp runs
ls -la "$OUT"
