#!/bin/sh
# Seed corpora of the SSH harnesses (fuzz_sshcert, fuzz_sshkey), made with
# ssh-keygen like the golden certificates of tests/unit/check_sshcert.c:
# certificate blobs and lines for every key and CA type, options and
# extensions, and private key files (text and the binary inside the
# armour). Made once and committed as tests/fuzz/corpus/sshcert and
# sshkey (throwaway keys); run again only to remake them.
#   usage: corpus.sh DIR     (makes DIR/sshcert and DIR/sshkey)
set -eu
out=$1
[ -d "$out/sshcert" ] && [ -d "$out/sshkey" ] && exit 0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out/sshcert" "$out/sshkey"

key() { ssh-keygen -q -t "$1" ${3:+-b "$3"} -N '' -C "$2" -f "$tmp/$2"; }
key ed25519 ca_ed
key rsa ca_rsa 2048
key ecdsa ca_ec256 256
key ecdsa ca_ec384 384
key ecdsa ca_ec521 521
key ed25519 u_ed
key ecdsa u_ec 256
key rsa u_rsa 1024

n=0
cert() { # CA KEY ARGS…
	ca=$1 k=$2
	shift 2
	n=$((n + 1))
	cp "$tmp/$k.pub" "$tmp/c$n.pub"
	ssh-keygen -q -s "$tmp/$ca" -I "id-$n" -z "$n" "$@" "$tmp/c$n.pub"
	cp "$tmp/c$n-cert.pub" "$out/sshcert/line-$n"
	cut -d' ' -f2 "$tmp/c$n-cert.pub" | base64 -d >"$out/sshcert/blob-$n"
}
cert ca_ed u_ed -n alice -V -5m:+1h
cert ca_ed u_ed -h -n host.example.com
cert ca_ed u_ed -n alice,bob -V 20200101:20200102
cert ca_ed u_ed
cert ca_ed u_ed -n alice -O clear -O force-command=/bin/true -O source-address=10.0.0.0/8 \
	-O verify-required -O permit-pty -O extension:login@example.com=alice
cert ca_ed u_ec -n alice
cert ca_ed u_rsa -n alice
cert ca_rsa u_ed -n alice
cert ca_rsa u_ed -n alice -t rsa-sha2-256
cert ca_ec256 u_ed -n alice
cert ca_ec384 u_ec -n alice
cert ca_ec521 u_rsa -n alice

for k in u_ed ca_ed; do
	cp "$tmp/$k" "$out/sshkey/text-$k"
	sed '1d;$d' "$tmp/$k" | base64 -d >"$out/sshkey/bin-$k"
	cp "$tmp/$k.pub" "$out/sshkey/line-$k"
done
ssh-keygen -q -t ed25519 -N secret -f "$tmp/pass"
cp "$tmp/pass" "$out/sshkey/text-pass"
cp "$tmp/u_rsa" "$out/sshkey/text-rsa"
