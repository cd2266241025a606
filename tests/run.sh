#!/usr/bin/env bash
# The README's second command: install what the suite needs, then run every tier.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# Debian packages the slow tiers and the benchmark use (age and gpg for the
# comparison). Installed only when missing, and only where we may (root).
need=()
for tool in age gpg; do
    command -v "$tool" >/dev/null 2>&1 || need+=("$tool")
done
if [ ${#need[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "tests/run.sh: installing Debian packages: ${need[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

RAAZDAR_EXTRAS="server,dev" source "$root/deploy/bootstrap.sh"
set +e
"$root/.venv/bin/python" -m pytest "$@"
status=$?
set -e
# pytest exits 5 when it collected nothing: that is a failure here, not a pass.
exit "$status"
