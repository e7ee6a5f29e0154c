#!/usr/bin/env bash
# Runs one test suite with node's built-in runner. A suite that finds no test files fails:
# a green run must mean tests ran.
#   tools/run-tests.sh unit   every *.test.ts beside the code (no cluster)
#   tools/run-tests.sh e2e    every e2e/**/*.test.ts, one file at a time, on the local control plane
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH" # the project's Node, never the machine's
suite=${1:?usage: run-tests.sh unit|e2e [file...]}
shift
if [ $# -gt 0 ]; then
  files=("$@")
elif [ "$suite" = e2e ]; then
  # e2e/dataplane/ runs inside a network namespace of its own: make e2e-dataplane.
  mapfile -t files < <(find e2e -name '*.test.ts' -not -path 'e2e/dataplane/*' | sort)
else
  mapfile -t files < <(find . -name '*.test.ts' -not -path './node_modules/*' -not -path './e2e/*' -not -path './.cluster/*' | sort)
fi
if [ ${#files[@]} -eq 0 ]; then
  echo "run-tests: no $suite test files found; refusing to report success" >&2
  exit 1
fi
args=(--test --test-reporter=spec)
if [ "$suite" = e2e ]; then
  # The scenarios share one cluster: run files one after another, start the cluster once.
  args+=(--test-concurrency=1 --test-global-setup=e2e/global-setup.ts)
fi
exec node "${args[@]}" "${files[@]}"
