#!/usr/bin/env bash
# The README's first command: install, then run the main job.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/deploy/bootstrap.sh"
exec "$root/.venv/bin/python" -m crypto.demo "$@"
