# t/lib-restore.sh: replicas built by hand, for the restore tests. Sourced
# after lib.sh. Only sqlite3 and POSIX tools are needed: objects are LZ4
# frames of stored (uncompressed) blocks, which any LZ4 reader accepts.

# le32 N: N as four little-endian bytes.
le32() {
	printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $(($1 & 255)) \
	    $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)))"
}

# lz4_store IN OUT: IN as one LZ4 frame: FLG 0x60 (independent blocks, no
# checksums), BD 0x70 (4 MiB blocks), header checksum 0x73, one stored
# block, end mark. IN must be at most 4 MiB.
lz4_store() {
	_n=$(wc -c <"$1")
	[ "$_n" -le 4194304 ] || { echo "lz4_store: $1 too large" >&2; return 1; }
	{
		printf '\004\042\115\030\140\160\163' &&
		if [ "$_n" -gt 0 ]; then le32 $((_n | 0x80000000)) && cat "$1"; fi &&
		printf '\000\000\000\000'
	} >"$2"
}

# size FILE: its size in bytes.
size() { wc -c <"$1" | tr -d ' '; }

# tail_from FILE OFF: the bytes of FILE from OFF on.
tail_from() { tail -c +$(($2 + 1)) "$1"; }

# make_source DIR: a scripted SQLite session (page size 1024) that copies
# its files at each step, into DIR:
#   snap0         the database file once in WAL mode, before any table
#   w1 w2 w3      the -wal after CREATE TABLE; one INSERT; a 10-row
#                 transaction spanning 12 frames (all WAL index 0)
#   snap1         the database after a TRUNCATE checkpoint
#   x1 x2         the -wal (index 1, new salts) after one INSERT; an UPDATE
# and DIR/state.NAME, the dump of the database at each of w1..x2.
make_source() {
	mkdir -p "$1" &&
	(
		cd "$1" &&
		sql src.db >/dev/null <<-\EOF &&
		PRAGMA page_size=1024;
		PRAGMA journal_mode=wal;
		PRAGMA wal_autocheckpoint=0;
		.shell cp src.db snap0
		CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
		.shell cp src.db-wal w1
		INSERT INTO t(v) VALUES('one');
		.shell cp src.db-wal w2
		WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 10) INSERT INTO t(v) SELECT hex(randomblob(300)) FROM c;
		.shell cp src.db-wal w3
		PRAGMA wal_checkpoint(TRUNCATE);
		.shell cp src.db snap1
		INSERT INTO t(v) VALUES('two');
		.shell cp src.db-wal x1
		UPDATE t SET v = 'uno' WHERE id = 1;
		.shell cp src.db-wal x2
		EOF
		for w in w1 w2 w3 x1 x2; do
			case $w in w*) s=snap0 ;; x*) s=snap1 ;; esac
			rm -f o.db o.db-wal &&
			cp $s o.db && cp $w o.db-wal &&
			sql o.db .dump >state.$w || exit 1
		done &&
		rm -f o.db o.db-wal src.db src.db-wal src.db-shm
	)
}

# put_snapshot ROOT GEN IDX FILE MTIME: FILE as snapshot IDX (hex) of GEN,
# created at MTIME (seconds since the epoch).
put_snapshot() {
	_d="$1/generations/$2/snapshots" &&
	mkdir -p "$_d" &&
	_o="$_d/$(printf %08x $((0x$3))).snapshot.lz4" &&
	lz4_store "$4" "$_o" &&
	touch -d "@$5" "$_o"
}

# put_raw ROOT GEN IDX OFF FILE MTIME: FILE as WAL segment IDX_OFF (hex).
put_raw() {
	_d="$1/generations/$2/wal" &&
	mkdir -p "$_d" &&
	_o="$_d/$(printf %08x_%08x $((0x$3)) $((0x$4))).wal.lz4" &&
	lz4_store "$5" "$_o" &&
	touch -d "@$6" "$_o"
}

# put_seg ROOT GEN IDX FROM TO MTIME: the bytes TO has beyond FROM ("-"
# for none) as the WAL segment of index IDX at offset size(FROM).
put_seg() {
	if [ "$4" = - ]; then _off=0; else _off=$(size "$4"); fi &&
	tail_from "$5" $_off >seg.tmp &&
	put_raw "$1" "$2" "$3" "$(printf %x $_off)" seg.tmp "$6" &&
	rm -f seg.tmp
}

# make_replica ROOT GEN T0 SRC: the source's history as a replica, one
# object every 10 s from T0:
#   T0     snapshot 0, 0_0 (w1)     T0+10 0_850 (w2)   T0+20 0_c68 (w3)
#   T0+30  snapshot 1, 1_0 (x1)     T0+40 1_438 (x2)
make_replica() {
	put_snapshot "$1" "$2" 0 "$4/snap0" "$3" &&
	put_seg "$1" "$2" 0 - "$4/w1" "$3" &&
	put_seg "$1" "$2" 0 "$4/w1" "$4/w2" $(($3 + 10)) &&
	put_seg "$1" "$2" 0 "$4/w2" "$4/w3" $(($3 + 20)) &&
	put_snapshot "$1" "$2" 1 "$4/snap1" $(($3 + 30)) &&
	put_seg "$1" "$2" 1 - "$4/x1" $(($3 + 30)) &&
	put_seg "$1" "$2" 1 "$4/x1" "$4/x2" $(($3 + 40))
}

# rfc3339 SECONDS: that time in RFC 3339, UTC.
rfc3339() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

# dump DB: the database as SQL text.
dump() { sql "$1" .dump; }

# no_temp OUT: nothing of a restore to OUT is left beside it.
no_temp() {
	for _f in "$1".tmp "$1".tmp-wal "$1".tmp-shm "$1"-wal "$1"-shm; do
		test ! -e "$_f" || { echo "left behind: $_f" >&2; return 1; }
	done
}
