#!/usr/bin/env bash
# The TUN interop tests (variant.sh's list) with every TUN offload on
# (checksums, TSO/GRO, USO, GSO sending) and io_uring batches, every
# other check unchanged.
. "$(dirname "$0")/variant.sh"
run_variant "TUN offloads and io_uring" HSK_OFFLOAD=all HSK_URING=1
