#!/bin/sh
# Installs what the build and the tests need on Debian 12, and only what is
# missing: a second run does nothing. Debian packages with apt-get (as root),
# the test issuer's npm packages with `npm ci` from the pinned lock file.
# Arguments: more Debian packages a target needs on top (make check-asan:
# libasan8 libubsan1, make check-valgrind: valgrind, make fuzz-deps: clang
# libclang-rt-14-dev, make lint: its analysers), installed the same way,
# only when missing. glewlwyd is the second real issuer of the tests
# (tests/glewlwyd).
set -eu

pkgs="gcc make pkg-config libpam0g-dev libcurl4-openssl-dev libjansson-dev libssl-dev check
      openssh-server openssh-client pamtester libpam-wrapper git rsync ca-certificates openssl
      glewlwyd $*"
command -v node >/dev/null 2>&1 || pkgs="$pkgs nodejs"
command -v npm >/dev/null 2>&1 || pkgs="$pkgs npm"

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: missing Debian packages:$missing" >&2
		echo "deps: run 'make deps' as root, or install them yourself" >&2
		exit 1
	fi
	echo "deps: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# The lock file pins the issuer; reinstall only when it changed.
idp=tests/idp
if [ ! -f "$idp/node_modules/.package-lock.json" ] ||
	[ "$idp/package-lock.json" -nt "$idp/node_modules/.package-lock.json" ]; then
	echo "deps: npm ci in $idp"
	(cd "$idp" && npm ci --no-audit --no-fund --loglevel=error)
fi
