#!/bin/sh
test_description='ls-replicate: command line and config forms, supervision, stop'
. "$(dirname "$0")/lib.sh"

usage='ls-replicate: usage: ls-replicate [-nvx] [-d FD] [-config FILE] [-exec CMD] [DB URL...]'
dump() { sql "$1" .dump | grep -v _litestream_; }

# pids of ls-replicate's children of one kind
kids() { pgrep -P "$(cat rep.pid)" -x "$1"; }

test_expect_success 'usage' '
	test_expect_code 100 ls-replicate db 2>err &&
	echo "$usage" >expect && test_cmp expect err &&
	test_expect_code 100 ls-replicate -config x.conf db dir 2>err &&
	echo "ls-replicate: fatal: a config file and a command-line database are mutually exclusive" >expect &&
	test_cmp expect err
'

test_expect_success 'command-line form: two replicas, ready, stop, both complete' '
	sql db "PRAGMA journal_mode=wal; CREATE TABLE t(x)" >/dev/null &&
	{ ls-replicate -d 3 db b1 "file://$PWD/b2" 3>ready 2>rep.err & } &&
	echo $! >rep.pid && test_atexit "kill -9 $(cat rep.pid)" &&
	wait_for test -s ready &&
	for i in 1 2 3 4 5; do sql db "INSERT INTO t VALUES ($i)" || exit 1; done &&
	python3 -c "
import sqlite3, os, signal
c = sqlite3.connect(\"db\", isolation_level=None)
c.execute(\"INSERT INTO t VALUES (6)\")
os.kill($(cat rep.pid), signal.SIGTERM)
" &&
	wait $(cat rep.pid) &&
	ls-restore -o r1.db b1 && ls-restore -o r2.db b2 &&
	test "$(sql r1.db "SELECT group_concat(x) FROM t")" = "1,2,3,4,5,6" &&
	dump r1.db >a && dump r2.db >b && test_cmp a b &&
	test -d .db-ls/generations &&
	ls .db-ls/acks >acks && printf "file1\nfile2\n" >expect && test_cmp expect acks
'

test_expect_success 'a killed shipper is restarted and catches up' '
	{ ls-replicate -d 3 db b1 3>ready2 2>rep2.err & } &&
	echo $! >rep.pid && test_atexit "kill -9 $(cat rep.pid)" &&
	wait_for test -s ready2 &&
	old=$(kids ls-ship-file) && test -n "$old" &&
	kill -9 $old &&
	sql db "INSERT INTO t VALUES (7)" &&
	wait_for grep -q "^ls-replicate: warning: .*ls-ship-file was killed by signal 9, restart in 1s$" rep2.err &&
	wait_for eval "test -n \"\$(kids ls-ship-file)\" && test \"\$(kids ls-ship-file)\" != $old" &&
	kill -TERM $(cat rep.pid) && wait_for eval "! alive $(cat rep.pid)" &&
	rm -f r1.db && ls-restore -o r1.db b1 &&
	test "$(sql r1.db "SELECT MAX(x) FROM t")" = 7
'

test_expect_success 'a killed ls-watch is restarted and resumes' '
	{ ls-replicate -d 3 db b1 3>ready3 2>rep3w.err & } &&
	echo $! >rep.pid && test_atexit "kill -9 $(cat rep.pid)" &&
	wait_for test -s ready3 &&
	old=$(kids ls-watch) && test -n "$old" &&
	kill -9 $old &&
	wait_for grep -q "^ls-replicate: warning: .*ls-watch was killed by signal 9, restart in 1s$" rep3w.err &&
	wait_for eval "test -n \"\$(kids ls-watch)\" && test \"\$(kids ls-watch)\" != $old" &&
	sql db "INSERT INTO t VALUES (7.5)" &&
	kill -TERM $(cat rep.pid) &&
	{ wait $(cat rep.pid) || { echo "ls-replicate exited $?"; cat rep3w.err; false; }; } &&
	rm -f r1.db && ls-restore -o r1.db b1 &&
	test "$(sql r1.db "SELECT MAX(x) FROM t")" = 7.5
'

test_expect_success 'a permanent failure is not restarted' '
	echo "not a database at all, no" >junk &&
	{ ls-replicate junk b3 2>rep3.err & } && pid=$! &&
	test_atexit "kill -9 $pid" &&
	wait_for grep -q "exited 100: not restarting it" rep3.err &&
	grep -q "^ls-watch: fatal: junk: not a SQLite database$" rep3.err &&
	sleep 1.5 && test $(grep -c "^ls-watch: fatal" rep3.err) = 1 &&
	kill -TERM $pid && wait_for eval "! alive $pid"
'

cat >good.conf <<'EOF_CONF'
# a comment
[global]
retention = 72h

[db]
    path = ${DBDIR}/db
    monitor-interval = 100ms
    min-checkpoint-page-count = 500

[replica]
    name = local
    path = ${DBDIR}/c1

[replica]
    url = file://${DBDIR}/c2
    retention = 1h
EOF_CONF

test_expect_success 'config form: -n checks it' '
	DBDIR=$PWD ls-replicate -n -config good.conf >out &&
	echo "configuration OK" >expect && test_cmp expect out
'

test_expect_success 'config form: replicates to every replica' '
	{ DBDIR=$PWD ls-replicate -d 3 -config good.conf 3>ready4 2>rep4.err & } &&
	echo $! >rep.pid && test_atexit "kill -9 $(cat rep.pid)" &&
	wait_for test -s ready4 &&
	sql db "INSERT INTO t VALUES (8)" &&
	kill -TERM $(cat rep.pid) && wait_for eval "! alive $(cat rep.pid)" &&
	ls-restore -o c1.db c1 && ls-restore -o c2.db c2 &&
	test "$(sql c1.db "SELECT MAX(x) FROM t")" = 8 &&
	test "$(sql c2.db "SELECT MAX(x) FROM t")" = 8 &&
	test -f .db-ls/acks/local && test -f .db-ls/acks/file
'

# conf_error 'FILE CONTENT' 'EXPECTED MESSAGE': -n fails with exit 100.
conf_error() {
	printf "%s\n" "$1" >bad.conf &&
	test_expect_code 100 ls-replicate -n -config bad.conf 2>err &&
	echo "ls-replicate: fatal: $2" >expect &&
	test_cmp expect err
}

test_expect_success 'config errors name the file and line' '
	conf_error "[db]
path = db
[replica]
path = x
retension = 1h" "bad.conf:5: unknown key '"'"'retension'"'"' in [replica]" &&
	conf_error "[db]
path = db
checkpoint-interval = 5x
[replica]
path = x" "bad.conf:3: checkpoint-interval: '"'"'5x'"'"' is not a duration (like 1s, 10m, 24h)" &&
	conf_error "[db]
monitor-interval = 1s
[replica]
path = x" "bad.conf:1: [db] has no path" &&
	conf_error "[db]
path = db
[replica]
path = x
[replica]
path = y" "bad.conf:5: a replica named '"'"'file'"'"' is already defined at line 3 (give each a name)" &&
	conf_error "[db]
path = db
[replica]
url = ftp://u@h/db" "bad.conf:3: replica type ftp is not supported by this build (no ls-ship-ftp)" &&
	conf_error "[dbs]
path = db" "bad.conf:1: unknown section [dbs] (known: [global], [db], [replica])" &&
	conf_error "[db]
path = \${NOPE_NOT_SET}/db
[replica]
path = x" "bad.conf:2: \${NOPE_NOT_SET} is not set" &&
	conf_error "[db]
path = db" "bad.conf:1: [db] db has no [replica]" &&
	conf_error "[global]
log-level = loud" "bad.conf:2: log-level: '"'"'loud'"'"' is not debug, info, warn or error" &&
	conf_error "[global]
log-type = json" "bad.conf:2: log-type: '"'"'json'"'"': only text (one line a message on stderr)"
'

test_expect_success 'log-level = info makes every child verbose' '
	printf "[global]\nlog-level = info\nlog-type = text\nlog-stderr = true\n[db]\npath = %s/db\n[replica]\npath = %s/lv\n" "$PWD" "$PWD" >lv.conf &&
	{ ls-replicate -d 3 -config lv.conf 3>readylv 2>replv.err & } &&
	echo $! >rep.pid && test_atexit "kill -9 $(cat rep.pid)" &&
	wait_for test -s readylv &&
	tr "\0" " " </proc/$(kids ls-watch)/cmdline | grep -q " -v " &&
	kill -TERM $(cat rep.pid) && wait_for eval "! alive $(cat rep.pid)" &&
	grep -q "^ls-replicate: info: started" replv.err
'

test_expect_success 'values expand ${VAR} once; $$ is a dollar' '
	printf "[db]\npath = \${DBDIR}/db\n[replica]\nname = a\$\$b\npath = x\n" >d.conf &&
	test_expect_code 100 env DBDIR=$PWD ls-replicate -n -config d.conf 2>err &&
	grep -q "name: '"'"'a\$b'"'"': a replica name is" err &&
	printf "[db]\npath = \${DBDIR}/db\n[replica]\nname = ok\npath = \${DIR2}\n" >e.conf &&
	DBDIR=$PWD DIR2="\$HOME" ls-replicate -n -config e.conf
'

test_expect_success 'SIGHUP applies the difference and leaves the rest running' '
	printf "[db]\npath = %s/db\n[replica]\nname = a\npath = %s/h1\n" "$PWD" "$PWD" >h.conf &&
	{ ls-replicate -v -d 3 -config h.conf 3>readyh 2>reph.err & } &&
	echo $! >rep.pid && test_atexit "kill -9 $(cat rep.pid)" &&
	wait_for test -s readyh &&
	w1=$(kids ls-watch) && s1=$(kids ls-ship-file) &&
	printf "[replica]\nname = b\npath = %s/h2\n" "$PWD" >>h.conf &&
	kill -HUP $(cat rep.pid) &&
	wait_for eval "test \$(kids ls-ship-file | wc -l) = 2" &&
	test "$(kids ls-watch)" = "$w1" &&
	kids ls-ship-file | grep -qx "$s1" &&
	sql db "INSERT INTO t VALUES (10)" &&
	wait_for has_file "h2/generations/*/snapshots/*.snapshot.lz4" &&
	echo "this is not ini" >>h.conf &&
	kill -HUP $(cat rep.pid) &&
	wait_for grep -q "warning: configuration not reloaded: h.conf:9: not a key = value line" reph.err &&
	test "$(kids ls-watch)" = "$w1" &&
	printf "[db]\npath = %s/db\nmonitor-interval = 200ms\n[replica]\nname = a\npath = %s/h1\n" "$PWD" "$PWD" >h.conf &&
	kill -HUP $(cat rep.pid) &&
	wait_for eval "test \$(kids ls-ship-file | wc -l) = 1" &&
	wait_for eval "test -n \"\$(kids ls-watch)\" && test \"\$(kids ls-watch)\" != $w1" &&
	kids ls-ship-file | grep -qx "$s1" &&
	sql db "INSERT INTO t VALUES (11)" &&
	kill -TERM $(cat rep.pid) && wait_for eval "! alive $(cat rep.pid)" &&
	ls-restore -o h1.db h1 && test "$(sql h1.db "SELECT MAX(x) FROM t")" = 11 &&
	ls-restore -o h2.db h2 && test "$(sql h2.db "SELECT MAX(x) FROM t")" = 10 &&
	! grep "another ls-watch" reph.err
'

test_expect_success 'LS_CONFIG names the default file' '
	DBDIR=$PWD LS_CONFIG=good.conf ls-replicate -n >out &&
	echo "configuration OK" >expect && test_cmp expect out
'

# writer DB N: N one-row commits, each number logged once committed.
writer() {
	python3 -c "
import sqlite3, sys
c = sqlite3.connect(\"$1\", isolation_level=None, timeout=30)
with open(\"$1.done\", \"w\") as f:
    for i in range(1, $2 + 1):
        c.execute(\"INSERT INTO t VALUES (?)\", (i,))
        f.write(\"%d\\n\" % i)
        f.flush()
"
}

test_expect_success 'two databases, two replicas each, SIGTERM under writes: every committed row is in every replica' '
	for d in m1 m2; do
		sql $d.db "PRAGMA journal_mode=wal; CREATE TABLE t(x)" >/dev/null || exit 1
	done &&
	printf "[db]\npath = %s/m1.db\nmonitor-interval = 20ms\n[replica]\nname = a\npath = %s/m1a\n[replica]\nname = b\npath = %s/m1b\n[db]\npath = %s/m2.db\nmonitor-interval = 20ms\n[replica]\nname = a\npath = %s/m2a\n[replica]\nname = b\npath = %s/m2b\n" \
	    "$PWD" "$PWD" "$PWD" "$PWD" "$PWD" "$PWD" >multi.conf &&
	{ ls-replicate -d 3 -config multi.conf 3>readym 2>repm.err & } &&
	echo $! >rep.pid && test_atexit "kill -9 $(cat rep.pid)" &&
	wait_for test -s readym &&
	test "$(kids ls-watch | wc -l)" = 2 && test "$(kids ls-ship-file | wc -l)" = 4 &&
	{ writer m1.db 100000 & } && w1=$! &&
	{ writer m2.db 100000 & } && w2=$! &&
	wait_for eval "test \$(wc -l <m1.db.done) -ge 300 && test \$(wc -l <m2.db.done) -ge 300" &&
	wc -l <m1.db.done >m1.before && wc -l <m2.db.done >m2.before &&
	kill -TERM $(cat rep.pid) &&
	{ wait $(cat rep.pid); echo $? >codem; } &&
	kill $w1 $w2 2>/dev/null; wait $w1 $w2 2>/dev/null;
	test "$(cat codem)" = 0 &&
	for d in m1 m2; do
		before=$(cat $d.before) &&
		for r in a b; do
			rm -f $d$r.r.db &&
			ls-restore -o $d$r.r.db $d$r || exit 1
			got=$(sql $d$r.r.db "SELECT COUNT(*), MAX(x) FROM t") &&
			n=${got%%|*} && max=${got##*|} &&
			test "$n" = "$max" || exit 1
			# everything committed before the stop was signalled
			test "$max" -ge "$before" || exit 1
		done
	done &&
	test "$(sql m1a.r.db "SELECT COUNT(*) FROM t")" = "$(sql m1b.r.db "SELECT COUNT(*) FROM t")" &&
	test "$(sql m2a.r.db "SELECT COUNT(*) FROM t")" = "$(sql m2b.r.db "SELECT COUNT(*) FROM t")"
'

test_expect_success 'a stop that outlasts shutdown-timeout kills what is left, exit 111' '
	printf "[global]\nshutdown-timeout = 1s\n[db]\npath = %s/db\n[replica]\npath = %s/st\n" "$PWD" "$PWD" >st.conf &&
	{ ls-replicate -d 3 -config st.conf 3>readyst 2>repst.err & } &&
	echo $! >rep.pid && test_atexit "kill -9 $(cat rep.pid)" &&
	wait_for test -s readyst &&
	ship=$(kids ls-ship-file) && test -n "$ship" &&
	kill -STOP $ship &&
	sql db "INSERT INTO t VALUES (20)" &&
	start=$(date +%s%N) &&
	kill -TERM $(cat rep.pid) &&
	{ wait $(cat rep.pid); echo $? >code; } &&
	end=$(date +%s%N) &&
	test "$(cat code)" = 111 &&
	grep -q "^ls-replicate: warning: stop timed out: killing what is left$" repst.err &&
	! alive $ship &&
	ms=$(( (end - start) / 1000000 )) && say "stopped in $ms ms" &&
	test $ms -ge 900 && test $ms -lt 10000
'

test_expect_success 'a second signal stops at once, exit 111' '
	{ ls-replicate -d 3 -config st.conf 3>readyst2 2>repst2.err & } &&
	echo $! >rep.pid && test_atexit "kill -9 $(cat rep.pid)" &&
	wait_for test -s readyst2 &&
	ship=$(kids ls-ship-file) && kill -STOP $ship &&
	sql db "INSERT INTO t VALUES (21)" &&
	kill -TERM $(cat rep.pid) && sleep 0.2 && kill -TERM $(cat rep.pid) &&
	{ wait $(cat rep.pid); echo $? >code2; } &&
	test "$(cat code2)" = 111 &&
	grep -q "^ls-replicate: warning: second signal: stopping at once$" repst2.err &&
	! alive $ship
'

test_done
