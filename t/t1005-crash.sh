#!/bin/sh
test_description='kill -9 of ls-watch or ls-ship-file during writes loses nothing confirmed'
. "$(dirname "$0")/lib.sh"

# check_prefix DB: the database is sound and holds transactions 1..k,
# whole; prints k.
check_prefix() {
	test "$(sql "$1" "PRAGMA integrity_check")" = ok || return 1
	sql "$1" "SELECT COUNT(*), COUNT(DISTINCT txn), COALESCE(MIN(txn), 0), COALESCE(MAX(txn), 0) FROM w" >prefix.out || return 1
	IFS='|' read rows txns lo hi <prefix.out
	test "$rows" = $((txns * 5)) && test "$txns" = "$hi" &&
	{ test "$hi" = 0 || test "$lo" = 1; } || {
		echo "not a prefix: $(cat prefix.out)" >&2; return 1; }
	echo "$hi"
}

test_expect_success 'setup: a writer commits continuously' '
	sql db "PRAGMA journal_mode=wal" &&
	{ test-writer db 100000 0.002 5 400 >committed 2>writer.err & } &&
	echo $! >writer.pid &&
	test_atexit "kill $(cat writer.pid)" &&
	wait_for test -s committed &&
	start_pipeline "-i 50ms -c 300 -C 2000 db spool" "-r 0 spool rep" &&
	wait_for has_file 'rep/generations/*/snapshots/00000000.snapshot.lz4'
'

last=0
for round in 1 2 3 4 5 6; do
	test_expect_success "round $round: kill -9 at a random moment, restore, restart" '
		sleep 0.$(( $(od -An -N1 -tu1 /dev/urandom) % 9 + 1 )) &&
		case $(( $(od -An -N1 -tu1 /dev/urandom) % 3 )) in
		0) victims="$(cat watch.pid)" ;;
		1) victims="$(cat ship.pid)" ;;
		2) victims="$(cat watch.pid) $(cat ship.pid)" ;;
		esac &&
		kill -9 $victims &&
		kill -TERM $(cat watch.pid) 2>/dev/null;
		wait_for eval "! alive $(cat watch.pid) && ! alive $(cat ship.pid)" &&
		rm -f r.db && ls-restore -o r.db rep &&
		k=$(check_prefix r.db) &&
		echo "round '$round': victims $victims, replica holds transactions 1..$k" &&
		test "$k" -ge "$(cat last 2>/dev/null || echo 0)" &&
		echo "$k" >last &&
		start_pipeline "-i 50ms -c 300 -C 2000 db spool" "-r 0 spool rep"
	'
done

test_expect_success 'after a clean stop the replica holds every commit' '
	kill -TERM $(cat writer.pid) &&
	wait_for eval "! alive $(cat writer.pid)" &&
	stop_pipeline &&
	rm -f r.db && ls-restore -o r.db rep &&
	k=$(check_prefix r.db) &&
	test "$k" = "$(tail -n 1 committed)" &&
	test "$k" -gt "$(cat last)" &&
	sql db .dump | grep -v _litestream_ >expect &&
	sql r.db .dump | grep -v _litestream_ >actual &&
	test_cmp expect actual
'

test_expect_success 'no temporary files left behind' '
	test -z "$(ls spool/tmp)" &&
	test -z "$(find rep -name ".*.tmp")"
'

test_done
