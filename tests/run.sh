#!/usr/bin/env bash
# The README's second command: install what the suite needs, start the services
# its slow tiers use, then run every tier. Extra arguments go to pytest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# Debian packages: age and gpg for the benchmark's comparison, chromium for the
# browser tier, postgresql for the PostgreSQL tier, tor for the Tor tier, e2fsprogs for
# the journal's seizure, vim, neovim and nano for the reviewer's editors. Installed only when missing,
# and only where we may (root with apt-get).
need=()
command -v age >/dev/null 2>&1 || need+=(age)
command -v gpg >/dev/null 2>&1 || need+=(gpg)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v pg_ctlcluster >/dev/null 2>&1 || need+=(postgresql)
command -v tor >/dev/null 2>&1 || need+=(tor)
# vim, neovim and nano: the account setup's and the review tool's checks that none keeps
# what a reviewer typed in it.
command -v vim >/dev/null 2>&1 || need+=(vim)
command -v nvim >/dev/null 2>&1 || need+=(neovim)
command -v nano >/dev/null 2>&1 || need+=(nano)
# debugfs and mkfs.ext4 for the seizure of a filesystem's journal.
[ -x /usr/sbin/debugfs ] && [ -x /usr/sbin/mkfs.ext4 ] || need+=(e2fsprogs)
# dosfstools, exfatprogs, fusefat and exfat-fuse: the FAT32 and exFAT sticks a bundle is
# carried on, made and mounted through FUSE, then read as whoever takes them would.
command -v mkfs.vfat >/dev/null 2>&1 || need+=(dosfstools)
command -v mkfs.exfat >/dev/null 2>&1 || need+=(exfatprogs)
command -v fusefat >/dev/null 2>&1 || need+=(fusefat)
command -v mount.exfat-fuse >/dev/null 2>&1 || need+=(exfat-fuse)
# Urdu needs real Nastaliq/Naskh fonts, or the browser screenshots show boxes.
[ -d /usr/share/fonts/truetype/noto ] || need+=(fonts-noto-core)
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "tests/run.sh: installing Debian packages: ${need[*]}"
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${need[@]}" >/dev/null
    else
        echo "tests/run.sh: missing ${need[*]}; the tiers that need them will fail" >&2
    fi
fi

# PostgreSQL: start the packaged cluster and make a role that may create the
# throwaway databases the PostgreSQL tier uses.
if command -v pg_ctlcluster >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    cluster="$(pg_lsclusters -h | awk 'NR==1 {print $1" "$2}')"
    if [ -n "$cluster" ]; then
        # shellcheck disable=SC2086
        pg_ctlcluster $cluster start 2>/dev/null || true
        for _ in $(seq 1 30); do
            su postgres -c "pg_isready -q -h 127.0.0.1" && break
            sleep 1
        done
        su postgres -c "psql -q -tc \"SELECT 1 FROM pg_roles WHERE rolname='raazdar_test'\"" \
            | grep -q 1 \
            || su postgres -c "psql -q -c \"CREATE ROLE raazdar_test LOGIN CREATEDB PASSWORD 'raazdar_test'\""
        # DROP DATABASE ... WITH (FORCE) must be able to end an autovacuum worker
        # that happens to be visiting a throwaway database.
        su postgres -c "psql -q -c \"GRANT pg_signal_backend TO raazdar_test\"" >/dev/null 2>&1 || true
        # In CI the cluster is the run's own, thrown away after it: it need not survive a
        # power cut, and each test's DROP DATABASE then waits on no disk flush (about
        # 0.2 s a test of the PostgreSQL tier). Its autovacuum launcher comes every 5 s,
        # not every minute: two tests wait for its visit (what its statistics date).
        # A developer's cluster is left as it is.
        if [ "${CI:-}" = true ]; then
            su postgres -c "psql -q -c 'ALTER SYSTEM SET fsync = off' \
                -c 'ALTER SYSTEM SET full_page_writes = off' \
                -c 'ALTER SYSTEM SET autovacuum_naptime = 5' -c 'SELECT pg_reload_conf()'" \
                >/dev/null
        fi
        export RAAZDAR_TEST_POSTGRES_URL="${RAAZDAR_TEST_POSTGRES_URL:-postgresql+psycopg://raazdar_test:raazdar_test@127.0.0.1:5432/postgres}"
    fi
fi

RAAZDAR_EXTRAS="server,review,submit,dev" source "$root/deploy/bootstrap.sh"
# The project's own modules compiled once, beside their sources (git ignores them). Where
# PYTHONDONTWRITEBYTECODE is set, as the server's units set it, every tool a test starts
# compiled them again: some 0.4 s of CPU a start. The run itself still writes none.
"$root/.venv/bin/python" -m compileall -q -j 0 app crypto review submit tests >/dev/null
# Two workers (pytest-xdist; none on one core): the suite waits on fsync, sockets, tor
# and browsers about as much as it computes, so two halve most of it even on two cores.
# A file's tests, and the whole Tor tier, stay on one worker (tests/conftest.py).
# RAAZDAR_TEST_WORKERS=0 runs everything in this process. pytest exits 5 when it
# collected nothing: with set -e that fails the run.
workers="${RAAZDAR_TEST_WORKERS:-$(( $(nproc) >= 2 ? 2 : 0 ))}"
"$root/.venv/bin/python" -m pytest -n "$workers" --dist loadgroup "$@"
