# t/lib.sh: a small TAP library in the manner of git's t/test-lib.sh.
#
#   test_description='...'
#   . "$(dirname "$0")/lib.sh"
#   test_expect_success [PREREQ,...] 'title' 'commands'
#   test_done
#
# Each script runs in its own trash directory t/trash.<script>/, with the
# built programs first on PATH. Servers a script starts are stopped by the
# functions registered with test_atexit.

TEST_DIRECTORY=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$TEST_DIRECTORY/.." && pwd)
this_test=$(basename "$0" .sh)
TRASH="$TEST_DIRECTORY/trash.$this_test"
PATH="$TOP:$TEST_DIRECTORY/bin:$PATH"
export PATH TOP TEST_DIRECTORY

# Never reach a cloud metadata endpoint or real credentials from a test.
AWS_EC2_METADATA_DISABLED=true
AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:9/
GCE_METADATA_HOST=127.0.0.1:9
GCE_METADATA_IP=127.0.0.1:9
IDENTITY_ENDPOINT=http://127.0.0.1:9/
IMDS_ENDPOINT=http://127.0.0.1:9/
MSI_ENDPOINT=http://127.0.0.1:9/
AZURE_AUTHORITY_HOST=http://127.0.0.1:9/
AZURE_POD_IDENTITY_AUTHORITY_HOST=http://127.0.0.1:9/
export AWS_EC2_METADATA_DISABLED AWS_EC2_METADATA_SERVICE_ENDPOINT \
	GCE_METADATA_HOST GCE_METADATA_IP IDENTITY_ENDPOINT IMDS_ENDPOINT \
	MSI_ENDPOINT AZURE_AUTHORITY_HOST AZURE_POD_IDENTITY_AUTHORITY_HOST
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY \
	AWS_REGION AWS_DEFAULT_REGION AWS_ENDPOINT_URL AWS_ENDPOINT_URL_STS \
	AWS_ROLE_SESSION_NAME AWS_CONTAINER_AUTHORIZATION_TOKEN \
	AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE \
	LS_SECRET_ACCESS_KEY
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE \
	AWS_ROLE_ARN AWS_WEB_IDENTITY_TOKEN_FILE AWS_CONTAINER_CREDENTIALS_RELATIVE_URI \
	AWS_CONTAINER_CREDENTIALS_FULL_URI LITESTREAM_ACCESS_KEY_ID \
	LITESTREAM_SECRET_ACCESS_KEY LITESTREAM_AZURE_ACCOUNT_KEY \
	GOOGLE_APPLICATION_CREDENTIALS AZURE_CLIENT_ID AZURE_TENANT_ID \
	AZURE_CLIENT_SECRET AZURE_FEDERATED_TOKEN_FILE IDENTITY_HEADER \
	STORAGE_EMULATOR_HOST LS_CONFIG CLOUDSDK_CONFIG
HOME="$TRASH/home"
AWS_SHARED_CREDENTIALS_FILE="$HOME/.aws/credentials"
AWS_CONFIG_FILE="$HOME/.aws/config"
export HOME AWS_SHARED_CREDENTIALS_FILE AWS_CONFIG_FILE
# Peers and tools the suite installs itself live here, pinned.
: "${LS_TEST_CACHE:=${XDG_CACHE_HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)/.cache}/ls-test}"
export LS_TEST_CACHE
LC_ALL=C
TZ=UTC
export LC_ALL TZ

test_count=0
test_failed=0
test_prereqs=" "
test_atexit_cmds=

rm -rf "$TRASH"
mkdir -p "$TRASH/home" || exit 1
cd "$TRASH" || exit 1

say() { printf '# %s\n' "$*"; }

test_set_prereq() { test_prereqs="$test_prereqs$1 "; }

test_have_prereq() {
	_ps=$(printf '%s' "$1" | tr ',' ' ')
	for _p in $_ps; do
		case "$test_prereqs" in
		*" $_p "*) ;;
		*) return 1 ;;
		esac
	done
	return 0
}

# test_atexit CMD: run CMD when the script ends, however it ends. Test
# bodies run in subshells, so the commands are kept in a file.
test_atexit() { printf '%s\n' "$1" >>"$TRASH/.atexit"; }

test_run_atexit() {
	if [ -f "$TRASH/.atexit" ]; then
		(. "$TRASH/.atexit") >/dev/null 2>&1
		rm -f "$TRASH/.atexit"
	fi
}
trap 'test_run_atexit' EXIT
trap 'test_run_atexit; exit 130' INT TERM

test_expect_success() {
	_prereq=
	if [ $# = 3 ]; then _prereq=$1; shift; fi
	test_count=$((test_count + 1))
	if [ -n "$_prereq" ] && ! test_have_prereq "$_prereq"; then
		echo "ok $test_count # skip $1 (missing $_prereq)"
		return 0
	fi
	# LS_TEST_TRACE=1: show each command of a failing test (set -x;
	# tests that compare stderr then fail: for debugging only).
	if (if [ -n "${LS_TEST_TRACE:-}" ]; then set -x; fi; eval "$2") \
	    >"$TRASH/.out" 2>&1 </dev/null; then
		echo "ok $test_count - $1"
		[ -n "$LS_TEST_VERBOSE" ] && sed 's/^/# /' "$TRASH/.out"
	else
		echo "not ok $test_count - $1"
		sed 's/^/#   /' "$TRASH/.out" | tail -n 40
		test_failed=$((test_failed + 1))
	fi
	return 0
}

# test_expect_code CODE CMD...: CMD must exit with CODE.
test_expect_code() {
	_want=$1; shift
	"$@"
	_got=$?
	if [ "$_got" != "$_want" ]; then
		echo "test_expect_code: $* exited $_got, wanted $_want" >&2
		return 1
	fi
	return 0
}

# test_must_fail CMD...: CMD must exit non-zero, and not die of a signal.
test_must_fail() {
	"$@"
	_got=$?
	if [ "$_got" = 0 ]; then
		echo "test_must_fail: $* succeeded" >&2
		return 1
	fi
	if [ "$_got" -gt 128 ] && [ "$_got" -lt 160 ]; then
		echo "test_must_fail: $* died of signal $((_got - 128))" >&2
		return 1
	fi
	return 0
}

test_cmp() { diff -u "$1" "$2"; }

test_done() {
	test_run_atexit
	echo "1..$test_count"
	cd "$TEST_DIRECTORY" || exit 1
	if [ "$test_failed" = 0 ]; then
		[ -n "$LS_TEST_KEEP" ] || rm -rf "$TRASH"
		exit 0
	fi
	exit 1
}

# peer_missing NAME REASON: a peer that cannot start. A skip locally; with
# LS_TEST_REQUIRE_PEERS=1 a failed test, so CI cannot pass without it.
peer_missing() {
	if [ "${LS_TEST_REQUIRE_PEERS:-0}" = 1 ]; then
		test_count=$((test_count + 1))
		echo "not ok $test_count - peer $1 is required: $2"
		test_failed=$((test_failed + 1))
	else
		say "peer $1 unavailable: $2"
	fi
}

# litestream_setup: sets LITESTREAM to Litestream v0.3.13 (installed into
# the cache by t/peers/litestream) and the LITESTREAM prereq.
litestream_setup() {
	if LITESTREAM=$("$TEST_DIRECTORY/peers/litestream" 2>"$TRASH/.peer-err"); then
		export LITESTREAM
		test_set_prereq LITESTREAM
	else
		peer_missing litestream "$(tail -n 1 "$TRASH/.peer-err")"
	fi
}

# start_pipeline 'LS-WATCH ARGS' 'SHIPPER ARGS': runs
# ls-watch ARGS | $SHIPPER ARGS (default ls-ship-file) in the background,
# in the current directory, with pids in watch.pid and ship.pid and stderr
# appended to watch.err and ship.err.
start_pipeline() {
	rm -f watch.pid ship.pid
	sh -c 'echo $$ >watch.pid; exec ls-watch '"$1"' 2>>watch.err' |
	    sh -c 'echo $$ >ship.pid; exec '"${SHIPPER:-ls-ship-file}"' '"$2"' 2>>ship.err' &
	wait_for test -s watch.pid && wait_for test -s ship.pid &&
	test_atexit "kill -9 $(cat watch.pid) $(cat ship.pid)"
}

# alive PID: the process exists.
alive() { kill -0 "$1" 2>/dev/null; }

# stop_pipeline: SIGTERM to ls-watch; the shipper ships what is pending
# and exits at end of input. Waits at most 10 s for both.
stop_pipeline() {
	kill -TERM "$(cat watch.pid)" &&
	wait_for eval '! alive $(cat watch.pid) && ! alive $(cat ship.pid)'
}

# has_file 'GLOB': some regular file matches GLOB (expanded at each call,
# so wait_for has_file '...' works).
has_file() {
	for _f in $1; do
		test -f "$_f" && return 0
	done
	return 1
}

# Helpers for databases.
sql() { sqlite3 -batch -bail "$@"; }

# wait_for CMD...: retry CMD every 0.05 s, at most 200 times (10 s).
wait_for() {
	_i=0
	while ! "$@" >/dev/null 2>&1; do
		_i=$((_i + 1))
		[ $_i -ge 200 ] && { echo "wait_for: gave up on: $*" >&2; return 1; }
		sleep 0.05
	done
	return 0
}
