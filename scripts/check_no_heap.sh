#!/usr/bin/env bash
# check_no_heap.sh NM LIBRARY -- fail if LIBRARY (libpicoacme_core.a) has an
# undefined reference to a heap allocator. The core must never allocate
# (DESIGN.md, "No heap"); this checks the objects, not just the source.
#   scripts/check_no_heap.sh arm-none-eabi-nm build-m3/core/libpicoacme_core.a
set -u
nm=$1 lib=$2
[ -f "$lib" ] || { echo "FAIL: no library $lib"; exit 1; }
undef=$("$nm" -u "$lib") || { echo "FAIL: $nm -u $lib"; exit 1; }
bad=$(printf '%s\n' "$undef" | awk '
    /:$/ { obj = $1; next }
    { s = $NF; sub(/@.*/, "", s) }
    s ~ /^_?_?(malloc|calloc|realloc|free|reallocarray|strdup|strndup|aligned_alloc|memalign|posix_memalign|valloc)$/ ||
    s ~ /^_(malloc|calloc|realloc|free)_r$/ { print obj " " s }')
if [ -n "$bad" ]; then
    echo "FAIL: heap allocator referenced by the core:"
    printf '%s\n' "$bad" | sed 's/^/  /'
    exit 1
fi
echo "PASS: no heap allocator referenced by $(basename "$lib") ($(printf '%s\n' "$undef" | grep -c ':$') objects)"
