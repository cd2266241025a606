#!/usr/bin/env bash
# Make .venv and install Raazdar into it with pinned versions. Sourced by the
# README's two commands, so a fresh Debian machine needs nothing done by hand.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
extras="${RAAZDAR_EXTRAS:-server}"
# Every artefact pip fetches must have a hash the repository pins (deploy/locks/, made by
# deploy/locks/lock.sh): an index or mirror that swaps a package is refused, not installed.
lock="$root/deploy/locks/$(tr ',' '\n' <<<"$extras" | sed '/^$/d' | sort -u | paste -sd+).txt"
if [ ! -f "$lock" ]; then
    echo "raazdar: error: no hashed lock for the extras '$extras'" >&2
    echo "raazdar: hint: RAAZDAR_EXTRAS is one of: $(cd "$root/deploy/locks" && ls -- *.txt \
        | sed -e '/^build\.txt$/d' -e 's/\.txt$//' -e 's/+/,/g' | paste -sd' ')" >&2
    return 1 2>/dev/null || exit 1
fi
if [ ! -x "$root/.venv/bin/python" ]; then
    python3 -m venv "$root/.venv"
fi
stamp="$root/.venv/.raazdar-installed"
want="$(cat "$root/pyproject.toml" "$root/deploy/locks/build.txt" "$lock" | sha256sum | cut -c1-16)-$extras"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    pip=("$root/.venv/bin/python" -m pip install --quiet --disable-pip-version-check)
    # The build tools first, then nothing is built in isolation: an isolated build
    # environment is filled from the index with no hash checked.
    "${pip[@]}" --require-hashes -r "$root/deploy/locks/build.txt"
    "${pip[@]}" --require-hashes --no-build-isolation -r "$lock"
    # Raazdar itself, from this checkout: nothing fetched.
    "${pip[@]}" --no-deps --no-build-isolation --no-index -e "$root[$extras]"
    echo "$want" > "$stamp"
fi
# Compiled catalogs (*.mo) are build output, kept out of git; compiling is cheap,
# so every run does it and an edited .po never goes stale. (-q is pybabel's own
# option: `compile -q` is refused.)
"$root/.venv/bin/pybabel" -q compile -d "$root/app/translations"
