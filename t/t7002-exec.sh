#!/bin/sh
test_description='ls-exec, -exec and the exec key: restore if missing, replicate around an application'
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

# Config files whose exec lines hold single quotes, which a test body
# (itself in single quotes) cannot.
db_conf() { printf '[db]\npath = %s/%s\n[replica]\npath = %s/%s\n' \
	"$PWD" "$1" "$PWD" "$2"; }
cat >app.exec <<\EOF
exec = sh -c 'sqlite3 x.db "INSERT INTO t VALUES (2)" && exit 3'
EOF
cat >quote.exec <<\EOF
exec = printf '[%s]\n' a\ b "c \"d\" \\ \$HOME \`x\` \q" 'e $f \n' '' x"y"'z' \'
EOF
cat >var.exec <<\EOF
exec = printf '[%s]\n' ${W} "${W}" $$W
EOF
cat >sleep.exec <<\EOF
exec = sh -c 'echo $$$$ >prog.pid; exec sleep 30'
EOF
cat >e1.exec <<\EOF
exec = sh -c 'exit 1
EOF
cat >e2.exec <<\EOF
exec = sh -c "exit 1
EOF
cat >e3.exec <<\EOF
exec = true \
EOF
cat >e4.exec <<\EOF
exec =
EOF
cat >e5.exec <<\EOF
exec = '' x
EOF
# " ;" starts a comment, as in any value of the file.
cat >e6.exec <<\EOF
exec = sh -c 'true ; false'
EOF

test_expect_success 'setup: a database to run under the exec key' '
	sql x.db "PRAGMA journal_mode=wal; CREATE TABLE t(x); INSERT INTO t VALUES (1)" >/dev/null &&
	{ cat app.exec && db_conf x.db xrep; } >x.conf &&
	db_conf x.db xrep >plain.conf
'

test_expect_success 'ls-replicate -n checks a config with exec, and runs nothing' '
	ls-replicate -n -config x.conf >out 2>err &&
	echo "configuration OK" >expect && test_cmp expect out &&
	test_cmp /dev/null err &&
	test "$(sql x.db "SELECT count(*) FROM t")" = 1 &&
	test ! -e xrep
'

test_expect_success 'exec key: runs the command, ships its write, exits with its status' '
	test_expect_code 3 ls-replicate -config x.conf 2>err &&
	test_cmp /dev/null err &&
	ls-restore -o xcheck.db xrep &&
	test "$(sql xcheck.db "SELECT group_concat(x) FROM t")" = "1,2"
'

test_expect_success '-exec: the same from the command line' '
	test_expect_code 3 ls-replicate -exec \
		"sh -c \"sqlite3 x.db \\\"INSERT INTO t VALUES (3)\\\" && exit 3\"" \
		-config plain.conf &&
	rm -f xcheck.db && ls-restore -o xcheck.db xrep &&
	test "$(sql xcheck.db "SELECT group_concat(x) FROM t")" = "1,2,3"
'

test_expect_success '-exec wins over the exec key; --exec is the same flag' '
	test_expect_code 4 ls-replicate -config x.conf -exec "sh -c \"exit 4\"" &&
	test_expect_code 5 ls-replicate --exec "sh -c \"exit 5\"" --config x.conf &&
	test "$(sql x.db "SELECT group_concat(x) FROM t")" = "1,2,3"
'

test_expect_success 'ls-exec without PROG runs the exec key; PROG wins over it' '
	test_expect_code 3 ls-exec -config x.conf &&
	test "$(sql x.db "SELECT group_concat(x) FROM t")" = "1,2,3,2" &&
	test_expect_code 6 ls-exec -config x.conf sh -c "exit 6" &&
	test "$(sql x.db "SELECT count(*) FROM t")" = 4
'

test_expect_success 'quoting: single and double quotes, backslashes, empty words' '
	{ cat quote.exec && db_conf x.db xrep; } >q.conf &&
	ls-replicate -config q.conf >out &&
	cat >expect <<-\EOF &&
	[a b]
	[c "d" \ $HOME `x` \q]
	[e $f \n]
	[]
	[xyz]
	['"'"']
	EOF
	test_cmp expect out
'

test_expect_success 'quoting: ${VAR} is expanded before the split, $$ is $' '
	{ cat var.exec && db_conf x.db xrep; } >v.conf &&
	W="1  2" ls-replicate -config v.conf >out &&
	printf "[%s]\n" 1 2 "1  2" "\$W" >expect &&
	test_cmp expect out
'

exec_error() {
	{ cat "$1.exec" && db_conf x.db xrep; } >"$1.conf" &&
	for p in "ls-replicate -n" ls-replicate ls-exec; do
		test_expect_code 100 $p -config "$1.conf" 2>err &&
		echo "${p%% *}: fatal: $1.conf:1: exec: $2" >expect &&
		test_cmp expect err || return 1
	done
}

test_expect_success 'errors: FILE:LINE: exec: ..., exit 100' '
	exec_error e1 "unterminated single quote" &&
	exec_error e2 "unterminated double quote" &&
	exec_error e3 "trailing backslash" &&
	exec_error e4 "empty command" &&
	exec_error e5 "empty command" &&
	exec_error e6 "unterminated single quote"
'

test_expect_success '-exec errors and conflicts: exit 100' '
	test_expect_code 100 ls-replicate -exec "sh -c \"exit" -config plain.conf 2>err &&
	echo "ls-replicate: fatal: -exec: unterminated double quote" >expect &&
	test_cmp expect err &&
	test_expect_code 100 ls-replicate -n -exec "" -config plain.conf 2>err &&
	echo "ls-replicate: fatal: -exec: empty command" >expect &&
	test_cmp expect err &&
	test_expect_code 100 ls-replicate -exec true x.db xrep 2>err &&
	echo "ls-replicate: fatal: -exec and a command-line database are mutually exclusive (use -config)" >expect &&
	test_cmp expect err &&
	test_expect_code 100 ls-replicate -x -exec true -config plain.conf 2>err &&
	echo "ls-replicate: fatal: -exec and -x are mutually exclusive" >expect &&
	test_cmp expect err &&
	test_expect_code 100 ls-replicate -d 3 -config x.conf 3>ready 2>err &&
	echo "ls-replicate: fatal: -d and a command to run (exec) are mutually exclusive" >expect &&
	test_cmp expect err &&
	test_expect_code 100 ls-replicate -config x.conf -exec 2>err &&
	grep -q "^ls-replicate: usage: " err &&
	test "$(sql x.db "SELECT count(*) FROM t")" = 4
'

test_expect_success '-x: replicate only, the exec key ignored' '
	{ ls-replicate -x -d 3 -config x.conf 3>readyx 2>errx & } &&
	pid=$! && test_atexit "kill -9 $pid" &&
	wait_for test -s readyx &&
	test "$(cat /proc/$pid/comm)" = ls-replicate &&
	kill -TERM $pid && wait $pid &&
	test "$(sql x.db "SELECT count(*) FROM t")" = 4
'

test_expect_success 'exec key: one ls-replicate under it, and none under that' '
	{ cat sleep.exec && db_conf x.db xrep; } >s.conf &&
	rm -f prog.pid &&
	{ ls-replicate -config s.conf & } &&
	pid=$! && test_atexit "kill -9 $pid" &&
	wait_for test -s prog.pid &&
	test "$(cat /proc/$pid/comm)" = ls-exec &&
	rep=$(pgrep -P $pid -x ls-replicate) &&
	test "$(echo "$rep" | wc -w)" = 1 &&
	test "$(pgrep -P $pid | wc -l)" = 2 &&
	test "$(cat /proc/$(cat prog.pid)/comm)" = sleep &&
	! pgrep -P $rep -x ls-replicate &&
	! pgrep -P $rep -x ls-exec &&
	tr "\0" " " </proc/$rep/cmdline >cmdline &&
	grep -q "^[^ ]*ls-replicate -x -d 3 -config s.conf $" cmdline &&
	kill -TERM $pid && wait $pid; test $? = 143
'

test_expect_success 'exec key: SIGTERM reaches the command (143), replication stops' '
	rm -f prog.pid &&
	{ ls-replicate -config s.conf & } &&
	pid=$! && test_atexit "kill -9 $pid" &&
	wait_for test -s prog.pid &&
	rep=$(pgrep -P $pid -x ls-replicate) &&
	kill -TERM $pid &&
	wait $pid; rc=$? &&
	test $rc = 143 &&
	! alive $rep && ! alive $(cat prog.pid)
'

test_done
