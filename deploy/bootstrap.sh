#!/usr/bin/env bash
# Make .venv and install Raazdar into it with pinned versions. Sourced by the
# README's two commands, so a fresh Debian machine needs nothing done by hand.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
extras="${RAAZDAR_EXTRAS:-server}"
if [ ! -x "$root/.venv/bin/python" ]; then
    python3 -m venv "$root/.venv"
fi
stamp="$root/.venv/.raazdar-installed"
want="$(cat "$root/pyproject.toml" "$root/deploy/constraints.txt" | sha256sum | cut -c1-16)-$extras"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    "$root/.venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        -c "$root/deploy/constraints.txt" -e "$root[$extras]"
    echo "$want" > "$stamp"
fi
# Compiled catalogs (*.mo) are build output, kept out of git; compiling is cheap,
# so every run does it and an edited .po never goes stale. (-q is pybabel's own
# option: `compile -q` is refused.)
"$root/.venv/bin/pybabel" -q compile -d "$root/app/translations"
