#!/usr/bin/env bash
# The whole test suite: provisions what it needs, builds, checks types, lint and formatting, then runs the
# unit tests (beside the code in src/) and the integration tests (test/integration/, real containerd 1.6,
# 1.7 and 2.1 with the real nydus-snapshotter, started by the tests under temporary host roots).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/provision.sh
npm run --silent build
npm run --silent typecheck
npm run --silent lint
npm run --silent format:check
mapfile -t files < <(find src test -name '*.test.ts' | sort)
if [[ $# -gt 0 ]]; then files=("$@"); fi
exec node --import tsx --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
