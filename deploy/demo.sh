#!/usr/bin/env bash
# The README's first command: install, create a demo instance if there is none,
# and serve it. With tor installed it is served as a real onion service on a
# private Tor network on loopback (no internet needed, nothing leaves the
# machine); without tor, on loopback only. It says which.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Every extra, so each command the README documents (the server, the review
# tool, the client, the tests) works in the .venv this leaves.
export RAAZDAR_EXTRAS="${RAAZDAR_EXTRAS:-server,review,submit,dev}"
source "$root/deploy/bootstrap.sh"
export RAAZDAR_INSTANCE="${RAAZDAR_INSTANCE:-$root/instance}"
if [ ! -f "$RAAZDAR_INSTANCE/config.json" ]; then
    "$root/.venv/bin/raazdar" init --demo
fi
# Every start, not only the first: what a client pins, and what the workstation takes.
"$root/.venv/bin/raazdar" server-info | sed -n \
    -e 's/^authority  *\(.*\)$/raazdar: pinned authority key \1/p' \
    -e 's/^keyring pin  *\(.*\)$/raazdar: pins file line: keyring \1/p' \
    -e 's/^server key fingerprint  *\(.*\)$/raazdar: server key fingerprint \1 (`raazdar server-info --out FILE` for the review workstation)/p'
# The demo reviewer's weekly subkeys (reports are sealed to them): until a workspace
# takes them in, which destroys this copy.
subkeys="$RAAZDAR_INSTANCE/demo-keys/subkeys"
if [ -f "$subkeys/demo-reviewer.secrets.rze" ]; then
    echo "raazdar: demo reviewer's weekly subkeys: \`raazdar-review keys subkeys adopt $subkeys/demo-reviewer.secrets.rze $subkeys/demo-reviewer.json\` after \`raazdar-review init\` on the review workstation"
fi
if command -v tor >/dev/null 2>&1; then
    mode=private
else
    mode=off
    echo "raazdar: tor is not installed (apt-get install tor): serving on loopback only"
fi
exec "$root/.venv/bin/raazdar" serve --tor "$mode" "$@"
