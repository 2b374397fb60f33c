#!/bin/sh
# make install / make uninstall into a DESTDIR staging tree (issue 12 item 1):
# the exact file list, modes and symlinks, the paths compiled in for another
# PREFIX and SYSCONFDIR, a config that install never overwrites, and an
# uninstall that leaves nothing but a changed config (and directories that
# other software shares, such as share/man/man1). Builds in a build dir of
# its own, so that the tree's build/ keeps its paths. Needs no root.
#
#   sh tests/package/install.sh        from the top of the tree
# Exits 1 when a check fails, after all of them ran.
set -u
cd "$(dirname "$0")/../.." || exit 1
top=$(pwd)

checks=0 failures=0
ok() { checks=$((checks + 1)); }
bad() {
	checks=$((checks + 1)) failures=$((failures + 1))
	echo "install test: FAIL: $*" >&2
}
# check DESCRIPTION COMMAND...: one check, the command's status.
check() {
	what=$1
	shift
	if "$@"; then ok; else bad "$what"; fi
}

stage=$(mktemp -d "${TMPDIR:-/tmp}/apitoken-install.XXXXXX") || exit 1
bdir=build/install-test
trap 'rm -rf "$stage" "$top/$bdir"' EXIT INT TERM HUP

prefix=/opt/apitoken
sysconf=/etc/apitoken-test
pamdir=/lib/security-test
vars="DESTDIR=$stage PREFIX=$prefix SYSCONFDIR=$sysconf PAMDIR=$pamdir B=$bdir"
log=$stage.log
# shellcheck disable=SC2086
if ! make -j2 --no-print-directory $vars install >"$log" 2>&1; then
	cat "$log"
	rm -f "$log"
	echo "install test: make install failed" >&2
	exit 1
fi

# Every file and link under the stage, with its type and mode, sorted.
listing() { (cd "$stage" && find . ! -type d -printf '%y %m %p %l\n' | sort); }

want=$(sort <<EOF
f 644 .$sysconf/security/pam_apitoken.conf 
f 644 .$pamdir/pam_apitoken.so 
f 644 .$prefix/share/man/man1/apitoken.1 
f 644 .$prefix/share/man/man5/pam_apitoken.conf.5 
f 644 .$prefix/share/man/man8/pam_apitoken.8 
f 711 .$prefix/libexec/apitoken/apitoken 
l 777 .$prefix/libexec/apitoken/apitoken-askpass apitoken
l 777 .$prefix/bin/apitoken $prefix/libexec/apitoken/apitoken
EOF
)
got=$(listing)
if [ "$got" = "$want" ]; then ok; else
	bad "installed files"
	printf 'want:\n%s\ngot:\n%s\n' "$want" "$got" >&2
fi
check "the shipped config" cmp -s conf/pam_apitoken.conf "$stage$sysconf/security/pam_apitoken.conf"
check "the module is the built one" cmp -s "$bdir/pam_apitoken.so" "$stage$pamdir/pam_apitoken.so"
# The paths the code was built with are the installed ones.
check "helper path compiled in" grep -q -a "$prefix/libexec/apitoken/apitoken" \
	"$stage$pamdir/pam_apitoken.so"
check "config path compiled in" grep -q -a "$sysconf/security/pam_apitoken.conf" \
	"$stage$pamdir/pam_apitoken.so"
# Into a DESTDIR: no cache directory, no user (the package's postinst makes them).
check "no cache directory in the stage" test ! -e "$stage/var/cache/pam_apitoken"
check "install into DESTDIR says nothing of useradd" sh -c "! grep -q useradd '$log'"

# A second install keeps a changed config.
echo "# changed by the sysadmin" >>"$stage$sysconf/security/pam_apitoken.conf"
changed=$(cat "$stage$sysconf/security/pam_apitoken.conf")
# shellcheck disable=SC2086
make --no-print-directory $vars install >"$log" 2>&1
check "second install" test $? -eq 0
check "second install keeps the config" \
	test "$(cat "$stage$sysconf/security/pam_apitoken.conf")" = "$changed"
check "second install says so" grep -q "keeping existing" "$log"

# Uninstall with the changed config: only that one file stays.
# shellcheck disable=SC2086
make --no-print-directory $vars uninstall >"$log" 2>&1
check "uninstall (changed config)" test $? -eq 0
check "uninstall keeps the changed config" \
	test "$(listing)" = "f 644 .$sysconf/security/pam_apitoken.conf "
check "uninstall says why it kept the config" grep -q "keeping.*differs" "$log"
check "uninstall removes the helper's directory" test ! -e "$stage$prefix/libexec/apitoken"

# Install again over the kept config, restore it, uninstall: nothing stays.
cp conf/pam_apitoken.conf "$stage$sysconf/security/pam_apitoken.conf"
# shellcheck disable=SC2086
make --no-print-directory $vars install >"$log" 2>&1 &&
	make --no-print-directory $vars uninstall >"$log" 2>&1
check "install + uninstall (unchanged config)" test $? -eq 0
check "uninstall leaves no file" test -z "$(listing)"

# Uninstall on a tree with nothing installed: says so, exits 0, touches nothing.
mkdir -p "$stage$prefix/bin" && echo other >"$stage$prefix/bin/other-tool"
# shellcheck disable=SC2086
make --no-print-directory $vars uninstall >"$log" 2>&1
check "uninstall of nothing exits 0" test $? -eq 0
check "uninstall of nothing says so" grep -q "nothing of pam_apitoken installed" "$log"
check "uninstall of nothing leaves other files" test -f "$stage$prefix/bin/other-tool"

rm -f "$log"
echo "install test: $((checks - failures)) of $checks checks passed"
[ "$failures" -eq 0 ]
