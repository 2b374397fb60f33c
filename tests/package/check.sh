#!/bin/sh
# The Debian package end to end (issue 12 item 2), on this machine, as root:
#   1. a clean clone of HEAD (no stray build file can reach the package),
#      dpkg-buildpackage -us -uc -b, lintian (an error or a warning fails);
#   2. dpkg -i of both packages: every file, mode and owner, the conffile,
#      the user _apitoken, the cache directory, and /etc/pam.d and /etc/ssh
#      unchanged (the profile is off);
#   3. the installed module and helper through the real libpam against the
#      test issuer, and the profile's stack (CHECK_INSTALLED, see
#      tests/package/check_installed.c);
#   4. the profile enabled with pam-auth-update, then dpkg -r: the removal
#      takes it out of common-auth again before the module goes;
#   5. dpkg --purge: every file gone but the user (Debian practice), /etc/pam.d
#      and /etc/ssh as they were, the clone removed.
# Whatever fails, the packages are purged and the machine restored on exit.
# dpkg is machine-wide: run it under the suite's lock,
#   flock /tmp/apitoken-check.lock make check-package
#
#   sh tests/package/check.sh BUILD/tests/check_installed   from the top of the tree
set -u
cd "$(dirname "$0")/../.." || exit 1
top=$(pwd)
bin=${1:?usage: check.sh PATH/TO/check_installed}
case $bin in /*) ;; *) bin=$top/$bin ;; esac

if [ "$(id -u)" -ne 0 ]; then
	echo "check-package: skipped: it needs root (dpkg -i, a system user, /etc/pam.d)"
	exit 0
fi

say() { echo "check-package: $*"; }
die() {
	echo "check-package: FAIL: $*" >&2
	exit 1
}
checks=0 failures=0
ok() { checks=$((checks + 1)); }
bad() {
	checks=$((checks + 1)) failures=$((failures + 1))
	echo "check-package: FAIL: $*" >&2
}
# check DESCRIPTION COMMAND...: one check, the command's status.
check() {
	what=$1
	shift
	if "$@" >/dev/null 2>&1; then ok; else bad "$what"; fi
}
# mode_is PATH MODE OWNER GROUP: stat's octal mode and owners.
mode_is() { [ "$(stat -c '%a %U %G' "$1")" = "$2 $3 $4" ]; }

started=$(date +%s)
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
version=$(sed -n 's/^VERSION *:= *//p' Makefile)
module="/usr/lib/$ma/security/pam_apitoken.so"
helper=/usr/libexec/apitoken/apitoken
conf=/etc/security/pam_apitoken.conf
profile=/usr/share/pam-configs/apitoken
cache=/var/cache/pam_apitoken
pkg_files="$module $helper /usr/libexec/apitoken/apitoken-askpass /usr/bin/apitoken $conf
	$profile /usr/share/man/man1/apitoken.1.gz /usr/share/man/man5/pam_apitoken.conf.5.gz
	/usr/share/man/man8/pam_apitoken.8.gz /usr/share/doc/libpam-apitoken/examples/sshd
	/usr/share/doc/apitoken/copyright"

# What must be as it was: /etc/pam.d and /etc/ssh, every entry, mode and
# content. Not the services sshd-apitoken-* that the sshd tests of a suite
# run elsewhere on this machine make and remove (tests/support/sshd.c).
snapshot() {
	find /etc/pam.d /etc/ssh ! -name 'sshd-apitoken-*' -printf '%y %m %u %g %p %l\n' | sort
	find /etc/pam.d /etc/ssh -type f ! -name 'sshd-apitoken-*' -exec sha256sum {} + |
		sort -k 2
}
# present PACKAGE: dpkg knows it, installed or with its config files left.
present() {
	s=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
	case $s in *not-installed) return 1 ;; *) return 0 ;; esac
}

for p in libpam-apitoken apitoken; do
	present "$p" && die "$p is installed already: purge it first (dpkg --purge $p)"
done
[ -e /usr/libexec/apitoken ] && die "/usr/libexec/apitoken exists: not the package's, remove it first"
[ -e $cache ] && die "$cache exists: not the package's, remove it first"
[ -e $conf ] && die "$conf exists: not the package's, remove it first"

work=$(mktemp -d /tmp/apitoken-package.XXXXXX) || die "mktemp"
before=$(snapshot)
# pam-auth-update's own state (which profiles it has seen): restored at the end.
cp -a /var/lib/pam "$work/var-lib-pam"
cp -a /etc/pam.d "$work/etc-pam.d"
had_user=no
getent passwd _apitoken >/dev/null && had_user=yes
had_group=no
getent group _apitoken >/dev/null && had_group=yes

cleanup() {
	rc=$?
	for p in libpam-apitoken apitoken; do
		if present "$p"; then
			echo "check-package: cleanup: dpkg --purge $p" >&2
			dpkg --purge "$p" >/dev/null 2>&1 || rc=1
		fi
	done
	# A check that failed half-way may leave the profile in the stack:
	# pam-auth-update writes the common-* files only.
	for f in "$work/etc-pam.d"/common-*; do
		if ! cmp -s "$f" "/etc/pam.d/${f##*/}"; then
			echo "check-package: cleanup: restoring /etc/pam.d/${f##*/}" >&2
			cp -a "$f" /etc/pam.d/
			rc=1
		fi
	done
	rm -rf /var/lib/pam && cp -a "$work/var-lib-pam" /var/lib/pam
	if [ "$had_user" = no ] && getent passwd _apitoken >/dev/null; then
		userdel _apitoken >/dev/null 2>&1 || echo "check-package: cleanup: userdel failed" >&2
	fi
	if [ "$had_group" = no ] && getent group _apitoken >/dev/null; then
		groupdel _apitoken >/dev/null 2>&1
	fi
	rm -rf "$work"
	exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# --- 1. build in a clean clone ---------------------------------------------------
head=$(git rev-parse HEAD)
[ -n "$(git status --porcelain --untracked-files=no)" ] &&
	say "note: uncommitted changes are not tested, only HEAD $head"
{ git clone --quiet --no-checkout "$top" "$work/src" && git -C "$work/src" checkout --quiet "$head"; } ||
	die "git clone"
say "dpkg-buildpackage -us -uc -b ($head)"
(cd "$work/src" && dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1 || {
	tail -n 40 "$work/build.log"
	die "dpkg-buildpackage failed (the last lines above)"
}
changes=$work/pam-apitoken_${version}_$(dpkg-architecture -qDEB_HOST_ARCH).changes
[ -f "$changes" ] || die "no $changes: is debian/changelog's version the Makefile's $version?"
deb_mod=$work/libpam-apitoken_${version}_$(dpkg-architecture -qDEB_HOST_ARCH).deb
deb_helper=$work/apitoken_${version}_$(dpkg-architecture -qDEB_HOST_ARCH).deb
say "lintian"
lintian --fail-on error,warning --info "$changes" || die "lintian (its tags above)"
ok

# --- the maintainer scripts, their commands stubbed ------------------------------
# What postinst does on a machine without _apitoken (this one may have it),
# and that the scripts call pam-auth-update only as the profile's off state
# allows. Each stub records its command line.
mkdir -p "$work/ctl" "$work/stub"
dpkg-deb -e "$deb_mod" "$work/ctl" || die "dpkg-deb -e"
for c in getent adduser install pam-auth-update rm; do
	printf '#!/bin/sh\necho "%s $*" >>"%s"\n%s\n' "$c" "$work/calls" \
		"$([ $c = getent ] && echo 'exit 2' || echo 'exit 0')" >"$work/stub/$c"
	chmod +x "$work/stub/$c"
done
# script ARGS...: runs "ctl/SCRIPT ARGS" with the stubs; prints the calls but getent's.
script() {
	: >"$work/calls"
	PATH="$work/stub:$PATH" sh "$work/ctl/$1" "$2" >/dev/null 2>&1 || echo "exit $?"
	grep -v '^getent ' "$work/calls"
}
check "postinst configure" test "$(script postinst configure)" = "$(printf '%s\n' \
	'adduser --quiet --system --group --no-create-home --home /nonexistent --shell /usr/sbin/nologin _apitoken' \
	'install -d -m 0700 -o root -g root /var/cache/pam_apitoken' \
	'pam-auth-update --package')"
check "prerm remove" test "$(script prerm remove)" = 'pam-auth-update --package --remove apitoken'
check "prerm upgrade does nothing" test -z "$(script prerm upgrade)"
check "postrm purge" test "$(script postrm purge)" = 'rm -rf /var/cache/pam_apitoken'
check "postrm remove does nothing" test -z "$(script postrm remove)"
check "no script names /etc/pam.d or /etc/ssh" sh -c "! cat '$work/ctl/postinst' '$work/ctl/prerm' \
	'$work/ctl/postrm' | grep -v '^[[:space:]]*#' | grep -q -e /etc/pam.d -e /etc/ssh"

# --- 2. install -----------------------------------------------------------------------
say "dpkg -i $(basename "$deb_helper") $(basename "$deb_mod")"
DEBIAN_FRONTEND=noninteractive dpkg -i "$deb_helper" "$deb_mod" >"$work/install.log" 2>&1 || {
	cat "$work/install.log"
	die "dpkg -i"
}
check "both packages installed" sh -c "dpkg-query -W -f='\${Status}\n' libpam-apitoken apitoken |
	grep -c 'install ok installed' | grep -qx 2"
for f in $pkg_files; do check "$f installed" test -e "$f"; done
# dh_compress gzips it past 4 KiB.
check "README.Debian installed" sh -c "ls /usr/share/doc/libpam-apitoken/README.Debian*"
check "module 0644 root" mode_is "$module" 644 root root
check "helper 0711 root" mode_is $helper 711 root root
check "apitoken-askpass -> apitoken" test "$(readlink /usr/libexec/apitoken/apitoken-askpass)" = apitoken
check "/usr/bin/apitoken -> the helper" test "$(readlink -f /usr/bin/apitoken)" = $helper
check "/usr/bin/apitoken runs" sh -c "/usr/bin/apitoken --version | grep -q '$version'"
check "config 0644 root" mode_is $conf 644 root root
check "config is the shipped one" cmp -s $conf conf/pam_apitoken.conf
check "config is a conffile" sh -c "dpkg-query -W -f='\${Conffiles}' libpam-apitoken |
	grep -q '^ $conf '"
check "profile is the shipped one" cmp -s $profile conf/pam-configs/apitoken
check "profile is off by default" grep -qx 'Default: no' $profile
check "module in libpam's directory" test -e "/lib/$ma/security/pam_apitoken.so"
check "helper path compiled into the module" grep -q -a "$helper" "$module"
check "module package depends on the helper's" sh -c "dpkg-query -W -f='\${Depends}' libpam-apitoken |
	grep -q 'apitoken (= $version)'"
check "helper package depends on libcurl4 (dlopen)" sh -c "dpkg-query -W -f='\${Depends}' apitoken |
	grep -q libcurl4"
check "cache dir 0700 root" mode_is $cache 700 root root
check "user _apitoken" getent passwd _apitoken
if [ "$had_user" = yes ]; then
	say "note: _apitoken existed before the test; postinst kept it"
else
	check "postinst's _apitoken: nologin, no home" sh -c \
		"getent passwd _apitoken | grep -q ':/nonexistent:/usr/sbin/nologin$' && ! test -e /nonexistent"
fi
if [ "$(snapshot)" = "$before" ]; then ok; else
	bad "dpkg -i changed /etc/pam.d or /etc/ssh"
	echo "$before" >"$work/before" && snapshot >"$work/after"
	diff "$work/before" "$work/after" >&2

fi
check "common-auth does not name the module" sh -c "! grep -q pam_apitoken /etc/pam.d/common-*"

# --- 3. the installed module through libpam ------------------------------------------
say "the installed module and helper through libpam ($(basename "$bin"))"
if APITOKEN_INSTALLED_MODULE=pam_apitoken.so APITOKEN_INSTALLED_HELPER=$helper \
	APITOKEN_PROFILE=$profile "$bin" >"$work/installed.log" 2>&1; then ok; else
	cat "$work/installed.log"
	bad "$(basename "$bin") against the installed package"
fi
grep -E '^[0-9]+%: Checks' "$work/installed.log"

# --- 4. an enabled profile leaves the stack on remove --------------------------------
DEBIAN_FRONTEND=noninteractive pam-auth-update --package --enable apitoken >/dev/null 2>&1
check "pam-auth-update --enable puts the module in common-auth" \
	grep -q 'pam_apitoken.so' /etc/pam.d/common-auth
check "above pam_unix" sh -c "grep -n -e pam_apitoken -e pam_unix /etc/pam.d/common-auth |
	head -n 1 | grep -q pam_apitoken"
DEBIAN_FRONTEND=noninteractive dpkg -r libpam-apitoken >"$work/remove.log" 2>&1 ||
	bad "dpkg -r libpam-apitoken: $(cat "$work/remove.log")"
check "dpkg -r took the module out of common-auth" sh -c "! grep -q pam_apitoken /etc/pam.d/common-auth"
check "the module is gone" test ! -e "$module"
check "remove keeps the config" test -e $conf
check "remove keeps the cache" test -d $cache

# --- 5. purge ---------------------------------------------------------------------------
DEBIAN_FRONTEND=noninteractive dpkg --purge libpam-apitoken apitoken >"$work/purge.log" 2>&1 ||
	bad "dpkg --purge: $(cat "$work/purge.log")"
check "libpam-apitoken purged" eval '! present libpam-apitoken'
check "apitoken purged" eval '! present apitoken'
for f in $pkg_files; do check "$f removed" sh -c "! test -e $f && ! test -L $f"; done
for d in /usr/libexec/apitoken /usr/share/doc/libpam-apitoken /usr/share/doc/apitoken; do
	check "$d removed" test ! -e $d
done
check "purge removes the cache" test ! -e $cache
check "purge keeps the user _apitoken" getent passwd _apitoken
if [ "$(snapshot)" = "$before" ]; then ok; else
	bad "/etc/pam.d or /etc/ssh differ after purge"
	echo "$before" >"$work/before" && snapshot >"$work/after"
	diff "$work/before" "$work/after" >&2
fi

trap - EXIT
cleanup_status=0
(cleanup) || cleanup_status=$?
check "the clone removed" test ! -e "$work"
check "cleanup" test "$cleanup_status" -eq 0
say "$((checks - failures)) of $checks checks passed in $(($(date +%s) - started)) s"
[ "$failures" -eq 0 ]
