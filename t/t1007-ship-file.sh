#!/bin/sh
test_description='ls-ship-file: usage, whole objects, acks, retention, spool collection'
. "$(dirname "$0")/lib.sh"

usage='ls-ship-file: usage: ls-ship-file [-1v] [-d FD] [-n NAME] [-r RETENTION] [-R INTERVAL] [-i SYNC] [-V INTERVAL] [-O KEY=VALUE]... SPOOL DIR'

test_expect_success 'usage and bad options: exit 100' '
	test_expect_code 100 ls-ship-file spool 2>err &&
	echo "$usage" >expect && test_cmp expect err &&
	test_expect_code 100 ls-ship-file -n ../x spool rep 2>err &&
	echo "ls-ship-file: fatal: -n ../x: a replica name is 1 to 64 of [A-Za-z0-9._-], not starting with '"'"'.'"'"'" >expect &&
	test_cmp expect err &&
	test_expect_code 100 ls-ship-file -r 1y spool rep 2>err &&
	echo "ls-ship-file: fatal: -r 1y: not a duration" >expect && test_cmp expect err &&
	test_expect_code 100 ls-ship-file spool s3://bucket/x 2>err &&
	echo "ls-ship-file: fatal: s3://bucket/x: not a replica of type file (use ls-ship-s3)" >expect &&
	test_cmp expect err &&
	test_expect_code 100 ls-ship-file spool file://rel/dir 2>err &&
	echo "ls-ship-file: fatal: file://rel/dir: a file URL needs an absolute path (file:///DIR)" >expect &&
	test_cmp expect err
'

test_expect_success 'setup: a spool with a few objects' '
	sql db "PRAGMA journal_mode=wal; CREATE TABLE t(x)" &&
	{ ls-watch -i 0 -d 3 db spool >names 3>ready & } && pid=$! &&
	wait_for test -s ready &&
	sql db "INSERT INTO t VALUES (1)" && sql db "INSERT INTO t VALUES (2)" &&
	kill -TERM $pid && wait $pid &&
	test $(wc -l <names) = 4
'

test_expect_success '-1 ships everything, byte for byte, with the spool times' '
	ls-ship-file -1 -r 0 spool "file://$PWD/rep" &&
	while read n; do
		cmp spool/$n rep/$n &&
		test "$(stat -c %Y.%y spool/$n)" = "$(stat -c %Y.%y rep/$n)" || exit 1
	done <names &&
	gen=$(cut -d" " -f1 spool/generation) &&
	last=$(grep /wal/ names | tail -n 1 | sed "s|.*/||; s|\.wal\.lz4||") &&
	printf "%-63s\n" "$gen 00000000 $last" >expect &&
	test_cmp expect spool/acks/file
'

test_expect_success 'a second run ships nothing' '
	ls-ship-file -1 -v -r 0 spool rep 2>err &&
	! grep shipped err
'

test_expect_success 'a damaged ack confirms nothing: everything is shipped again' '
	cp spool/acks/file ack.good &&
	: >spool/acks/file &&
	ls-ship-file -1 -v -r 0 spool rep 2>err &&
	grep "^ls-ship-file: warning: spool/acks/file is damaged: it confirms nothing$" err &&
	test $(grep -c "info: shipped" err) = 4 &&
	test_cmp ack.good spool/acks/file
'

test_expect_success 'a replica wiped behind its ack is shipped again' '
	rm -rf rep &&
	ls-ship-file -1 -r 0 spool rep 2>err &&
	grep -q "^ls-ship-file: warning: rep lacks generations/.* which acks/file confirms: shipping everything in the spool again$" err &&
	while read n; do cmp spool/$n rep/$n || exit 1; done <names
'

test_expect_success 'a refused write exits 100 and leaves no partial object' '
	mkdir bad && echo x >bad/generations &&
	test_expect_code 100 ls-ship-file -1 -n bad -r 0 spool bad 2>err &&
	grep "^ls-ship-file: fatal: unable to create directory bad/generations/[0-9a-f]*/wal: Not a directory$" err &&
	test "$(find bad -type f)" = bad/generations
'

test_expect_success 'the spool keeps what a lagging replica lacks' '
	printf "%s - -\n" "$(cut -d" " -f1 spool/generation)" >spool/acks/lagging &&
	{ ls-watch -d 3 db spool >/dev/null 3>ready2 & } && pid=$! &&
	wait_for test -s ready2 &&
	kill -USR1 $pid &&
	wait_for has_file "spool/generations/*/snapshots/00000001.snapshot.lz4" &&
	kill -TERM $pid && wait $pid &&
	while read n; do test -f spool/$n || exit 1; done <names
'

test_expect_success 'once every replica has it, the spool lets it go' '
	rm spool/acks/bad &&
	ls-ship-file -1 -r 0 spool rep &&
	ls-ship-file -1 -n lagging -r 0 spool rep2 &&
	{ ls-watch -d 3 db spool >/dev/null 3>ready3 & } && pid=$! &&
	wait_for test -s ready3 &&
	kill -TERM $pid && wait $pid &&
	(cd spool && find generations -type f | sort) >left &&
	! grep -q snapshots/00000000 left &&
	! grep -q wal/00000000_ left &&
	grep -q snapshots/00000001.snapshot.lz4 left &&
	grep -q wal/00000001_00000000.wal.lz4 left &&
	ls-restore -o fromspool.db spool &&
	test "$(sql fromspool.db "SELECT group_concat(x) FROM t")" = "1,2"
'

# obj DIR NAME AGE: a stand-in object aged AGE ("5 days ago").
obj() { mkdir -p "$1/$(dirname "$2")" && echo x >"$1/$2" && touch -d "$3" "$1/$2"; }

test_expect_success 'retention: keeps the window and the snapshot before it' '
	A=generations/aaaaaaaaaaaaaaaa B=generations/bbbbbbbbbbbbbbbb &&
	obj old $A/snapshots/00000000.snapshot.lz4 "5 days ago" &&
	obj old $A/wal/00000000_00000000.wal.lz4 "5 days ago" &&
	obj old $A/wal/00000001_00000000.wal.lz4 "4 days ago" &&
	obj old $B/snapshots/00000000.snapshot.lz4 "3 days ago" &&
	obj old $B/wal/00000000_00000000.wal.lz4 "3 days ago" &&
	obj old $B/wal/00000001_00000000.wal.lz4 "3 days ago" &&
	obj old $B/snapshots/00000002.snapshot.lz4 "2 days ago" &&
	obj old $B/wal/00000002_00000000.wal.lz4 "2 days ago" &&
	obj old $B/wal/00000003_00000000.wal.lz4 "1 hour ago" &&
	obj old $B/snapshots/00000004.snapshot.lz4 "1 hour ago" &&
	obj old $B/wal/00000004_00000000.wal.lz4 "1 hour ago" &&
	obj old $B/wal/00000004_00001038.wal.lz4 "1 hour ago" &&
	obj old $B/notes.txt "9 days ago" &&
	mkdir empty &&
	ls-ship-file -1 -r 24h empty old &&
	(cd old && find generations -type f | sort) >actual &&
	cat >expect <<-EOF &&
	$B/notes.txt
	$B/snapshots/00000002.snapshot.lz4
	$B/snapshots/00000004.snapshot.lz4
	$B/wal/00000002_00000000.wal.lz4
	$B/wal/00000003_00000000.wal.lz4
	$B/wal/00000004_00000000.wal.lz4
	$B/wal/00000004_00001038.wal.lz4
	EOF
	test_cmp expect actual &&
	test ! -e old/$A
'

test_expect_success 'retention spares the generation being shipped' '
	C=generations/cccccccccccccccc &&
	obj old2 $C/wal/00000000_00000000.wal.lz4 "3 days ago" &&
	obj old2 generations/dddddddddddddddd/snapshots/00000000.snapshot.lz4 "1 hour ago" &&
	mkdir -p sp2 && echo "cccccccccccccccc 1:1" >sp2/generation &&
	ls-ship-file -1 -r 24h sp2 old2 &&
	test -f old2/$C/wal/00000000_00000000.wal.lz4
'

test_done
