#!/usr/bin/env bash
# Checks the layer picture of docs/ARCHITECTURE.md against the code: a folder may include the
# public header of its own folder or of a folder below it, never one above, and never another
# folder's private header.  Prints each breach and exits 1 if there is one.
set -euo pipefail
cd "$(dirname "$0")/.."

# The order, lowest first, and which folder owns each public header.
layers=(lib card tracker intel store ingest webhook server)
declare -A owner=(
    [buf]=lib [err]=lib [escape]=lib [form]=lib [log]=lib [tmpl]=lib [assets]=lib
    [card]=card [page]=card
    [tracker]=tracker [domain]=tracker [referral]=tracker [uap]=tracker
    [score]=intel [customers]=intel
    [store]=store
    [ingest]=ingest
    [webhook]=webhook
    [server]=server [auth]=server
)
declare -A rank
for i in "${!layers[@]}"; do rank[${layers[$i]}]=$i; done

bad=0
for h in include/sharecard/*.h; do
    name=$(basename "$h" .h)
    if [ -z "${owner[$name]:-}" ]; then
        echo "include/sharecard/$name.h: no folder owns it (add it to scripts/layers.sh)"
        bad=1
    fi
done
# A file's layer: its folder, or for a public header the folder that owns it.
layer_of() {
    case "$1" in
    include/sharecard/*) echo "${owner[$(basename "$1" .h)]}" ;;
    *) echo "${1%%/*}" ;;
    esac
}
for f in $(git ls-files 'include/sharecard/*.h' $(printf '%s/*.[ch] ' "${layers[@]}")); do
    me=$(layer_of "$f")
    while IFS= read -r inc; do
        case "$inc" in
        sharecard/*)
            dep=${owner[$(basename "$inc" .h)]:-}
            if [ -n "$dep" ] && [ "${rank[$dep]}" -gt "${rank[$me]}" ]; then
                echo "$f ($me) includes $inc, which belongs to $dep, a layer above"
                bad=1
            fi
            ;;
        */*)
            echo "$f ($me) includes another folder's private header $inc"
            bad=1
            ;;
        esac
    done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
done
[ "$bad" = 0 ] && echo "layers: every include points down (${layers[*]})"
exit "$bad"
