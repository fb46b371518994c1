#!/usr/bin/env bash
# Fashion-MNIST training, kiln against PyTorch (python3-torch) on the same
# recipes, in one sitting, interleaved run by run: test accuracy (mean over
# seeds) and training wall time (median, min-max). PyTorch runs at its best:
# OMP_WAIT_POLICY=PASSIVE (its default spin-waiting is 3-5x slower on 2
# vCPUs), with 1 and with THREADS threads; kiln is compared with the faster.
#
#   bash bench/train.sh [THREADS=2] [SEEDS="0 1 2"] [RECIPES="mlp-adam mlp-momentum lenet"]
# Recipes: mlp-adam, mlp-momentum (5 epochs each), lenet (Adam, 5 epochs),
# convnet (Adam, 10 epochs), resnet (the README's recipe: AdamW 2e-3 with decay 0.05
# and a cosine schedule, crops, flips and normalization; RESNET_EPOCHS=15 epochs,
# RESNET_LIMIT=0 training images, 0 for all; peer bench/torch_resnet.py).
# Needs `bash scripts/setup.sh --bench` and a build.
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2}
seeds=${2:-"0 1 2"}
recipes=${3:-"mlp-adam mlp-momentum lenet"}
resnet_epochs=${RESNET_EPOCHS:-15}
resnet_limit=${RESNET_LIMIT:-0}
log=$(mktemp)
accuracy_and_seconds='s/^test accuracy \([0-9.]*\)% after .* epochs, \([0-9.]*\) s of training.*/\1 \2/p'

kiln_run() { # recipe seed
  case $1 in
  mlp-adam) ./build/fashion_mlp --optimizer adam --seed "$2" --threads "$threads" --out /tmp/kiln-bench ;;
  mlp-momentum) ./build/fashion_mlp --optimizer momentum --seed "$2" --threads "$threads" --out /tmp/kiln-bench ;;
  lenet) ./build/fashion_conv --model lenet --seed "$2" --threads "$threads" --out /tmp/kiln-bench ;;
  convnet) ./build/fashion_conv --model convnet --epochs 10 --seed "$2" --threads "$threads" --out /tmp/kiln-bench ;;
  resnet) ./build/fashion_conv --model resnet --epochs "$resnet_epochs" --limit "$resnet_limit" \
    --augment --normalize --lr 2e-3 --cosine --weight-decay 0.05 --seed "$2" --threads "$threads" \
    --out /tmp/kiln-bench ;;
  esac 2>/dev/null | sed -n "$accuracy_and_seconds"
}

torch_run() { # recipe seed threads
  if [[ $1 == resnet ]]; then
    /usr/bin/python3 bench/torch_resnet.py --epochs "$resnet_epochs" --limit "$resnet_limit" \
      --seed "$2" --threads "$3" | sed -n "$accuracy_and_seconds"
    return
  fi
  local model=${1%%-*} optimizer=adam epochs=5
  [[ $1 == mlp-momentum ]] && optimizer=momentum
  [[ $1 == convnet ]] && epochs=10
  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 bench/fashion_train.py --model "$model" \
    --optimizer "$optimizer" --epochs "$epochs" --seed "$2" --threads "$3" |
    sed -n 's/.*accuracy=\([0-9.]*\) train_seconds=\([0-9.]*\)/\1 \2/p'
}

torch_threads=$(printf '%s\n' 1 "$threads" | sort -un)
for recipe in $recipes; do
  for seed in $seeds; do
    echo "$recipe kiln $(kiln_run "$recipe" "$seed")" | tee -a "$log"
    for t in $torch_threads; do
      echo "$recipe pytorch-${t}t $(torch_run "$recipe" "$seed" "$t")" | tee -a "$log"
    done
  done
done
/usr/bin/python3 bench/summarize_train.py "$log"
