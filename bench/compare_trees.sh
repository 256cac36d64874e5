#!/bin/sh
# Alternates two trees (OLD, NEW: worktrees, each built with make and make -C bench),
# running each benchmark in its own tree, so that both are measured in one invocation.
# usage: bench/compare_trees.sh OLD_TREE NEW_TREE
for round in 1 2; do
  for tree in "$1" "$2"; do
    cd "$tree" || exit 1
    echo "=== $tree round $round local $(date -u +%H:%M)"; lua5.4 bench/local_bench.lua 2>&1 | tail -15
    echo "=== $tree round $round ssh $(date -u +%H:%M)"; lua5.4 bench/ssh_bench.lua 2>&1 | tail -15
    echo "=== $tree round $round play-ssh $(date -u +%H:%M)"; lua5.4 bench/play_bench.lua ssh 2>&1 | tail -8
    echo "=== $tree round $round play-local $(date -u +%H:%M)"; lua5.4 bench/play_bench.lua 2>&1 | tail -8
  done
done
