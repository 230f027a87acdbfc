#!/bin/sh
test_description='ls-replicate: Prometheus metrics over HTTP and in a textfile'
. "$(dirname "$0")/lib.sh"

# get PATH [METHOD]: status line and body of http://127.0.0.1:PORT/PATH
get() {
	python3 -c "
import sys, urllib.request, urllib.error
req = urllib.request.Request(\"http://127.0.0.1:$(cat port)$1\", method=\"${2:-GET}\")
try:
    r = urllib.request.urlopen(req, timeout=5)
    print(r.status); sys.stdout.write(r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code)
"
}
kids() { pgrep -P "$(cat rep.pid)" -x "$1"; }
pending_zero() {
	get /metrics | grep -q "^ls_replica_pending_objects{db=\"$PWD/db\",replica=\"a\"} 0\$"
}
lag_zero() {
	get /metrics | grep -q "^ls_replication_lag_seconds{db=\"$PWD/db\",replica=\"a\"} 0.000\$"
}

test_expect_success 'setup' '
	python3 -c "import socket; s = socket.socket(); s.bind((\"127.0.0.1\", 0)); print(s.getsockname()[1])" >port &&
	sql db "PRAGMA journal_mode=wal; CREATE TABLE t(x)" >/dev/null &&
	cat >m.conf <<-EOF &&
	addr = 127.0.0.1:$(cat port)
	metrics-file = $PWD/metrics.prom
	[db]
	path = $PWD/db
	[replica]
	name = a
	path = $PWD/rep
	EOF
	{ ls-replicate -d 3 -config m.conf 3>ready 2>rep.err & } &&
	echo $! >rep.pid && test_atexit "kill -9 $(cat rep.pid)" &&
	wait_for test -s ready
'

test_expect_success 'GET /metrics: sizes, position, replica, children' '
	sql db "INSERT INTO t VALUES (1)" &&
	wait_for pending_zero &&
	get /metrics >m &&
	test "$(head -n 1 m)" = 200 &&
	grep -qx "ls_db_size_bytes{db=\"$PWD/db\"} $(stat -c %s db)" m &&
	grep -qx "ls_generation_info{db=\"$PWD/db\",generation=\"$(cut -d" " -f1 .db-ls/generation)\"} 1" m &&
	grep -qx "ls_replication_lag_seconds{db=\"$PWD/db\",replica=\"a\"} 0.000" m &&
	grep -qx "ls_child_up{db=\"$PWD/db\",program=\"ls-watch\",replica=\"\"} 1" m &&
	grep -qx "ls_child_up{db=\"$PWD/db\",program=\"ls-ship-file\",replica=\"a\"} 1" m &&
	grep -qx "# TYPE ls_replication_lag_seconds gauge" m
'

# counters_match: the counters agree with the spool and the replica.
counters_match() {
	get /metrics >c &&
	segs=$(ls .db-ls/generations/*/wal | wc -l) &&
	puts=$(find rep -type f | wc -l) &&
	grep -qx "ls_watch_segments_total{db=\"$PWD/db\"} $segs" c &&
	grep -qx "ls_replica_put_total{db=\"$PWD/db\",replica=\"a\"} $puts" c
}

test_expect_success 'counters from the children: segments, snapshots, puts' '
	wait_for counters_match &&
	grep -qx "# TYPE ls_watch_segments_total counter" c &&
	grep -qx "ls_watch_snapshots_total{db=\"$PWD/db\"} 1" c &&
	grep -qx "ls_watch_generations_total{db=\"$PWD/db\"} 1" c
'

test_expect_success 'the lag gauge grows while a replica is behind' '
	ship=$(kids ls-ship-file) && kill -STOP $ship &&
	sql db "INSERT INTO t VALUES (2)" &&
	sleep 2.2 &&
	get /metrics >m2 &&
	kill -CONT $ship &&
	lag=$(sed -n "s/^ls_replication_lag_seconds{db=\"[^\"]*\",replica=\"a\"} //p" m2) &&
	echo "lag while stopped: $lag" &&
	awk "BEGIN { exit !($lag >= 1.0) }" &&
	grep -q "^ls_replica_pending_objects{db=\"$PWD/db\",replica=\"a\"} [1-9]" m2 &&
	wait_for lag_zero
'

test_expect_success 'nothing but GET /metrics is served' '
	test "$(get /debug/pprof/)" = 404 &&
	test "$(get / )" = 404 &&
	test "$(get /metrics POST)" = 405
'

test_expect_success 'the textfile is written, and once more at the stop' '
	wait_for test -s metrics.prom &&
	grep -q "^ls_db_size_bytes{db=\"$PWD/db\"} " metrics.prom &&
	kill -TERM $(cat rep.pid) && wait_for eval "! alive $(cat rep.pid)" &&
	grep -qx "ls_child_up{db=\"$PWD/db\",program=\"ls-watch\",replica=\"\"} 0" metrics.prom
'

# ctr NAME REPLICA: a counter of replica REPLICA in file vm.
ctr() { sed -n "s/^$1{db=\"[^\"]*\",replica=\"$2\"} //p" vm; }
validated() {
	get /metrics >vm && test "$(ctr ls_replica_validation_ok_total v)" -ge 2
}

test_expect_success 'GET counts: a replica with validation-interval reads itself back' '
	cat >v.conf <<-EOF &&
	addr = 127.0.0.1:$(cat port)
	[db]
	path = $PWD/db
	[replica]
	name = v
	path = $PWD/vrep
	validation-interval = 1s
	EOF
	{ ls-replicate -d 3 -config v.conf 3>vready 2>v.err & } &&
	echo $! >v.pid && test_atexit "kill -9 $(cat v.pid)" &&
	wait_for test -s vready &&
	sql db "INSERT INTO t VALUES (3)" &&
	wait_for validated &&
	objs=$(find vrep -name "*.lz4" | wc -l) &&
	gets=$(ctr ls_replica_get_total v) && bytes=$(ctr ls_replica_get_bytes_total v) &&
	echo "objects $objs, GETs $gets, bytes $bytes" &&
	test "$gets" -ge $((2 * objs - 1)) &&
	test "$bytes" -gt 0 &&
	test "$(ctr ls_replica_get_errors_total v)" = 0 &&
	grep -qx "# TYPE ls_replica_get_total counter" vm &&
	test -z "$(ctr ls_replica_validation_errors_total v)" &&
	kill -TERM $(cat v.pid) && wait_for eval "! alive $(cat v.pid)"
'

test_done
