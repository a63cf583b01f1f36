#!/bin/sh
# Proves that a generated connector crate stands alone: generates it with
# `ecma-host new-connector` into a temporary folder outside this workspace, builds it against
# this workspace's plugin-api by path (a [patch] of the crates.io version it names), and runs
# its tests, which run the connector kit.
#
# usage: plugin-api/template/check.sh [CRATE_DIR]
#   CRATE_DIR: a crate generated already (outside the workspace); by default one is generated.
# SKELETON_TARGET_DIR: where to build (default target/skeleton, kept between runs).
set -eu
ws=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ecma-connector-skeleton.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

if [ $# -ge 1 ]; then
    crate=$(cd "$1" && pwd)
else
    (cd "$ws" && cargo run -q -p ecma-host -- new-connector kit-skeleton --dir "$tmp")
    crate=$tmp/kit-skeleton
fi
case "$crate/" in
"$ws"/*)
    echo "check.sh: $crate is inside the workspace; the point is to build outside it" >&2
    exit 1
    ;;
esac

# The crate names plugin-api by version, as a third party's does; this workspace's copy
# stands in for the published one, and the workspace's lock file for the versions of its
# dependencies (already downloaded).
cat >>"$crate/Cargo.toml" <<PATCH

[patch.crates-io]
plugin-api = { path = "$ws/plugin-api" }
PATCH
cp "$ws/Cargo.lock" "$crate/Cargo.lock"

export CARGO_TARGET_DIR="${SKELETON_TARGET_DIR:-$ws/target/skeleton}"
cargo test --manifest-path "$crate/Cargo.toml"
cargo build --manifest-path "$crate/Cargo.toml"
lib=$(sed -n 's/^name = "\(.*\)"$/\1/p' "$crate/Cargo.toml" | head -n 1 | tr - _)
test -f "$CARGO_TARGET_DIR/debug/lib$lib.so"
echo "check.sh: the generated connector builds out of tree and passes the connector kit"
