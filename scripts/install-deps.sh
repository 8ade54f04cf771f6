#!/bin/sh
# Install the Debian packages leaksnoop needs to build and test, when missing.
#   scripts/install-deps.sh          build + test dependencies
#   scripts/install-deps.sh --bench  also the peers `make bench` measures
set -eu

BUILD="make gcc g++ clang llvm binutils pkg-config bpftool libbpf-dev libelf-dev libdw-dev
zlib1g-dev libcapstone-dev libcriterion-dev python3 util-linux
libjemalloc-dev libgoogle-perftools-dev musl-tools golang-go prometheus curl chromium nodejs
jq valgrind strace mandoc man-db systemd"
BENCH="bpftrace heaptrack"

wanted=$BUILD
[ "${1:-}" = "--bench" ] && wanted="$BUILD $BENCH"

missing=""
# npm ships inside some nodejs packages and as its own package in Debian's.
command -v npm >/dev/null 2>&1 || missing=" npm"
for pkg in $wanted; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing$missing" >&2
as_root=""
[ "$(id -u)" -eq 0 ] || as_root="sudo"
export DEBIAN_FRONTEND=noninteractive
$as_root apt-get update -qq
# shellcheck disable=SC2086
$as_root apt-get install -y -qq --no-install-recommends $missing >/dev/null
