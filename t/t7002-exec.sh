#!/bin/sh
test_description='ls-exec: restore if missing, replicate around an application'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup: a replica with a backup' '
	sql src.db "PRAGMA journal_mode=wal; CREATE TABLE t(x); INSERT INTO t VALUES (1)" >/dev/null &&
	{ ls-watch src.db srcspool >/dev/null & } && pid=$! &&
	wait_for has_file "srcspool/generations/*/snapshots/00000000.snapshot.lz4" &&
	kill -TERM $pid && wait $pid &&
	ls-ship-file -1 -r 0 srcspool "$PWD/rep" &&
	cat >exec.conf <<-EOF
	[db]
	path = $PWD/app.db
	[replica]
	path = $PWD/rep
	EOF
	test ! -e app.db
'

test_expect_success 'restores the missing database, runs PROG, ships its writes, exits with its status' '
	test_expect_code 3 ls-exec -restore-if-db-not-exists -config exec.conf \
		sh -c "sqlite3 app.db \"INSERT INTO t VALUES (2)\" && exit 3" &&
	test "$(sql app.db "SELECT group_concat(x) FROM t")" = "1,2" &&
	ls-restore -o check.db rep &&
	test "$(sql check.db "SELECT group_concat(x) FROM t")" = "1,2"
'

test_expect_success 'signals reach PROG; killed by signal n gives 128+n' '
	{ ls-exec -config exec.conf sh -c "echo \$\$ >prog.pid; exec sleep 30" & } &&
	pid=$! && test_atexit "kill -9 $pid" &&
	wait_for test -s prog.pid &&
	kill -TERM $pid &&
	wait $pid; test $? = 143
'

test_expect_success 'usage and a bad config: exit 100' '
	test_expect_code 100 ls-exec -config exec.conf 2>err &&
	grep -q "^ls-exec: usage: ls-exec" err &&
	printf "[db]\npath = x\n" >bad.conf &&
	test_expect_code 100 ls-exec -config bad.conf true 2>err &&
	echo "ls-exec: fatal: bad.conf:1: [db] x has no [replica]" >expect &&
	test_cmp expect err
'

test_done
