#!/usr/bin/env bash
# Installs the PyTorch the reference scripts use: Debian's python3-torch, with
# OpenBLAS's OpenMP build as the system BLAS (Debian's default, the reference
# BLAS, is ~30x slower and would make every comparison meaningless), and tcmalloc,
# which bench_torch.py preloads as PyTorch's CPU tuning guides advise. Needs root.
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then echo "run as root (apt-get)" >&2; exit 1; fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch python3-numpy libopenblas0-openmp libtcmalloc-minimal4 >/dev/null
update-alternatives --display libblas.so.3-x86_64-linux-gnu | sed -n 2p
/usr/bin/python3 -c 'import torch; print("torch", torch.__version__)'
