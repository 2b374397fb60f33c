#!/bin/bash
# make demo: the main job, end to end, on this machine, on loopback only.
#
# A machine user logs in over SSH with an API token, clones and pushes a git
# repository and rsyncs a tree through `apitoken exec`; the second login is
# served from the cache; a revoked token is refused once the cache TTL has
# passed. The real test issuer (oidc-provider), the real sshd, ssh, git and
# rsync; the shipped conf/ snippets as they are. Everything it makes — user,
# PAM service, processes, files — is removed at the end. Exit 0 only if every
# step did what it says.
set -u
cd "$(dirname "$0")/.."
top=$PWD

[ "$(id -u)" -eq 0 ] || { echo "make demo: run as root (it creates a user and an sshd)"; exit 1; }

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
note() { printf '   %s\n' "$*"; }
ok() { printf '   \033[32mok\033[0m  %s\n' "$*"; }
fail() {
	printf '   \033[31mFAILED\033[0m  %s\n' "$*"
	if [ -s "$work/sshd.log" ]; then
		echo "   sshd's log:"
		tail -n 15 "$work/sshd.log" | sed 's/^/      /'
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
made_group=0 made_helper_user=0
sshd_pid= sshd2_pid= idp_pid= sink_pid=

cleanup() {
	set +e
	[ -n "$sshd_pid" ] && kill "$sshd_pid" 2>/dev/null && wait "$sshd_pid" 2>/dev/null
	[ -n "$sshd2_pid" ] && kill "$sshd2_pid" 2>/dev/null && wait "$sshd2_pid" 2>/dev/null
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

ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

audit_lines() { grep -a 'pam_apitoken' "$work/auth.log" 2>/dev/null | grep 'result=' | sed 's/^<[0-9]*>//'; }

# --- 0. prerequisites --------------------------------------------------------------
say "0. Prerequisites: Debian packages, the test issuer's npm packages, the build"
sh tests/deps.sh || fail "installing dependencies"
make -s all build/tools/syslog-sink >/dev/null || fail "make"
ok "built build/pam_apitoken.so and build/apitoken"

# The helper runs as its own system user, as make install sets it up: a
# root-owned copy under root-owned directories, which that user can run but
# not read.
if ! getent passwd _apitoken >/dev/null; then
	useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin _apitoken ||
		fail "useradd _apitoken"
	made_helper_user=1
fi
chmod 0755 "$work"
install -m 0711 build/apitoken "$work/apitoken"
ln -s apitoken "$work/apitoken-askpass"

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

# No syslog daemon here? Then catch the module's audit lines ourselves.
if [ ! -e /dev/log ]; then
	start sink 7 build/tools/syslog-sink /dev/log "$work/auth.log" || fail "syslog sink did not start"
	sink_pid=$started
	note "no syslog daemon: audit lines are collected from /dev/log into $work/auth.log"
else
	note "a syslog daemon owns /dev/log: the audit lines go to your auth log"
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
say "2. The host: a machine user, pam_apitoken in sshd's PAM stack, sshd on loopback"
if ! getent group apitoken >/dev/null; then
	groupadd apitoken || fail "groupadd"
	made_group=1
fi
useradd -m -s /bin/sh -G apitoken "$user" || fail "useradd"
ok "user $user in group apitoken (no password, no keys)"

umask 077
printf 'rs-secret\n' >"$work/client.secret"
cat >"$work/pam_apitoken.conf" <<EOF
introspection_url  = $issuer/token/introspection
client_id          = rs
client_secret_file = $work/client.secret
token_prefixes     = ucat_
required_scopes    = ssh
cache_dir          = $work/cache
cache_ttl          = 5
helper             = $work/apitoken
EOF
chmod 644 "$work/pam_apitoken.conf"
umask 022
# The shipped stanza, line for line, with the module's path and config filled in.
{
	grep -v '^#' conf/pam.d/sshd | grep . |
		sed "s|pam_apitoken.so|$top/build/pam_apitoken.so config=$work/pam_apitoken.conf|"
	echo "account required pam_unix.so"
	echo "session required pam_unix.so"
} >"/etc/pam.d/$service"
note "/etc/pam.d/$service:"
sed 's/^/      /' "/etc/pam.d/$service"

port=$(free_port)
mkdir -p /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$work/host_key" || fail "ssh-keygen"
echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$work/host_key.pub")" >"$work/known_hosts"
cat >"$work/sshd_config" <<EOF
ListenAddress 127.0.0.1:$port
HostKey $work/host_key
PidFile $work/sshd.pid
PasswordAuthentication no
KbdInteractiveAuthentication no
# The shipped snippet, as it is:
Include $top/conf/sshd_config.d/apitoken.conf
EOF
# sshd names its PAM service after itself: a link with the service's name.
ln -s /usr/sbin/sshd "$work/$service"
"$work/$service" -D -E "$work/sshd.log" -f "$work/sshd_config" &
sshd_pid=$!
for _ in $(seq 50); do
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
	sleep 0.1
done
ok "sshd on 127.0.0.1:$port, PAM service $service"

# --- 3. the token --------------------------------------------------------------------
say "3. A CI job's API token, minted by the issuer"
resp=$(curl -s -d "username=$user" -d "scope=ssh git" -d ttl=600 "$issuer/test/mint")
token=$(printf '%s' "$resp" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
case "$token" in ucat_*) ;; *) fail "mint: $resp" ;; esac
export APITOKEN_TOKEN=$token
ok "APITOKEN_TOKEN=ucat_… (${#token} characters; shown nowhere below)"

run_exec() { "$work/apitoken" exec -- "$@"; }

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
audit_lines | tail -n 1 | sed 's/^/   audit: /'

say "5. Log in again: served from the cache"
before=$(introspections)
t0=$(date +%s%N)
run_exec ssh -p "$port" "${ssh_opts[@]}" "$user@127.0.0.1" true </dev/null || fail "second login"
second_ms=$(ms_since "$t0")
asked=$(($(introspections) - before))
[ "$asked" -eq 0 ] || fail "the issuer was asked again ($asked)"
ok "logged in (${second_ms} ms, issuer asked 0 times)"
if [ -s "$work/auth.log" ]; then
	audit_lines | tail -n 1 | sed 's/^/   audit: /'
	audit_lines | tail -n 1 | grep -q 'source=cache' || fail "no source=cache in the audit line"
fi
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
# The host trusts the issuer's CA for machine users (a second sshd, certificates only).
curl -s "$issuer/ssh/cert/authority" | sed -E 's/.*"authorities":\["([^"]+)".*/\1/' >"$work/ca.pub"
grep -q '^ssh-ed25519 ' "$work/ca.pub" || fail "no CA key from $issuer/ssh/cert/authority"
port2=$(free_port)
cat >"$work/sshd_config_certs" <<EOF
ListenAddress 127.0.0.1:$port2
HostKey $work/host_key
PidFile $work/sshd2.pid
UsePAM yes
KbdInteractiveAuthentication no
PasswordAuthentication no
TrustedUserCAKeys $work/ca.pub
Match Group apitoken
	AuthenticationMethods publickey
EOF
"$work/$service" -D -E "$work/sshd2.log" -f "$work/sshd_config_certs" &
sshd2_pid=$!
for _ in $(seq 50); do
	(exec 3<>"/dev/tcp/127.0.0.1/$port2") 2>/dev/null && break
	sleep 0.1
done
echo "[127.0.0.1]:$port2 $(cut -d' ' -f1,2 "$work/host_key.pub")" >>"$work/known_hosts"
note "sshd on 127.0.0.1:$port2 trusts the issuer's CA: TrustedUserCAKeys $work/ca.pub"

export APITOKEN_CERT_URL=$issuer/ssh/cert XDG_STATE_HOME=$work/state XDG_CONFIG_HOME=$work/config
export APITOKEN_SSH_CONFIG=$work/ssh_config HOME=$work APITOKEN_HOSTS=127.0.0.1
certs_before=$(curl -s "$issuer/test/stats" | sed -E 's/.*"certs":([0-9]+).*/\1/')
"$work/apitoken" ssh-cert load --write-ssh-config --no-interaction | sed 's/^/   /' ||
	fail "apitoken ssh-cert load"
"$work/apitoken" ssh-cert info | grep -E '^(Key ID|Principals|Valid|Signed by)' | sed 's/^/   /'
# BatchMode: no prompt could be answered, so this proves the certificate alone logs in.
out=$(ssh -F "$work/ssh_config" -p "$port2" -o UserKnownHostsFile="$work/known_hosts" \
	-o BatchMode=yes -o LogLevel=ERROR "$user@127.0.0.1" 'echo "hello via certificate from $(id -un)"' </dev/null) ||
	fail "ssh with the certificate"
note "remote says: $out"
ok "logged in with the certificate, no prompt, no token sent to this host"
t0=$(date +%s%N)
for _ in 1 2 3 4 5 6 7 8 9 10; do "$work/apitoken" ssh-cert load --refresh-only || fail "refresh"; done
refresh_us=$((($(date +%s%N) - t0) / 10000))
certs_after=$(curl -s "$issuer/test/stats" | sed -E 's/.*"certs":([0-9]+).*/\1/')
[ "$((certs_after - certs_before))" -eq 1 ] || fail "refresh-only asked for a certificate"
ok "ssh-cert load --refresh-only: ${refresh_us} µs a run, no request while valid (for ssh's Match exec)"
"$work/apitoken" ssh-cert clear -q || fail "ssh-cert clear"
kill "$sshd2_pid" && wait "$sshd2_pid" 2>/dev/null
sshd2_pid=
unset APITOKEN_CERT_URL

# --- 9. revocation ---------------------------------------------------------------------
say "9. Revoke the token at the issuer"
curl -s -u admin:admin-secret -d "token=$token" "$issuer/token/revocation" >/dev/null || fail "revoke"
ok "revoked"
note "within cache_ttl (5 s in this demo, 60 s by default) a host that cached the"
note "token still lets it in: that is the documented trade-off of the cache."
sleep 6
if run_exec ssh -p "$port" "${ssh_opts[@]}" "$user@127.0.0.1" true </dev/null 2>/dev/null; then
	fail "the revoked token still logs in after cache_ttl"
fi
ok "after cache_ttl the login is refused"
if [ -s "$work/auth.log" ]; then
	audit_lines | tail -n 1 | sed 's/^/   audit: /'
	audit_lines | tail -n 1 | grep -q 'result=deny reason=inactive' || fail "no deny line"
	if grep -aqF -- "$token" "$work/auth.log"; then fail "the token appears in the log"; fi
	ok "no token in any log line (fingerprints only)"
fi
exit 0
