#!/usr/bin/env bash
# Regenerate the hashed locks deploy/bootstrap.sh installs with --require-hashes, from
# pyproject.toml's dependencies at the versions deploy/constraints.txt pins. Run it after
# changing either (it needs uv, from PyPI: `python3 -m pip install uv` in a throwaway venv)
# and commit what it writes; tests/test_locks.py fails until the locks agree with both.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
uv="${UV:-uv}"
compile() {
    local out="$1"
    shift
    # Universal: one lock for every Python >= 3.11 and platform pip may install it on.
    "$uv" pip compile --quiet --universal --python-version 3.11 --generate-hashes \
        --no-header --constraint deploy/constraints.txt --output-file "deploy/locks/$out" "$@"
}
# What building Raazdar itself needs ([build-system] requires), installed first so the
# build is never isolated (an isolated build fetches its tools with no hash checked).
compile build.txt deploy/locks/build.in
compile server.txt pyproject.toml --extra server
compile review.txt pyproject.toml --extra review
compile submit.txt pyproject.toml --extra submit
# tests/run.sh and deploy/demo.sh: every extra.
compile dev+review+server+submit.txt pyproject.toml --all-extras
