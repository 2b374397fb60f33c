#!/bin/bash
# make demo: the main job, end to end, on this machine, on loopback only.
#
# It follows README.md's "Quick start for a sysadmin" where it can: make
# install (into a scratch DESTDIR), the group and the machine user, the
# installed pam_apitoken.conf with the README's keys, the README's two PAM
# lines above "@include common-auth" in a copy of this host's /etc/pam.d/sshd,
# the shipped sshd drop-in included by a copy of this host's sshd_config,
# sshd -t and sshd -T, a reload. Every line that must differ from the README
# (paths into the scratch directory, the test issuer's URL and client) is
# printed with the reason. Then a machine user logs in over SSH with an API
# token, clones and pushes a git repository and rsyncs a tree through
# `apitoken exec`; the second login is served from the cache; a short-lived
# certificate logs in; a revoked token is refused once the cache TTL has
# passed, and the reason is shown. The real test issuer (oidc-provider), the
# real sshd, ssh, git and rsync. Everything it makes (user, PAM service,
# processes, files) is removed at the end. Nothing of the host's own
# /etc/pam.d/sshd, /etc/ssh or sshd changes. Exit 0 only if every step did
# what it says.
set -u
cd "$(dirname "$0")/.." || exit 1
top=$PWD

[ "$(id -u)" -eq 0 ] || {
	echo "make demo: run as root (it creates a user and an sshd)"
	exit 1
}

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
note() { printf '   %s\n' "$*"; }
ok() { printf '   \033[32mok\033[0m  %s\n' "$*"; }
fail() {
	printf '   \033[31mFAILED\033[0m  %s\n' "$*"
	if [ -s "$work/sshd.log" ]; then
		echo "   sshd's log:"
		tail -n 15 "$work/sshd.log" | sed 's/^/      /'
	fi
	# The module's error lines (which file, which line) go to syslog only.
	if [ -s "$work/auth.log" ]; then
		echo "   the module's syslog lines:"
		grep -a 'pam_apitoken' "$work/auth.log" | sed 's/^<[0-9]*>//' | tail -n 5 | sed 's/^/      /'
	fi
	failed=1
	exit 1
}
failed=0

# --- what we make, and how it goes away -------------------------------------------
# Not /tmp: the module refuses files under a directory that others can write.
work=$(mktemp -d /run/apitoken-demo.XXXXXX)
chmod 755 "$work"
tag=$(basename "$work" | tr -cd 'a-zA-Z0-9' | tail -c 7 | tr 'A-Z' 'a-z')
user="apitoken-demo-$tag"
service="sshd-apitoken-demo-$tag"
# The build's output goes here, not to the screen; kept after the demo (build/ is ours).
log=$top/build/demo.log
made_group=0 made_helper_user=0
sshd_pid="" idp_pid="" sink_pid=""

cleanup() {
	set +e
	[ -n "$sshd_pid" ] && kill "$sshd_pid" 2>/dev/null && wait "$sshd_pid" 2>/dev/null
	[ -n "$idp_pid" ] && kill "$idp_pid" 2>/dev/null && wait "$idp_pid" 2>/dev/null
	[ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null && wait "$sink_pid" 2>/dev/null
	id "$user" >/dev/null 2>&1 && userdel -r "$user" 2>/dev/null
	[ "$made_group" = 1 ] && groupdel apitoken 2>/dev/null
	[ "$made_helper_user" = 1 ] && userdel _apitoken 2>/dev/null
	rm -f "/etc/pam.d/$service"
	rm -rf "$work"
	echo
	if [ "$failed" = 0 ]; then
		echo "Demo complete: every step did what it said. Removed the user, the PAM"
		echo "service, the sshd, the issuer and $work."
	else
		echo "Demo FAILED (see above). Removed what it had made."
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ssh_opts=(-o UserKnownHostsFile="$work/known_hosts" -o PreferredAuthentications=keyboard-interactive
	-o PubkeyAuthentication=no -o ConnectTimeout=10 -o LogLevel=ERROR)

free_port() {
	node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

# The decisions, from audit_file (README step 4), one readable line each.
audit_lines() {
	jq -r '"\(.result) reason=\(.reason) user=\(.user) rhost=\(.rhost) token=\(.token) source=\(.source) ms=\(.ms)"' \
		"$work/audit.json" 2>/dev/null
}
show_audit() { audit_lines | tail -n 1 | sed 's/^/   audit_file: /'; }

# Sets KEY = VALUE in a pam_apitoken.conf: on its "KEY =" or "#KEY =" line, else at the end.
conf_set() { # FILE KEY VALUE
	awk -v k="$2" -v v="$3" '
		!done && $0 ~ ("^#?" k " *=") { print k " = " v; done = 1; next }
		{ print }
		END { if (!done) print k " = " v }' "$1" >"$1.new" && mv "$1.new" "$1"
}

# Prints the lines of FILE that are not in the README's version README_FILE,
# each with the reason given for its key in the array why[].
declare -A why
show_changes() { # README_FILE FILE
	diff "$1" "$2" | sed -n 's/^> //p' | while IFS= read -r line; do
		key=${line%% *}
		printf '      %-58s  %s\n' "$line" "${why[$key]:-}"
	done
}

# Waits until sshd accepts connections on PORT.
wait_port() {
	for _ in $(seq 50); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# --- 0. prerequisites --------------------------------------------------------------
say "0. Prerequisites and README step 2: build, make install"
note "installing what is missing (Debian packages, the test issuer's npm packages)"
note "and building; the output goes to $log, shown only if this fails"
mkdir -p "$top/build"
: >"$log"
if ! { sh tests/deps.sh jq && make -s all build/tools/syslog-sink; } >>"$log" 2>&1; then
	tail -n 20 "$log" | sed 's/^/      /'
	fail "installing or building: the whole output is in $log"
fi
ok "built build/pam_apitoken.so and build/apitoken"

# README step 2, from source: make install, into a scratch DESTDIR here, so
# that nothing of this host's /usr or /etc changes.
root=$work/root
make -s install DESTDIR="$root" >>"$log" 2>&1 || fail "make install DESTDIR=$root: see $log"
module=$root$(pkg-config --variable=libdir pam)/security/pam_apitoken.so
helper=$root/usr/local/libexec/apitoken/apitoken
conf=$root/etc/security/pam_apitoken.conf
[ -f "$module" ] && [ -x "$helper" ] && [ -f "$conf" ] || fail "make install did not install the module, the helper and the config"
ok "make install DESTDIR=$root: module, helper (mode $(stat -c %a "$helper")), config, man pages"

# make install creates the helper's system user, but not into a DESTDIR
# (that is left to packagers): as README step 2 says, by hand.
if ! getent passwd _apitoken >/dev/null; then
	useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin _apitoken ||
		fail "useradd _apitoken"
	made_helper_user=1
fi

# Starts a server whose stdin is a FIFO this shell holds open: when the demo
# ends, however it ends, the server sees EOF and stops. Waits for its first line.
start() { # NAME FD COMMAND...
	local name=$1 fd=$2
	shift 2
	mkfifo "$work/$name.in"
	"$@" <"$work/$name.in" >"$work/$name.out" 2>"$work/$name.err" &
	started=$!
	eval "exec $fd>\"\$work/\$name.in\""
	for _ in $(seq 300); do
		[ -s "$work/$name.out" ] && return 0
		kill -0 "$started" 2>/dev/null || break
		sleep 0.1
	done
	return 1
}

# No syslog daemon here? Then catch the module's syslog lines ourselves, for
# the error lines shown if a step fails; the decisions are read from audit_file.
if [ ! -e /dev/log ]; then
	start sink 7 build/tools/syslog-sink /dev/log "$work/auth.log" || fail "syslog sink did not start"
	sink_pid=$started
fi

# --- 1. the issuer --------------------------------------------------------------------
say "1. The issuer: oidc-provider on loopback, with RFC 7662 introspection"
start idp 8 node tests/idp/server.js || fail "the test issuer did not start: $(cat "$work/idp.err")"
idp_pid=$started
read -r _ idp_port <"$work/idp.out"
issuer="http://127.0.0.1:$idp_port"
ok "issuer at $issuer"
introspections() { curl -s "$issuer/test/stats" | sed -E 's/.*"introspections":([0-9]+).*/\1/'; }

# --- 2. the host ----------------------------------------------------------------------
say "2. README steps 3-6: machine user, config, PAM, sshd"
if ! getent group apitoken >/dev/null; then
	groupadd apitoken || fail "groupadd"
	made_group=1
fi
useradd --create-home --shell /bin/bash --groups apitoken "$user" || fail "useradd"
ok "step 3: user $user in group apitoken (no password, no keys)"

# Step 4: the installed file with the README's keys, and where the demo must differ.
install -m 0600 /dev/null "$work/client.secret"
printf 'rs-secret\n' >"$work/client.secret"
readme_conf=$work/readme.conf
cp "$conf" "$readme_conf"
while read -r key value; do
	conf_set "$readme_conf" "$key" "$value"
	conf_set "$conf" "$key" "$value"
done <<'EOF'
introspection_url https://auth.example.com/oauth2/introspect
client_id ssh-gateway
client_secret_file /etc/security/pam_apitoken.secret
token_prefixes ucat_ huc_ upk_
required_scopes ssh
audit_file /var/log/pam_apitoken.json
EOF
why[introspection_url]="the test issuer, on loopback"
why[client_id]="the test issuer's client for resource servers"
why[client_secret_file]="its secret (rs-secret), in the scratch directory"
why[audit_file]="in the scratch directory"
why[cache_dir]="a private cache, removed at the end"
why[cache_ttl]="5 s, so that revocation shows in seconds (default 60)"
why[helper]="installed under DESTDIR, not /usr/local"
conf_set "$conf" introspection_url "$issuer/token/introspection"
conf_set "$conf" client_id rs
conf_set "$conf" client_secret_file "$work/client.secret"
conf_set "$conf" audit_file "$work/audit.json"
conf_set "$conf" cache_dir "$work/cache"
conf_set "$conf" cache_ttl 5
conf_set "$conf" helper "$helper"
note "step 4: $conf, README's keys set; the lines that differ from the README:"
show_changes "$readme_conf" "$conf"
if "$helper" check --help >/dev/null 2>&1; then
	out=$("$helper" check --config "$conf" 2>&1) || fail "apitoken check --config $conf: $out"
	ok "apitoken check --config $conf: no problem"
fi

# Step 5, by hand: this host's /etc/pam.d/sshd with the README's two lines
# just above "@include common-auth", as a service of its own.
readme_pam=$(grep -v '^#' conf/pam.d/sshd | grep .)
[ "$(printf '%s\n' "$readme_pam" | wc -l)" -eq 2 ] || fail "conf/pam.d/sshd: expected two lines"
demo_pam=$(printf '%s\n' "$readme_pam" | sed "s|pam_apitoken.so|$module config=$conf|")
if [ -f /etc/pam.d/sshd ] && grep -q '^@include common-auth' /etc/pam.d/sshd; then
	INS=$demo_pam awk '!done && /^@include common-auth/ { print ENVIRON["INS"]; done = 1 } { print }' \
		/etc/pam.d/sshd >"/etc/pam.d/$service"
	note "step 5: /etc/pam.d/$service is this host's /etc/pam.d/sshd with, above @include common-auth:"
else
	# No stock file to copy: the README's lines and Debian's stock includes.
	printf '%s\n@include common-auth\n@include common-account\n@include common-session\n' \
		"$demo_pam" >"/etc/pam.d/$service"
	note "step 5: no /etc/pam.d/sshd with @include common-auth here: /etc/pam.d/$service is"
	note "the README's lines and @include common-auth, common-account, common-session:"
fi
printf '%s\n' "$demo_pam" | sed 's/^/      /'
note "which differ from the README's only in pam_apitoken.so's path (installed under"
note "DESTDIR) and config= (the config is not at /etc/security/pam_apitoken.conf)"

# Step 6: the drop-in installed as the README says, included by a copy of this
# host's sshd_config, on a loopback port.
port=$(free_port)
mkdir -p /run/sshd "$work/etc/ssh/sshd_config.d"
install -m 0644 conf/sshd_config.d/apitoken.conf "$work/etc/ssh/sshd_config.d/apitoken.conf"
ssh-keygen -q -t ed25519 -N '' -f "$work/host_key" || fail "ssh-keygen"
# The CI quick start's known_hosts step: the host's key line, given to the client.
printf '[127.0.0.1]:%s %s\n' "$port" "$(cut -d' ' -f1,2 "$work/host_key.pub")" >"$work/known_hosts"
{
	echo "ListenAddress 127.0.0.1:$port"
	echo "HostKey $work/host_key"
	echo "PidFile $work/sshd.pid"
	if [ -f /etc/ssh/sshd_config ] && grep -q '^Include /etc/ssh/sshd_config.d/\*\.conf' /etc/ssh/sshd_config; then
		grep -v -i -E '^[[:space:]]*(Port|ListenAddress|HostKey|PidFile)[[:space:]]' /etc/ssh/sshd_config |
			sed "s|^Include /etc/ssh/sshd_config.d/\*\.conf|Include $work/etc/ssh/sshd_config.d/*.conf|"
		base="this host's /etc/ssh/sshd_config"
	else
		# Debian's stock choices: keyboard-interactive off for everybody.
		echo "Include $work/etc/ssh/sshd_config.d/*.conf"
		echo "KbdInteractiveAuthentication no"
		base="Debian's stock settings"
	fi
} >"$work/sshd_config"
note "step 6: $work/etc/ssh/sshd_config.d/apitoken.conf is conf/sshd_config.d/apitoken.conf as it is,"
note "included by a copy of $base that listens on 127.0.0.1:$port"
note "with its own HostKey and PidFile (and includes no other drop-in)"
sshd_t=$(/usr/sbin/sshd -t -f "$work/sshd_config" 2>&1) || fail "sshd -t: $sshd_t"
ok "sshd -t"
sshd_T() { /usr/sbin/sshd -T -f "$work/sshd_config" -C "user=$1,host=x,addr=192.0.2.10" |
	grep -i -e kbdinteractive -e authenticationmethods | tr '\n' ' '; }
member=$(sshd_T "$user")
outsider=$(sshd_T nobody)
note "sshd -T for $user: $member"
note "sshd -T for nobody (not in the group): $outsider"
case "$member" in *"kbdinteractiveauthentication yes"*"authenticationmethods keyboard-interactive"*) ;;
*) fail "the machine user does not get keyboard-interactive only" ;;
esac
# sshd names its PAM service after itself: a link with the service's name.
ln -s /usr/sbin/sshd "$work/$service"
"$work/$service" -D -E "$work/sshd.log" -f "$work/sshd_config" &
sshd_pid=$!
wait_port "$port" || fail "sshd did not listen on 127.0.0.1:$port"
ok "sshd on 127.0.0.1:$port, PAM service $service"

# --- 3. the token --------------------------------------------------------------------
say "3. A CI job's API token, minted by the issuer"
resp=$(curl -s -d "username=$user" -d "scope=ssh git" -d ttl=600 "$issuer/test/mint")
token=$(printf '%s' "$resp" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
case "$token" in ucat_*) ;; *) fail "mint: $resp" ;; esac
export APITOKEN_TOKEN=$token
ok "APITOKEN_TOKEN=ucat_… (${#token} characters; shown nowhere below)"

run_exec() { "$helper" exec -- "$@"; }

# README step 7, with a token of its own (the ssh logins below start with a cold cache).
resp=$(curl -s -d "username=$user" -d "scope=ssh" -d ttl=60 "$issuer/test/mint")
token2=$(printf '%s' "$resp" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
note "step 7, without sshd: printf '%s\\n' \"\$TOKEN\" | pamtester -I rhost=192.0.2.7 $service $user authenticate"
out=$(printf '%s\n' "$token2" | pamtester -I rhost=192.0.2.7 "$service" "$user" authenticate 2>&1) ||
	fail "pamtester: $out"
printf '%s\n' "$out" | sed 's/^/      /'
show_audit

# --- 4. ssh ---------------------------------------------------------------------------
say "4. Log in over SSH with the token: apitoken exec -- ssh …"
before=$(introspections)
t0=$(date +%s%N)
out=$(run_exec ssh -p "$port" "${ssh_opts[@]}" "$user@127.0.0.1" 'echo "hello from $(id -un) on $(hostname)"' </dev/null) ||
	fail "ssh login"
first_ms=$(ms_since "$t0")
note "remote says: $out"
[ "$out" = "hello from $user on $(hostname)" ] || fail "unexpected output"
ok "logged in (${first_ms} ms, issuer asked $(($(introspections) - before)) time)"
show_audit

say "5. Log in again: served from the cache"
before=$(introspections)
t0=$(date +%s%N)
run_exec ssh -p "$port" "${ssh_opts[@]}" "$user@127.0.0.1" true </dev/null || fail "second login"
second_ms=$(ms_since "$t0")
asked=$(($(introspections) - before))
[ "$asked" -eq 0 ] || fail "the issuer was asked again ($asked)"
ok "logged in (${second_ms} ms, issuer asked 0 times)"
show_audit
audit_lines | tail -n 1 | grep -q 'source=cache' || fail "no source=cache in the audit line"
note "module's own time: $(audit_lines | sed -nE 's/.*source=network ms=([0-9]+).*/\1/p' | tail -n1) ms on the network, $(audit_lines | sed -nE 's/.*source=cache ms=([0-9]+).*/\1/p' | tail -n1) ms from the cache"

# --- 6. git ---------------------------------------------------------------------------
say "6. git clone and git push over SSH, through apitoken exec"
su - "$user" -c 'git init -q --bare app.git' || fail "bare repository"
export GIT_SSH_COMMAND="ssh -p $port ${ssh_opts[*]}"
git config --global --get user.email >/dev/null 2>&1 || gitid=(-c user.email=ci@example.com -c user.name="CI job")
run_exec git clone -q "ssh://$user@127.0.0.1/home/$user/app.git" "$work/app" 2>&1 | grep -v "empty repository" || true
[ -d "$work/app/.git" ] || fail "git clone"
echo "deployed by the demo" >"$work/app/README"
git -C "$work/app" add README
git -C "$work/app" "${gitid[@]}" commit -q -m "Deploy from CI" || fail "git commit"
run_exec git -C "$work/app" push -q origin HEAD:main || fail "git push"
subject=$(su - "$user" -c 'git --git-dir=app.git log -1 --format=%s main')
[ "$subject" = "Deploy from CI" ] || fail "the push did not arrive ($subject)"
ok "cloned, committed, pushed: the server's repository has \"$subject\""
unset GIT_SSH_COMMAND

# --- 7. rsync -------------------------------------------------------------------------
say "7. rsync a tree up and back, through apitoken exec"
mkdir -p "$work/tree/sub dir"
head -c 200000 /dev/urandom >"$work/tree/blob.bin"
echo "config" >"$work/tree/sub dir/app.conf"
run_exec rsync -a -e "ssh -p $port ${ssh_opts[*]}" "$work/tree/" "$user@127.0.0.1:tree/" </dev/null || fail "rsync up"
run_exec rsync -a -e "ssh -p $port ${ssh_opts[*]}" "$user@127.0.0.1:tree/" "$work/back/" </dev/null || fail "rsync back"
diff -r "$work/tree" "$work/back" >/dev/null || fail "the tree came back different"
ok "$(find "$work/tree" -type f | wc -l) files up and back, byte-identical"

# --- 8. certificates -------------------------------------------------------------------
say "8. The other way in: a short-lived SSH certificate from the token"
# The README's sysadmin side: the CA from cert_url/authority, one key per
# line; TrustedUserCAKeys above the Match line and either method in it; reload.
ca=$work/etc/ssh/apitoken_user_ca.pub
curl -fsS "$issuer/ssh/cert/authority" | jq -r '.authorities[]' >"$ca" || fail "no CA from $issuer/ssh/cert/authority"
grep -q '^ssh-ed25519 ' "$ca" || fail "no CA key from $issuer/ssh/cert/authority"
note "curl -fsS $issuer/ssh/cert/authority | jq -r '.authorities[]' > $ca"
note "$(ssh-keygen -lf "$ca")"
dropin=$work/etc/ssh/sshd_config.d/apitoken.conf
awk -v ca="$ca" '
	/^Match Group apitoken/ { print "TrustedUserCAKeys " ca; print ""; print; next }
	/^[[:space:]]*AuthenticationMethods keyboard-interactive$/ { sub(/keyboard-interactive/, "publickey keyboard-interactive") }
	{ print }' "$dropin" >"$dropin.new" && mv "$dropin.new" "$dropin"
note "the drop-in now has, as the README says:"
grep -E '^TrustedUserCAKeys|^Match|^[[:space:]]*AuthenticationMethods' "$dropin" | sed 's/^/      /'
note "(the README's /etc/ssh/apitoken_user_ca.pub is in the scratch directory here)"
sshd_t=$(/usr/sbin/sshd -t -f "$work/sshd_config" 2>&1) || fail "sshd -t: $sshd_t"
# What systemctl reload ssh does: SIGHUP, and sshd re-executes itself.
kill -HUP "$sshd_pid"
sleep 0.5
wait_port "$port" || fail "sshd did not come back after the reload"
ok "sshd -t, and reloaded (SIGHUP, as systemctl reload ssh does)"

export APITOKEN_CERT_URL=$issuer/ssh/cert XDG_STATE_HOME=$work/state XDG_CONFIG_HOME=$work/config
export APITOKEN_SSH_CONFIG=$work/ssh_config HOME=$work APITOKEN_HOSTS=127.0.0.1
certs_before=$(curl -s "$issuer/test/stats" | sed -E 's/.*"certs":([0-9]+).*/\1/')
"$helper" ssh-cert load --write-ssh-config --no-interaction | sed 's/^/   /' ||
	fail "apitoken ssh-cert load"
"$helper" ssh-cert info | grep -E '^(Key ID|Principals|Valid|Signed by)' | sed 's/^/   /'
# BatchMode: no prompt could be answered, so this proves the certificate alone logs in.
out=$(ssh -F "$work/ssh_config" -p "$port" -o UserKnownHostsFile="$work/known_hosts" \
	-o BatchMode=yes -o LogLevel=ERROR "$user@127.0.0.1" 'echo "hello via certificate from $(id -un)"' </dev/null) ||
	fail "ssh with the certificate"
note "remote says: $out"
ok "logged in with the certificate, no prompt, no token sent to this host"
t0=$(date +%s%N)
for _ in 1 2 3 4 5 6 7 8 9 10; do "$helper" ssh-cert load --refresh-only || fail "refresh"; done
refresh_us=$((($(date +%s%N) - t0) / 10000))
certs_after=$(curl -s "$issuer/test/stats" | sed -E 's/.*"certs":([0-9]+).*/\1/')
[ "$((certs_after - certs_before))" -eq 1 ] || fail "refresh-only asked for a certificate"
ok "ssh-cert load --refresh-only: ${refresh_us} µs a run, no request while valid (for ssh's Match exec)"
# The README's removal step for a CI user.
"$helper" ssh-cert clear --forget-ca -q || fail "ssh-cert clear"
[ ! -e "$work/state/apitoken/ssh/id_ed25519" ] && ! grep -q apitoken "$work/ssh_config" 2>/dev/null ||
	fail "ssh-cert clear left the key or the Include block"
ok "apitoken ssh-cert clear --forget-ca: key, certificate, pinned CA and Include block gone"
unset APITOKEN_CERT_URL

# --- 9. revocation ---------------------------------------------------------------------
say "9. Revoke the token at the issuer; why is the login refused?"
curl -s -u admin:admin-secret -d "token=$token" "$issuer/token/revocation" >/dev/null || fail "revoke"
ok "revoked"
note "within cache_ttl (5 s in this demo, 60 s by default) a host that cached the"
note "token still lets it in: that is the documented trade-off of the cache."
sleep 6
if run_exec ssh -p "$port" "${ssh_opts[@]}" "$user@127.0.0.1" true </dev/null 2>/dev/null; then
	fail "the revoked token still logs in after cache_ttl"
fi
ok "after cache_ttl the login is refused"
show_audit
audit_lines | tail -n 1 | grep -q '^deny reason=inactive' || fail "no deny line with reason=inactive"
if "$helper" check --help >/dev/null 2>&1; then
	note "printf %s \"\$TOKEN\" | apitoken check --user $user --rhost 127.0.0.1:"
	out=$(printf %s "$token" | "$helper" check --config "$conf" --user "$user" --rhost 127.0.0.1 2>&1)
	rc=$?
	printf '%s\n' "$out" | sed 's/^/      /'
	[ "$rc" -eq 4 ] || fail "apitoken check --user: exit $rc, not 4 (deny)"
	ok "apitoken check says why, exit 4 (deny)"
fi
if grep -aqF -e "$token" -e "$token2" "$work/audit.json" "$work/auth.log" 2>/dev/null; then
	fail "the token appears in a log"
fi
ok "no token in any log line (fingerprints only)"

# --- 10. removal -----------------------------------------------------------------------
if make -n uninstall >/dev/null 2>&1; then
	say "10. README, Removing it: make uninstall"
	make -s uninstall DESTDIR="$root" >>"$log" 2>&1 || fail "make uninstall DESTDIR=$root: see $log"
	left=$(cd "$root" && find . ! -type d | sed 's|^\./|/|')
	note "left in DESTDIR: ${left:-nothing}"
	[ "$left" = /etc/security/pam_apitoken.conf ] || fail "make uninstall left more than the changed config"
	ok "make uninstall removed every installed file but the changed config"
fi
exit 0
