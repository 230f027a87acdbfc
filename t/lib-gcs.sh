# t/lib-gcs.sh: the Google Cloud Storage peer for tests, sourced after
# t/lib.sh. It starts the storage emulator of firebase-tools
# (t/peers/gcs-emulator, t/bin/gcs-emulator.js) on 127.0.0.1, and optionally
# t/bin/s3-proxy in front of it, and stops both when the script ends.
# Requests are made with t/bin/gcs-client. The emulator checks no
# credentials; the proxy's --token stands in for the server's token check.
#
#   gcs_setup                start the emulator; sets the GCS prereq. Call
#                            it outside any test.
#   gcs_proxy_start [--token TOKEN] [--faults FILE]
#                            start s3-proxy in front of the emulator, with
#                            JSON error bodies and the fault rules in FILE
#                            (default $TRASH/gcs-proxy.faults; missing or
#                            empty: no faults); GCS_ENDPOINT and
#                            GCS_EMULATOR_HOST then point at it; sets the
#                            GCSPROXY prereq. With --token, every request
#                            must carry "Authorization: Bearer TOKEN", or is
#                            answered 401 (code required: no Authorization
#                            header; authError: another value) and not
#                            forwarded. Outside any test. A rule's GLOB (see
#                            t/bin/s3-proxy) should start with /, to match
#                            the whole decoded path: object names are in the
#                            query of an upload, and encoded whole (a / as
#                            %2F, decoded by the proxy) in other paths, as
#                            /storage/v1/b/BUCKET/o/NAME.
#   gcs_tokens [TOKEN...]    replace the tokens the proxy accepts (none:
#                            every request is refused), atomically. Only
#                            after gcs_proxy_start --token.
#   gcs_faults [RULE...]     replace the rules in $GCS_FAULTS, one a line
#                            (none: no faults), atomically.
#   gcs_proxy_stop, gcs_stop stop the proxy, or the emulator, before the end.
#   gcs_ls BUCKET [PREFIX]   print the object names under PREFIX, one a line.
#   gcs_cat BUCKET OBJECT    write the object to stdout.
#   gcs_put BUCKET OBJECT FILE
#                            store FILE as the object (the upload GCS_UPLOAD
#                            names, default media: see t/bin/gcs-client).
#   gcs_rm BUCKET OBJECT     delete the object.
#   gcs_client ENDPOINT OP ARG...
#                            t/bin/gcs-client OP ARG... against ENDPOINT; the
#                            ones above go to the emulator directly, past
#                            the proxy, its faults and its token check.
#   gcs_running PID          the process runs (and is not a zombie).
#
# Variables (exported): GCS_EMULATOR (the start script), GCS_EMULATOR_DIR
# (where it keeps object bytes; metadata is in its memory only),
# GCS_EMULATOR_PID, GCS_EMULATOR_ENDPOINT (the emulator itself,
# http://127.0.0.1:PORT), GCS_PORT, GCS_ENDPOINT (the proxy once started,
# else the emulator), GCS_EMULATOR_HOST (GCS_ENDPOINT without its scheme,
# 127.0.0.1:PORT, as STORAGE_EMULATOR_HOST takes it), GCS_BUCKET (ls-test;
# buckets spring up at their first request), GCS_PROJECT (demo-ls-test);
# after gcs_proxy_start also GCS_PROXY_PORT, GCS_PROXY_PID, GCS_PROXY_LOG
# (one line per request, see t/bin/s3-proxy), GCS_FAULTS (the rules file)
# and, with --token, GCS_PROXY_TOKENS (the file of accepted headers).
# Logs: $TRASH/gcs-emulator.log (the emulator's stderr), $TRASH/gcs-proxy.err.

GCS_BUCKET=ls-test
GCS_PROJECT=demo-ls-test
export GCS_BUCKET GCS_PROJECT

# gcs_kill PID WORD: SIGKILL to PID if it is still a process whose command
# line holds WORD (so a recycled pid is left alone).
gcs_kill() {
	if tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q -- "$2"; then
		kill -9 "$1" 2>/dev/null
	fi
	return 0
}

# gcs_running PID: the process exists and is not a zombie. (The stat file
# is read once: a zombie can be reaped at any moment.)
gcs_running() {
	_gcs_st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	case ${_gcs_st##*\) } in
	Z*|'') return 1 ;;
	esac
	return 0
}

# gcs_wait_up PID CMD...: retry CMD every 0.05 s, at most 600 times (30 s
# and more on a loaded machine), while PID runs. Fails as soon as PID is
# gone.
gcs_wait_up() {
	_gcs_pid=$1; shift
	_gcs_i=0
	while [ $_gcs_i -lt 600 ]; do
		gcs_running "$_gcs_pid" || return 1
		"$@" >/dev/null 2>&1 && return 0
		_gcs_i=$((_gcs_i + 1))
		sleep 0.05
	done
	return 1
}

# gcs_answers URL: an HTTP server answers 200 at URL.
gcs_answers() {
	[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1")" = 200 ]
}

# gcs_port FILE: the port in FILE, once the file is there.
gcs_port() { test -s "$1" && cat "$1"; }

gcs_setup() {
	for _c in node curl python3; do
		if ! command -v "$_c" >/dev/null 2>&1; then
			peer_missing gcs-emulator "$_c not found"
			return 1
		fi
	done
	if ! GCS_EMULATOR=$("$TEST_DIRECTORY/peers/gcs-emulator" 2>"$TRASH/.peer-err"); then
		peer_missing gcs-emulator "$(tail -n 1 "$TRASH/.peer-err")"
		return 1
	fi
	GCS_EMULATOR_DIR=$(mktemp -d "$TRASH/gcs-emulator.XXXXXX") || return 1
	# Port 0: the emulator binds a free port itself and writes it down.
	rm -f "$TRASH/gcs-emulator.port"
	node "$GCS_EMULATOR" --dir "$GCS_EMULATOR_DIR" --port 0 \
	    --port-file "$TRASH/gcs-emulator.port" --project "$GCS_PROJECT" \
	    >>"$TRASH/gcs-emulator.log" 2>&1 </dev/null &
	GCS_EMULATOR_PID=$!
	test_atexit "gcs_kill $GCS_EMULATOR_PID gcs-emulator.js"
	if gcs_wait_up "$GCS_EMULATOR_PID" gcs_port "$TRASH/gcs-emulator.port" &&
	    GCS_PORT=$(cat "$TRASH/gcs-emulator.port") &&
	    GCS_EMULATOR_ENDPOINT="http://127.0.0.1:$GCS_PORT" &&
	    gcs_wait_up "$GCS_EMULATOR_PID" gcs_answers \
	    "$GCS_EMULATOR_ENDPOINT/storage/v1/b/$GCS_BUCKET/o"
	then
		GCS_ENDPOINT=$GCS_EMULATOR_ENDPOINT
		GCS_EMULATOR_HOST="127.0.0.1:$GCS_PORT"
		export GCS_EMULATOR GCS_EMULATOR_DIR GCS_EMULATOR_PID \
		    GCS_EMULATOR_ENDPOINT GCS_PORT GCS_ENDPOINT GCS_EMULATOR_HOST
		test_set_prereq GCS
		return 0
	fi
	gcs_kill "$GCS_EMULATOR_PID" gcs-emulator.js
	peer_missing gcs-emulator "it did not start: $(tail -n 1 "$TRASH/gcs-emulator.log")"
	return 1
}

# gcs_stop: SIGTERM to the emulator; waits at most 10 s for it to exit.
gcs_stop() {
	kill -TERM "$GCS_EMULATOR_PID" 2>/dev/null
	wait_for eval "! gcs_running $GCS_EMULATOR_PID"
}

gcs_proxy_start() {
	_gcs_faults=''
	_gcs_token=''
	_gcs_has_token=''
	while [ $# -gt 0 ]; do
		case $1 in
		--faults) _gcs_faults=$2; shift ;;
		--token) _gcs_token=$2 _gcs_has_token=1; shift ;;
		*) echo "gcs_proxy_start: unknown option '$1'" >&2; return 1 ;;
		esac
		shift
	done
	test_have_prereq GCS || return 1
	GCS_PROXY_LOG="$TRASH/gcs-proxy.log"
	set -- --upstream "$GCS_EMULATOR_ENDPOINT" --json-errors \
	    --port-file "$TRASH/gcs-proxy.port" --log "$GCS_PROXY_LOG"
	case $_gcs_faults in
	'') GCS_FAULTS="$TRASH/gcs-proxy.faults" ;;
	/*) GCS_FAULTS=$_gcs_faults ;;
	*) GCS_FAULTS="$PWD/$_gcs_faults" ;;
	esac
	export GCS_FAULTS
	set -- "$@" --faults "$GCS_FAULTS"
	unset GCS_PROXY_TOKENS
	if [ -n "$_gcs_has_token" ]; then
		GCS_PROXY_TOKENS="$TRASH/gcs-proxy.tokens"
		export GCS_PROXY_TOKENS
		gcs_tokens "$_gcs_token" || return 1
		set -- "$@" --require-header-file "$GCS_PROXY_TOKENS"
	fi
	rm -f "$TRASH/gcs-proxy.port"
	"$TEST_DIRECTORY/bin/s3-proxy" "$@" 2>>"$TRASH/gcs-proxy.err" &
	GCS_PROXY_PID=$!
	test_atexit "gcs_kill $GCS_PROXY_PID s3-proxy"
	if ! gcs_wait_up "$GCS_PROXY_PID" test -s "$TRASH/gcs-proxy.port"; then
		peer_missing s3-proxy "it did not start: $(tail -n 1 "$TRASH/gcs-proxy.err")"
		return 1
	fi
	GCS_PROXY_PORT=$(cat "$TRASH/gcs-proxy.port")
	GCS_ENDPOINT="http://127.0.0.1:$GCS_PROXY_PORT"
	GCS_EMULATOR_HOST="127.0.0.1:$GCS_PROXY_PORT"
	export GCS_PROXY_PID GCS_PROXY_PORT GCS_PROXY_LOG GCS_ENDPOINT \
	    GCS_EMULATOR_HOST
	test_set_prereq GCSPROXY
}

# gcs_proxy_stop: stops the proxy; GCS_ENDPOINT is the emulator again.
gcs_proxy_stop() {
	gcs_kill "$GCS_PROXY_PID" s3-proxy
	wait_for eval "! gcs_running $GCS_PROXY_PID" || return 1
	GCS_ENDPOINT=$GCS_EMULATOR_ENDPOINT
	GCS_EMULATOR_HOST="127.0.0.1:$GCS_PORT"
	export GCS_ENDPOINT GCS_EMULATOR_HOST
}

gcs_faults() {
	: "${GCS_FAULTS:?gcs_faults: no proxy started}"
	if [ $# -gt 0 ]; then
		printf '%s\n' "$@" >"$GCS_FAULTS.tmp"
	else
		: >"$GCS_FAULTS.tmp"
	fi &&
	mv -f "$GCS_FAULTS.tmp" "$GCS_FAULTS"
}

gcs_tokens() {
	: "${GCS_PROXY_TOKENS:?gcs_tokens: no proxy started with --token}"
	: >"$GCS_PROXY_TOKENS.tmp" &&
	for _gcs_t; do
		case $_gcs_t in
		''|*[!A-Za-z0-9._~+/=-]*)
			echo "gcs_tokens: a token must be a non-empty token68" >&2
			rm -f "$GCS_PROXY_TOKENS.tmp"
			return 1 ;;
		esac
		printf 'Authorization: Bearer %s\n' "$_gcs_t" \
		    >>"$GCS_PROXY_TOKENS.tmp" || return 1
	done &&
	mv -f "$GCS_PROXY_TOKENS.tmp" "$GCS_PROXY_TOKENS"
}

gcs_client() {
	_gcs_ep=$1; shift
	GCS_ENDPOINT=$_gcs_ep "$TEST_DIRECTORY/bin/gcs-client" "$@"
}

gcs_ls() { gcs_client "$GCS_EMULATOR_ENDPOINT" ls "$1" ${2+"$2"}; }
gcs_cat() { gcs_client "$GCS_EMULATOR_ENDPOINT" cat "$1" "$2"; }
gcs_put() { gcs_client "$GCS_EMULATOR_ENDPOINT" put "$1" "$2" "$3"; }
gcs_rm() { gcs_client "$GCS_EMULATOR_ENDPOINT" rm "$1" "$2"; }
