#!/bin/sh
test_description='ls-ship-sftp and ls-restore against a private sshd: logins, host keys, whole objects, a killed server'
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-sftp.sh"

sftp_setup && sftp_agent

dump() { sql "$1" .dump | grep -v _litestream_ | md5sum; }
now() { date -u +%Y-%m-%dT%H:%M:%S.%NZ; }
batch() {
	python3 -c "
import sqlite3, os
c = sqlite3.connect(\"${3:-db}\", isolation_level=None, timeout=30)
for i in range($2):
    c.execute(\"INSERT INTO t(batch, pad) VALUES (?, ?)\", ($1, os.urandom(${4:-800})))
"
}
mkdb() {
	sql "$1" "PRAGMA journal_mode=wal; CREATE TABLE t(id INTEGER PRIMARY KEY, batch INTEGER, pad BLOB)" >/dev/null
}
U="sftp://$SFTP_USER@127.0.0.1:$SFTP_PORT"
KH="-O known-hosts=$SFTP_KNOWN_HOSTS"
K="$KH -O key-path=$SFTP_KEY_ED25519"
SHIPPER=ls-ship-sftp
export SHIPPER
# ship1 ARGS...: ls-ship-sftp -1 over the spool of the first test.
ship1() { env -u SSH_AUTH_SOCK ls-ship-sftp -1 "$@"; }

test_expect_success SFTP 'setup: a spool with a few objects' '
	mkdb db && batch 1 20 &&
	{ ls-watch -i 50ms db spool >/dev/null 2>w.err & } &&
	wait_for test -s spool/generation && batch 2 20 && sleep 0.3 &&
	kill -TERM $! && wait $!
'

test_expect_success SFTP 'an unknown host key: exit 100 with the fingerprint, nothing uploaded' '
	test_expect_code 100 ship1 -O known-hosts=$PWD/none -O key-path=$SFTP_KEY_ED25519 spool $U/~/k0 2>err &&
	echo "ls-ship-sftp: fatal: 127.0.0.1:$SFTP_PORT: unknown host key $SFTP_HOSTKEY_FP: not in $PWD/none (add it, or set host-key)" >expect &&
	test_cmp expect err &&
	test ! -e "$SFTP_HOME/k0"
'

test_expect_success SFTP 'a changed host key: exit 100, nothing uploaded' '
	test_expect_code 100 ship1 -O known-hosts=$SFTP_OTHER_KNOWN_HOSTS -O key-path=$SFTP_KEY_ED25519 spool $U/~/k1 2>err &&
	echo "ls-ship-sftp: fatal: 127.0.0.1:$SFTP_PORT: the host key CHANGED: the server shows $SFTP_HOSTKEY_FP, not the key in $SFTP_OTHER_KNOWN_HOSTS (refusing to send anything)" >expect &&
	test_cmp expect err &&
	test_expect_code 100 ship1 -O host-key="$SFTP_OTHER_HOSTKEY_PUB" -O key-path=$SFTP_KEY_ED25519 spool $U/~/k1 2>err &&
	grep -q "the server.s host key $SFTP_HOSTKEY_FP is not the one in host-key" err &&
	test ! -e "$SFTP_HOME/k1"
'

test_expect_success SFTP 'pinned host keys: a key line, a SHA256: fingerprint; insecure warns' '
	ship1 -O host-key="$SFTP_HOSTKEY_PUB" -O key-path=$SFTP_KEY_ED25519 spool $U/~/pin1 &&
	ship1 -O host-key="$SFTP_HOSTKEY_FP" -O key-path=$SFTP_KEY_ED25519 spool $U/~/pin2 &&
	test -f "$SFTP_HOME/pin1/generations/$(cut -d" " -f1 spool/generation)/snapshots/00000000.snapshot.lz4" &&
	ship1 -O insecure-ignore-host-key=true -O key-path=$SFTP_KEY_ED25519 spool $U/~/pin3 2>err &&
	grep -q "^ls-ship-sftp: warning: 127.0.0.1:$SFTP_PORT: host key $SFTP_HOSTKEY_FP NOT CHECKED (insecure-ignore-host-key)$" err
'

sftp_have_ipv6 && test_set_prereq IPV6

test_expect_success SFTP,IPV6 'an IPv6 address in brackets: [::1]:PORT' '
	ship1 -v -O host-key="$SFTP_HOSTKEY_PUB" -O key-path=$SFTP_KEY_ED25519 \
	    spool "sftp://$SFTP_USER@[::1]:$SFTP_PORT/~/v6" 2>err &&
	grep -q "info: connected to $SFTP_USER@\[::1\]:$SFTP_PORT$" err &&
	test -f "$SFTP_HOME/v6/generations/$(cut -d" " -f1 spool/generation)/snapshots/00000000.snapshot.lz4" &&
	ssh-keyscan -T 3 -t ed25519 -p "$SFTP_PORT" ::1 2>/dev/null >kh6 &&
	grep -q "^\[::1\]:$SFTP_PORT ssh-ed25519 " kh6 &&
	ls-restore -O known-hosts=$PWD/kh6 -O key-path=$SFTP_KEY_ED25519 \
	    -o v6.db "sftp://$SFTP_USER@[::1]:$SFTP_PORT/~/v6" &&
	test_expect_code 100 ls-restore -O known-hosts=$SFTP_KNOWN_HOSTS \
	    -O key-path=$SFTP_KEY_ED25519 -o v6b.db "sftp://$SFTP_USER@[::1]:$SFTP_PORT/~/v6" 2>err &&
	grep -q "^ls-restore: fatal: \[::1\]:$SFTP_PORT: " err &&
	test_expect_code 100 ls-ship-sftp -1 spool "sftp://$SFTP_USER@[::1/~/x" 2>err &&
	grep -q "not \[ADDRESS\]\[:PORT\]" err &&
	test_expect_code 100 ls-ship-sftp -1 spool "sftp://$SFTP_USER@[::1]x/~/x" 2>err &&
	grep -q "not \[ADDRESS\]\[:PORT\]" err &&
	ship1 -v -O host="[::1]:$SFTP_PORT" -O user=$SFTP_USER -O host-key="$SFTP_HOSTKEY_PUB" \
	    -O key-path=$SFTP_KEY_ED25519 -n v6b spool "sftp:///~/v6b" 2>err &&
	grep -q "info: connected to $SFTP_USER@\[::1\]:$SFTP_PORT$" err &&
	test_expect_code 111 ls-ship-sftp -1 -O host=::1 -O user=$SFTP_USER -O host-key="$SFTP_HOSTKEY_PUB" \
	    -O key-path=$SFTP_KEY_ED25519 -O timeout=2s -n v6c spool "sftp:///~/v6c" 2>err &&
	grep -q "connect to \[::1\]:22: " err
'

test_expect_success SFTP 'logins: ed25519, ecdsa, rsa keys, password, passphrase, agent' '
	for k in "$SFTP_KEY_ED25519" "$SFTP_KEY_ECDSA" "$SFTP_KEY_RSA" "$SFTP_KEY_RSA_OPENSSH"; do
		rm -rf "$SFTP_HOME/login" && ship1 -n k $KH -O key-path=$k spool $U/~/login || exit 1
		test -d "$SFTP_HOME/login/generations" || exit 1
	done &&
	LS_PASSWORD=$SFTP_PASSWORD ship1 -n pw $KH spool $U/~/login-pw &&
	LS_KEY_PASSPHRASE=$SFTP_KEY_PASSPHRASE ship1 -n pp $KH -O key-path=$SFTP_KEY_PASS spool $U/~/login-pp &&
	ls-ship-sftp -1 -n ag $KH spool $U/~/login-ag &&
	for d in login-pw login-pp login-ag; do
		test -d "$SFTP_HOME/$d/generations" || exit 1
	done
'

test_expect_success SFTP 'refused logins exit 100' '
	test_expect_code 100 env -u SSH_AUTH_SOCK LS_PASSWORD=wrong-password ls-list $KH $U/~/login-pw 2>err &&
	echo "ls-list: fatal: $SFTP_USER@127.0.0.1:$SFTP_PORT: login refused (tried password)" >expect &&
	test_cmp expect err &&
	ssh-keygen -q -t ed25519 -N "" -f stranger &&
	test_expect_code 100 env -u SSH_AUTH_SOCK ls-list $KH -O key-path=$PWD/stranger $U/~/login-pw 2>err &&
	echo "ls-list: fatal: $SFTP_USER@127.0.0.1:$SFTP_PORT: login refused (tried key)" >expect &&
	test_cmp expect err &&
	test_expect_code 100 env -u SSH_AUTH_SOCK ls-list $KH -O key-path=$SFTP_KEY_PASS $U/~/login-pw 2>err &&
	test_expect_code 100 env -u SSH_AUTH_SOCK LS_KEY_PASSPHRASE=wrong ls-list $KH -O key-path=$SFTP_KEY_PASS $U/~/login-pw 2>err
'

test_expect_success SFTP 'a password in the URL works, with a warning that it shows' '
	ls-list $KH "sftp://$SFTP_USER:$SFTP_PASSWORD@127.0.0.1:$SFTP_PORT/~/login-pw" >list 2>err &&
	test $(wc -l <list) = 1 &&
	grep -q "^ls-list: warning: sftp://$SFTP_USER@127.0.0.1: a password in the URL is visible" err &&
	! grep -q "$SFTP_PASSWORD" err
'

test_expect_success SFTP 'replicate, then restore; point in time from the files'"'"' times' '
	rm -rf db db-wal db-shm spool && mkdb db &&
	start_pipeline "-i 50ms -c 200 db spool" "-r 0 $K spool $U/~/rep" &&
	batch 1 200 && sleep 0.3 && batch 2 200 && sleep 1.1 &&
	now >ts && sleep 1.1 && batch 3 200 && sleep 0.2 &&
	stop_pipeline &&
	ls-restore $K -o r.db $U/~/rep &&
	test "$(dump r.db)" = "$(dump db)" &&
	ls-restore $K -o r-abs.db "$U$SFTP_HOME/rep" &&
	test "$(dump r-abs.db)" = "$(dump db)" &&
	ls-restore $K -timestamp "$(cat ts)" -o ts.db $U/~/rep &&
	test "$(sql ts.db "SELECT COUNT(*), MAX(batch) FROM t")" = "400|2" &&
	(cd spool && find generations -name "*.lz4" | sort) >spool.list &&
	(cd "$SFTP_HOME/rep" && find generations -type f | sort) >remote.list &&
	test_cmp spool.list remote.list &&
	for k in $(cat spool.list); do cmp spool/$k "$SFTP_HOME/rep/$k" || exit 1; done
'

test_expect_success SFTP 'sshd killed during an upload: no object under its final name; done once it is back' '
	rm -rf big bigspool && mkdir big && mkdb big/db &&
	batch 1 40000 big/db 1000 &&
	(cd big && start_pipeline "-i 50ms db ../bigspool" "-r 0 $K -O timeout=5s ../bigspool $U/~/big") &&
	wait_for has_file "$SFTP_HOME/big/generations/*/snapshots/.00000000.snapshot.lz4.tmp" &&
	sftp_kill &&
	gen=$(cut -d" " -f1 bigspool/generation) &&
	test ! -e "$SFTP_HOME/big/generations/$gen/snapshots/00000000.snapshot.lz4" &&
	test_must_fail ls-restore $K -o nope.db $U/~/big 2>/dev/null &&
	sftp_start &&
	wait_for test -f "$SFTP_HOME/big/generations/$gen/snapshots/00000000.snapshot.lz4" &&
	(cd big && stop_pipeline) &&
	cmp bigspool/generations/$gen/snapshots/00000000.snapshot.lz4 \
	    "$SFTP_HOME/big/generations/$gen/snapshots/00000000.snapshot.lz4" &&
	! has_file "$SFTP_HOME/big/generations/*/snapshots/.*.tmp" &&
	ls-restore $K -o big.db $U/~/big &&
	test "$(dump big.db)" = "$(dump big/db)"
'

test_expect_success SFTP 'retention removes the old generation and its directories' '
	rm -rf rt rtspool && mkdir rt && mkdb rt/db &&
	(cd rt && start_pipeline "-i 50ms db ../rtspool" "-r 0 $K ../rtspool $U/~/rt" &&
	 batch 1 10 db && sleep 0.3 && stop_pipeline) &&
	old=$(cut -d" " -f1 rtspool/generation) &&
	sql rt/db "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null &&
	sql rt/db "INSERT INTO t(batch) VALUES (2)" &&
	(cd rt && start_pipeline "-i 50ms db ../rtspool" "-r 1ms -R 100ms $K ../rtspool $U/~/rt" &&
	 batch 3 10 db && sleep 1.5 && stop_pipeline) &&
	test ! -e "$SFTP_HOME/rt/generations/$old" &&
	ls-restore $K -o rt.db $U/~/rt &&
	test "$(dump rt.db)" = "$(dump rt/db)"
'

test_expect_success SFTP 'the config form: host, user, password-file, a path in the login directory' '
	printf "%s\n" "$SFTP_PASSWORD" >pw && chmod 600 pw &&
	rm -f db db-wal db-shm && mkdb db &&
	cat >s.conf <<-EOC &&
	[db]
	path = $PWD/db
	monitor-interval = 50ms
	[replica]
	type = sftp
	host = 127.0.0.1:$SFTP_PORT
	user = $SFTP_USER
	password-file = $PWD/pw
	path = conf/db
	known-hosts = $SFTP_KNOWN_HOSTS
	EOC
	env -u SSH_AUTH_SOCK ls-replicate -n -config s.conf &&
	{ env -u SSH_AUTH_SOCK ls-replicate -d 3 -config s.conf 3>ready 2>rep.err & } &&
	echo $! >rep.pid && test_atexit "kill -9 $(cat rep.pid)" &&
	wait_for test -s ready &&
	batch 1 5 &&
	kill -TERM $(cat rep.pid) && wait_for eval "! alive $(cat rep.pid)" &&
	test -d "$SFTP_HOME/conf/db/generations" &&
	LS_PASSWORD=$SFTP_PASSWORD ls-restore $KH -o c.db $U/~/conf/db &&
	test "$(dump c.db)" = "$(dump db)"
'

test_done
