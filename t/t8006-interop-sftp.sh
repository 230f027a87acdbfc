#!/bin/sh
test_description='interop through sshd: Litestream v0.3.13 replicas restore with ls-restore, ls-ship-sftp replicas with litestream restore'
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-sftp.sh"

litestream_setup
sftp_setup

rows() { sql "$1" "SELECT id, b, hex(v) FROM t ORDER BY id" | cksum; }
now() { date -u +%Y-%m-%dT%H:%M:%S.%NZ; }
batch() {
	_i=0
	while [ $_i -lt 15 ]; do
		sql -cmd ".timeout 10000" db \
		    "INSERT INTO t(b, v) VALUES($1, randomblob(2500))" || return 1
		_i=$((_i + 1))
	done
}
running() { test -r /proc/$1/stat && ! sed "s/.*) //" /proc/$1/stat | grep -q "^Z"; }

lt_yml() {
	cat <<-EOF
	dbs:
	  - path: $TRASH/$1
	    monitor-interval: 100ms
	    checkpoint-interval: 1s
	    min-checkpoint-page-count: 10
	    replicas:
	      - type: sftp
	        host: "127.0.0.1:$SFTP_PORT"
	        user: $SFTP_USER
	        password: "$SFTP_PASSWORD"
	        path: $SFTP_HOME/$2
	        sync-interval: 100ms
	EOF
}
U="sftp://$SFTP_USER@127.0.0.1:$SFTP_PORT"
K="-O known-hosts=$SFTP_KNOWN_HOSTS -O key-path=$SFTP_KEY_ED25519"

test_expect_success LITESTREAM,SFTP 'Litestream replicates over SFTP; ls-restore restores' '
	lt_yml db lt >lt.yml &&
	sql db "PRAGMA journal_mode=wal; CREATE TABLE t(id INTEGER PRIMARY KEY, b INTEGER, v BLOB)" >/dev/null &&
	{ "$LITESTREAM" replicate -config lt.yml >>lt.log 2>&1 & } &&
	echo $! >lt.pid && test_atexit "kill -9 $(cat lt.pid)" &&
	wait_for has_file "$SFTP_HOME/lt/generations/*/snapshots/*.snapshot.lz4" &&
	batch 1 && sleep 1.5 && now >ts1 && rows db >rows1 && sleep 1.2 &&
	batch 2 && sleep 1.5 && rows db >rows2 &&
	kill -TERM $(cat lt.pid) && wait_for eval "! running $(cat lt.pid)" &&
	ls-restore $K -o r.db "$U$SFTP_HOME/lt" &&
	rows r.db >got && test_cmp rows2 got &&
	test "$(sql r.db "PRAGMA integrity_check")" = ok &&
	ls-restore $K -timestamp "$(cat ts1)" -o r1.db "$U$SFTP_HOME/lt" &&
	rows r1.db >got1 && test_cmp rows1 got1
'

test_expect_success LITESTREAM,SFTP 'ls-ship-sftp replicates; litestream restore restores' '
	rm -f db db-wal db-shm &&
	sql db "PRAGMA journal_mode=wal; CREATE TABLE t(id INTEGER PRIMARY KEY, b INTEGER, v BLOB)" >/dev/null &&
	SHIPPER=ls-ship-sftp start_pipeline "-i 50ms -c 20 db spool" "-r 0 $K spool $U$SFTP_HOME/ours" &&
	batch 1 && sleep 0.3 && batch 2 && sleep 0.3 && batch 3 && sleep 0.3 &&
	stop_pipeline && rows db >rows3 &&
	lt_yml db ours >lt2.yml &&
	"$LITESTREAM" restore -config lt2.yml -o lt.db "$TRASH/db" 2>lt2.err &&
	rows lt.db >got && test_cmp rows3 got &&
	test "$(sql lt.db "PRAGMA integrity_check")" = ok
'

test_done
