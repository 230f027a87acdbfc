#!/bin/sh
test_description='ls-watch: usage, bad input, locks'
. "$(dirname "$0")/lib.sh"

usage='ls-watch: usage: ls-watch [-v] [-d FD] [-i INTERVAL] [-s INTERVAL] [-k INTERVAL] [-c PAGES] [-C PAGES] [-T PAGES] DB SPOOL'

test_expect_success 'no arguments: usage, exit 100' '
	test_expect_code 100 ls-watch 2>err &&
	echo "$usage" >expect &&
	test_cmp expect err
'

test_expect_success 'bad interval: exit 100' '
	test_expect_code 100 ls-watch -i 5x db spool 2>err &&
	echo "ls-watch: fatal: -i 5x: not a duration" >expect &&
	test_cmp expect err
'

test_expect_success 'bad page count: exit 100' '
	test_expect_code 100 ls-watch -c -1 db spool 2>err &&
	echo "ls-watch: fatal: -c -1: not a page count" >expect &&
	test_cmp expect err
'

test_expect_success 'readiness fd must be open and >= 3' '
	test_expect_code 100 ls-watch -d 2 db spool 2>err &&
	echo "ls-watch: fatal: -d 2: not an open descriptor >= 3" >expect &&
	test_cmp expect err
'

test_expect_success 'missing database: exit 111 (it may be created yet)' '
	test_expect_code 111 ls-watch nope.db spool 2>err &&
	echo "ls-watch: fatal: unable to open nope.db: No such file or directory" >expect &&
	test_cmp expect err
'

test_expect_success 'not a SQLite database: exit 100' '
	echo "hello, world, this is not sqlite" >junk.db &&
	test_expect_code 100 ls-watch junk.db spool 2>err &&
	echo "ls-watch: fatal: junk.db: not a SQLite database" >expect &&
	test_cmp expect err &&
	test "$(cat junk.db)" = "hello, world, this is not sqlite"
'

test_expect_success 'unusable spool: exit 100' '
	sql db.db "CREATE TABLE t(x)" &&
	echo file >afile &&
	test_expect_code 100 ls-watch db.db afile/spool 2>err &&
	echo "ls-watch: fatal: unable to use spool afile/spool: Not a directory" >expect &&
	test_cmp expect err
'

test_expect_success 'database held in rollback-journal mode: exit 111, unchanged' '
	sql rb.db "PRAGMA journal_mode=delete; CREATE TABLE t(x); INSERT INTO t VALUES (1)" &&
	{ python3 -c "
import sqlite3, sys, time
c = sqlite3.connect(\"rb.db\", isolation_level=None)
c.execute(\"BEGIN\"); c.execute(\"SELECT * FROM t\").fetchall()
print(\"locked\", flush=True)
time.sleep(5)
" >held & } &&
	holder=$! &&
	wait_for grep -q locked held &&
	test_expect_code 111 ls-watch rb.db spool-rb 2>err;
	rc=$?; kill $holder; wait $holder 2>/dev/null;
	test $rc = 0 &&
	echo "ls-watch: fatal: unable to switch rb.db to WAL mode: the database is locked by another process" >expect &&
	test_cmp expect err &&
	test "$(sql rb.db "PRAGMA journal_mode")" = delete
'

test_expect_success 'one ls-watch per database and per spool' '
	sql one.db "CREATE TABLE t(x)" &&
	{ ls-watch one.db spool1 >/dev/null 2>&1 & } &&
	pid=$! && test_atexit "kill $pid" &&
	wait_for test -f spool1/generation &&
	test_expect_code 100 ls-watch one.db spool2 2>err &&
	echo "ls-watch: fatal: one.db: another ls-watch is already watching this database" >expect &&
	test_cmp expect err &&
	sql two.db "CREATE TABLE t(x)" &&
	test_expect_code 100 ls-watch two.db spool1 2>err &&
	echo "ls-watch: fatal: spool1: spool in use by another ls-watch" >expect &&
	test_cmp expect err &&
	kill $pid && wait $pid
'

test_done
