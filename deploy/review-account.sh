#!/bin/sh
# Run once as each reviewer on the review workstation (docs/review-workstation.md §3):
# the shell keeps no history, nor do less, Python, sqlite3, vim or neovim, and the desktop keeps
# no list of recent files, no thumbnails, no viewer's metadata of the files it opened
# and no index of files' words. Report text typed at a prompt, or an attachment
# written out and viewed, then leaves no copy behind.
set -eu
home="${HOME:?HOME is not set}"
marker="# raazdar: no history on the review workstation"

for rc in "$home/.profile" "$home/.bashrc"; do
    if ! grep -qF "$marker" "$rc" 2>/dev/null; then
        cat >> "$rc" <<'PROFILE'

# raazdar: no history on the review workstation
unset HISTFILE
export HISTFILE=/dev/null HISTSIZE=0 HISTFILESIZE=0 SAVEHIST=0
export LESSHISTFILE=- SQLITE_HISTORY=/dev/null PYTHON_HISTORY=/dev/null
[ -n "${BASH_VERSION:-}" ] && set +o history
true
PROFILE
    fi
done

# Whatever history files exist are emptied and replaced by /dev/null, so a shell
# started some other way still writes nowhere.
for name in .bash_history .zsh_history .python_history .lesshst .sqlite_history .viminfo; do
    if [ -f "$home/$name" ] && [ ! -L "$home/$name" ]; then
        : > "$home/$name"
        rm -f "$home/$name"
    fi
    ln -sfn /dev/null "$home/$name"
done

# less started where neither file above was read (zsh, fish, a file manager's "open in
# terminal") writes its history anew and renames it over the ~/.lesshst link, keeping
# what was searched for in an attachment. less reads its lesskey file whatever started
# it: its #env section switches the history off there too (~/.lesskey for less before
# 600, ~/.config/lesskey, when there is one, for later ones).
for keys in "$home/.lesskey" "${XDG_CONFIG_HOME:-$home/.config}/lesskey"; do
    if [ "$keys" = "$home/.lesskey" ] || [ -f "$keys" ]; then
        if ! grep -qF "$marker" "$keys" 2>/dev/null; then
            printf '\n%s\n#env\nLESSHISTFILE=-\nLESSHISTSIZE=0\n' "$marker" >> "$keys"
        fi
    fi
done

# The link is no help against vim: it writes its viminfo anew and renames it over
# ~/.viminfo, which then keeps the searches, substitutions and yanked lines of a
# reviewer reading an attachment. Neovim keeps them in its shada, and writes the swap
# file of a file anywhere (the text, and the file's name) under ~/.local. A plugin
# each reads at every start turns both off, and keeps neovim's swap file beside the
# file, in /dev/shm for an attachment written out there, as vim's is.
config="${XDG_CONFIG_HOME:-$home/.config}"
data="${XDG_DATA_HOME:-$home/.local/share}"
state="${XDG_STATE_HOME:-$home/.local/state}"
for dir in "$home/.vim/plugin" "$config/nvim/plugin"; do
    mkdir -p "$dir"
    cat > "$dir/raazdar-no-history.vim" <<'VIM'
" raazdar: no history on the review workstation (deploy/review-account.sh)
if has('nvim')
  set shada= shadafile=NONE directory=.
else
  set viminfo= viminfofile=NONE
endif
set noundofile
VIM
done
for dir in "$state/nvim/shada" "$state/nvim/swap" "$data/nvim/shada" "$data/nvim/swap"; do
    for file in "$dir"/*; do
        if [ -f "$file" ] && [ ! -L "$file" ]; then
            : > "$file"
            rm -f "$file"
        fi
    done
done

# An attachment written out with `report open` and shown by the desktop leaves a
# thumbnail (the photo, small, with its path, often a name, in Thumb::URI) that
# outlives it: the thumbnail caches become links to /dev/null, where none is saved.
cache="${XDG_CACHE_HOME:-$home/.cache}"
mkdir -p "$cache"
for dir in "$cache/thumbnails" "$home/.thumbnails"; do
    if [ -e "$dir" ] && [ ! -L "$dir" ]; then
        rm -rf "$dir"
    fi
    ln -sfn /dev/null "$dir"
done

# The same attachment shown by Evince or the file manager leaves its path (a name,
# often) in GVfs's metadata store (each document's last page, zoom, position) and in
# GTK's list of recent files: both become links to /dev/null, where nothing is kept.
data="${XDG_DATA_HOME:-$home/.local/share}"
mkdir -p "$data"
for place in "$data/gvfs-metadata" "$data/recently-used.xbel"; do
    if [ -e "$place" ] && [ ! -L "$place" ]; then
        rm -rf "$place"
    fi
    ln -sfn /dev/null "$place"
done

if command -v gsettings > /dev/null 2>&1; then
    gsettings set org.gnome.desktop.privacy remember-recent-files false || true
    gsettings set org.gnome.desktop.privacy recent-files-max-age 0 || true
    gsettings set org.gnome.desktop.thumbnailers disable-all true || true
    # GNOME's file indexer keeps the words of every document it finds in its own database.
    gsettings set org.freedesktop.Tracker3.Miner.Files index-recursive-directories "[]" || true
    gsettings set org.freedesktop.Tracker3.Miner.Files index-single-directories "[]" || true
fi
if command -v systemctl > /dev/null 2>&1; then
    systemctl --user mask tracker-miner-fs-3.service localsearch-3.service > /dev/null 2>&1 || true
fi
echo "history, thumbnails and file indexing are off for $(id -un); log out and in again for it to take effect"
