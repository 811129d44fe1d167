#!/usr/bin/env bash
# The main job in the sandbox: provisions what it needs (scripts/provision.sh), builds the CLI, then runs
# kata-deploy's node lifecycle with the real nydus-snapshotter against a private containerd under a temporary
# host root (see sandbox/main.ts): install → pull → run a container → upgrade → pull → stop it → uninstall →
# install → pull, a report of every step, and nothing left running. Exit 0 only if every step passed.
#   bash scripts/sandbox.sh [--containerd 1.6|1.7|2.1] [--keep] [--json] [--snapshotter nydus|none]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/provision.sh
npm run --silent build
exec node --import tsx sandbox/main.ts "$@"
