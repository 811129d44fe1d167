#!/usr/bin/env bash
# A faithful shell port of the seed's cleanup (the one upstream kata-deploy shipped and then removed): one
# `ctr` process per call; namespaces from `ctr namespaces ls -q` (k8s.io when that fails); delete the
# snapshotter's containers; then rounds of "list, try rm on every key" until the list is empty or a round
# removes nothing. Prints "clean" or "not-clean" last. Every ctr spawn is counted in $SPAWN_LOG.
# Usage: seed-ctr-loop.sh CTR ADDRESS SNAPSHOTTER SPAWN_LOG
set -u
CTR=$1 ADDRESS=$2 SNAPSHOTTER=$3 SPAWN_LOG=$4
ctr() { echo x >>"$SPAWN_LOG"; "$CTR" --address "$ADDRESS" "$@"; }

namespaces=$(ctr namespaces ls -q) || namespaces=k8s.io
[ -n "$namespaces" ] || namespaces=k8s.io
clean=true
for ns in $namespaces; do
  for id in $(ctr -n "$ns" containers ls -q 2>/dev/null); do
    if ctr -n "$ns" containers info "$id" 2>/dev/null | grep -q "\"Snapshotter\": \"$SNAPSHOTTER\""; then
      ctr -n "$ns" containers rm "$id" >/dev/null 2>&1
    fi
  done
  while true; do
    keys=$(ctr -n "$ns" snapshots --snapshotter "$SNAPSHOTTER" ls 2>/dev/null | awk 'NR > 1 {print $1}')
    [ -z "$keys" ] && break
    removed=0
    for key in $keys; do
      if ctr -n "$ns" snapshots --snapshotter "$SNAPSHOTTER" rm "$key" >/dev/null 2>&1; then removed=$((removed + 1)); fi
    done
    if [ "$removed" -eq 0 ]; then clean=false; break; fi
  done
done
$clean && echo clean || echo not-clean
