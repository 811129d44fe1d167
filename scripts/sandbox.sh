#!/usr/bin/env bash
# The main job in the sandbox: provisions what it needs, builds, then runs kata-deploy against a private
# containerd and the real nydus-snapshotter under a temporary host root (see sandbox/main.ts).
#   bash scripts/sandbox.sh [--containerd 1.6|1.7|2.1]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/provision.sh
npm run --silent build
exec node --import tsx sandbox/main.ts "$@"
