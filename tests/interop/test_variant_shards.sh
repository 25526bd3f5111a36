#!/usr/bin/env bash
# The TUN interop tests (variant.sh's list) with 2 shards: hsk0 made
# multi_queue, serve and connect with --threads 2 (2 queues, the eBPF
# steering program), every other check unchanged.
. "$(dirname "$0")/variant.sh"
run_variant "2 shards on a multi-queue TUN" HSK_SHARDS=2
