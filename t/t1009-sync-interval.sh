#!/bin/sh
test_description='ls-ship-* -i: one pass per sync interval, consecutive segments merged into one object'
. "$(dirname "$0")/lib.sh"

# wal_objs DIR: how many WAL objects a file replica holds.
wal_objs() { find "$1" -name '*.wal.lz4' | wc -l; }

test_expect_success 'setup: a spool with many small segments' '
	sql db "PRAGMA journal_mode=wal; CREATE TABLE t(x)" &&
	{ ls-watch -i 0 -d 3 db spool >names 3>ready & } && pid=$! &&
	wait_for test -s ready &&
	i=1 && while [ $i -le 30 ]; do
		sql db "INSERT INTO t VALUES ($i)" && i=$((i + 1)) || exit 1
	done &&
	kill -TERM $pid && wait $pid &&
	test $(wal_objs spool) -ge 30
'

test_expect_success 'bad -i: exit 100' '
	test_expect_code 100 ls-ship-file -i 1y spool rep 2>err &&
	echo "ls-ship-file: fatal: -i 1y: not a duration" >expect &&
	test_cmp expect err
'

test_expect_success '-i merges the segments of an index into one object named after the first' '
	ls-ship-file -1 -v -i 10s -r 0 spool rep 2>err &&
	test $(wal_objs rep) = 1 &&
	first=$(grep /wal/ names | head -n 1) &&
	test -f "rep/$first" &&
	n=$(grep -c /wal/ names) &&
	grep -q "shipped $first (.* bytes, $n segments)" err &&
	gen=$(cut -d" " -f1 spool/generation) &&
	last=$(grep /wal/ names | tail -n 1 | sed "s|.*/||; s|\.wal\.lz4||") &&
	printf "%-63s\n" "$gen 00000000 $last" >expect &&
	test_cmp expect spool/acks/file
'

test_expect_success 'the merged replica restores every row, as the spool does' '
	ls-restore -o a.db rep && ls-restore -o b.db spool &&
	test "$(sql a.db "SELECT count(*), sum(x) FROM t")" = "30|465" &&
	cmp a.db b.db
'

test_expect_success 'a restart (merging or not) finds the merged object: nothing ships again' '
	ls-ship-file -1 -v -i 10s -r 0 spool rep 2>err &&
	! grep -e shipped -e lacks err &&
	ls-ship-file -1 -v -r 0 spool rep 2>err &&
	! grep -e shipped -e lacks err
'

test_expect_success 'a wiped replica is noticed and everything ships again, merged' '
	rm -rf rep/generations &&
	ls-ship-file -1 -v -i 10s -r 0 spool rep 2>err &&
	grep -q "lacks .*shipping everything in the spool again" err &&
	test $(wal_objs rep) = 1 &&
	ls-restore -o c.db rep && cmp a.db c.db
'

test_expect_success 'later segments follow a merged object: restore still whole' '
	{ ls-watch -i 0 -d 3 db spool >>names 3>ready2 & } && pid=$! &&
	wait_for test -s ready2 &&
	sql db "INSERT INTO t VALUES (31)" && sql db "INSERT INTO t VALUES (32)" &&
	kill -TERM $pid && wait $pid &&
	ls-ship-file -1 -v -r 0 spool rep 2>err &&
	test $(grep -c shipped err) -ge 2 &&
	ls-restore -o d.db rep &&
	test "$(sql d.db "SELECT count(*), sum(x) FROM t")" = "32|528"
'

test_expect_success 'a damaged segment in the spool: those before it merged, it shipped as it is, then merging goes on' '
	rm -rf dspool drep && cp -r spool dspool && rm -f dspool/acks/* &&
	n5=$(grep /wal/ names | sed -n 5p) && n6=$(grep /wal/ names | sed -n 6p) &&
	printf "\001\002\003" | dd of="dspool/$n5" bs=1 seek=8 conv=notrunc 2>/dev/null &&
	ls-ship-file -1 -v -i 1m -r 0 dspool drep 2>err &&
	grep -q "shipped $(grep /wal/ names | head -n 1) (.* bytes, 4 segments)" err &&
	grep -q "^ls-ship-file: warning: spool $n5: .*: shipped as it is, unmerged$" err &&
	cmp "dspool/$n5" "drep/$n5" &&
	grep -q "shipped $n6 (.* bytes, [0-9]* segments)" err &&
	test_expect_code 100 ls-restore -o dmg.db drep 2>err &&
	grep -q "$n5" err
'

test_expect_success 'running: at most one pass per interval, far fewer objects than segments' '
	sql live.db "PRAGMA journal_mode=wal; CREATE TABLE t(x)" &&
	start_pipeline "-i 0 live.db lspool" "-v -i 2s -r 0 lspool $PWD/lrep" &&
	wait_for has_file "lrep/generations/*/snapshots/*.snapshot.lz4" &&
	i=1 && while [ $i -le 30 ]; do
		sql live.db "INSERT INTO t VALUES ($i)" && sleep 0.1 &&
		i=$((i + 1)) || exit 1
	done &&
	stop_pipeline &&
	segs=$(wal_objs lspool) && objs=$(wal_objs lrep) &&
	say "$segs segments in the spool, $objs objects in the replica" &&
	test $segs -ge 25 && test $objs -le 4 &&
	ls-restore -o live2.db lrep &&
	test "$(sql live2.db "SELECT count(*), sum(x) FROM t")" = "30|465"
'

test_expect_success 'config: sync-interval reaches the shipper as -i' '
	sql cdb "PRAGMA journal_mode=wal; CREATE TABLE t(x)" &&
	cat >s.conf <<-EOF &&
	[db]
	path = $PWD/cdb
	monitor-interval = 0s
	[replica]
	path = $PWD/crep
	sync-interval = 2s
	EOF
	{ ls-replicate -d 3 -config s.conf 3>cready 2>c.err & } && pid=$! &&
	test_atexit "kill -9 $pid" &&
	wait_for test -s cready &&
	tr "\0" " " </proc/$(pgrep -P $pid -x ls-ship-file)/cmdline | grep -q " -i 2000ms " &&
	i=1 && while [ $i -le 20 ]; do
		sql cdb "INSERT INTO t VALUES ($i)" && sleep 0.1 &&
		i=$((i + 1)) || exit 1
	done &&
	kill -TERM $pid && wait $pid &&
	segs=$(wal_objs .cdb-ls) && objs=$(wal_objs crep) &&
	echo "$segs segments, $objs objects" &&
	test $segs -ge 15 && test $objs -le 3 &&
	ls-restore -o c2.db crep &&
	test "$(sql c2.db "SELECT count(*), sum(x) FROM t")" = "20|210"
'

test_done
