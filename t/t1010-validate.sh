#!/bin/sh
test_description='ls-ship-* -V: the replica restores to the spool'"'"'s database, or is shipped again'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup: a spool with a snapshot and segments' '
	sql db "PRAGMA journal_mode=wal; CREATE TABLE t(x)" &&
	{ ls-watch -i 0 -d 3 db spool >names 3>ready & } && pid=$! &&
	wait_for test -s ready &&
	i=1 && while [ $i -le 10 ]; do
		sql db "INSERT INTO t VALUES (randomblob(3000))" &&
		i=$((i + 1)) || exit 1
	done &&
	kill -TERM $pid && wait $pid
'

test_expect_success 'bad -V: exit 100' '
	test_expect_code 100 ls-ship-file -V x spool rep 2>err &&
	echo "ls-ship-file: fatal: -V x: not a duration" >expect &&
	test_cmp expect err
'

test_expect_success '-1 -V: ships, validates, counts the reads' '
	ls-ship-file -1 -v -V 1h -r 0 spool rep 2>err &&
	grep -q "^ls-ship-file: info: validated rep: it restores to the spool'"'"'s database$" err &&
	grep -q "^validation_ok_total 1$" spool/stats/replica.file &&
	n=$(find rep -name "*.lz4" | wc -l) &&
	grep -q "^get_total $n$" spool/stats/replica.file &&
	bytes=$(find rep -name "*.lz4" -printf "%s\n" | awk "{ s += \$1 } END { print s }") &&
	grep -q "^get_bytes_total $bytes$" spool/stats/replica.file &&
	test -z "$(ls spool/tmp)"
'

test_expect_success 'a damaged object: exit 100, and the next run repairs the replica' '
	last=$(grep /wal/ names | tail -n 1) &&
	printf "\001" | dd of="rep/$last" bs=1 seek=20 conv=notrunc 2>/dev/null &&
	! cmp -s "rep/$last" "spool/$last" &&
	test_expect_code 100 ls-ship-file -1 -V 1h -r 0 spool rep 2>err &&
	grep -q "^ls-ship-file: warning: validation of rep failed: .*$last.*: shipping everything in the spool again$" err &&
	tail -n 1 err >actual &&
	echo "ls-ship-file: fatal: rep does not restore to the spool'"'"'s database" >expect &&
	test_cmp expect actual &&
	ls-ship-file -1 -V 1h -r 0 spool rep 2>err &&
	cmp "rep/$last" "spool/$last"
'

test_expect_success 'a missing object is a mismatch too' '
	second=$(grep /wal/ names | sed -n 2p) &&
	rm "rep/$second" &&
	test_expect_code 100 ls-ship-file -1 -V 1h -r 0 spool rep 2>err &&
	grep -q "validation of .* failed: .*gap" err &&
	ls-ship-file -1 -V 1h -r 0 spool rep &&
	test -f "rep/$second"
'

test_expect_success 'running: validates every interval while nothing is pending, and repairs' '
	rm -f spool/stats/replica.file &&
	{ sh -c "echo \$\$ >ship.pid; exec sleep 30" | ls-ship-file -v -V 1s -r 0 spool rep 2>run.err & } &&
	wait_for test -s ship.pid && test_atexit "kill $(cat ship.pid)" &&
	wait_for grep -q "^validation_ok_total [2-9]" spool/stats/replica.file &&
	last=$(grep /wal/ names | tail -n 1) &&
	printf "\001" | dd of="rep/$last" bs=1 seek=20 conv=notrunc 2>/dev/null &&
	wait_for grep -q "^validation_errors_total 1$" spool/stats/replica.file &&
	wait_for cmp "rep/$last" "spool/$last" &&
	kill $(cat ship.pid) &&
	grep -q "warning: validation of .* failed" run.err
'

test_expect_success 'skipped when the spool no longer holds the position' '
	mkdir s2 && cp -r spool/generations s2/ && cp spool/generation s2/ &&
	mkdir -p s2/acks s2/tmp && cp spool/acks/file s2/acks/file &&
	rm s2/generations/*/snapshots/* &&
	ls-ship-file -1 -v -V 1h -r 0 s2 rep 2>err &&
	grep -q "info: validation skipped: the spool no longer restores to" err
'

test_done
