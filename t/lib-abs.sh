# t/lib-abs.sh: the Azure Blob Storage peer for tests, sourced after
# t/lib.sh. It starts Azurite's blob service (t/peers/azurite) on 127.0.0.1,
# and optionally t/bin/s3-proxy in front of it, and stops both when the
# script ends. Requests are made with t/bin/abs-client (Shared Key).
#
#   abs_setup [--https] [--oauth]
#                            start Azurite; sets the ABS prereq. --https
#                            serves a self-signed certificate for 127.0.0.1
#                            made here; --oauth (implies --https) also takes
#                            bearer tokens ("--oauth basic": any unexpired
#                            token of the right audience and issuer, its
#                            signature unchecked, see abs-client token) and
#                            sets the ABS_OAUTH prereq too. Call it outside
#                            any test; a second call starts another Azurite
#                            and the variables then describe that one.
#   abs_proxy_start [--faults FILE]
#                            start s3-proxy in front of Azurite (over HTTPS
#                            if Azurite serves HTTPS; the proxy listens in
#                            plain HTTP) with the fault rules in FILE
#                            (default $TRASH/abs-proxy.faults; missing or
#                            empty: no faults); ABS_ENDPOINT then points at
#                            it; sets the ABSPROXY prereq. Outside any test.
#                            A rule's GLOB (see t/bin/s3-proxy) matches
#                            CONTAINER/BLOB; one starting with / matches the
#                            whole path, /devstoreaccount1/CONTAINER/BLOB.
#   abs_faults [RULE...]     replace the rules in $ABS_FAULTS, one a line
#                            (none: no faults), atomically.
#   abs_proxy_stop, abs_stop stop the proxy, or Azurite, before the end.
#   abs_container NAME       create the container NAME.
#   abs_ls CONTAINER [PREFIX]
#                            print the blob names under PREFIX, one a line.
#   abs_cat CONTAINER BLOB   write the blob to stdout.
#   abs_put CONTAINER BLOB FILE
#                            store FILE as the blob.
#   abs_rm CONTAINER BLOB    delete the blob.
#   abs_client ENDPOINT OP ARG...
#                            t/bin/abs-client OP ARG... against ENDPOINT; the
#                            ones above go to Azurite directly, past the
#                            proxy and its faults.
#   abs_token [SECONDS]      print a bearer token --oauth accepts.
#   abs_running PID          the process runs (and is not a zombie).
#
# Variables (exported): AZURITE (the azurite-blob command), AZURITE_DIR
# (its --location), AZURITE_PID, AZURITE_ENDPOINT (Azurite itself,
# http[s]://127.0.0.1:PORT/devstoreaccount1), ABS_PORT, ABS_ENDPOINT (the
# proxy once started, else Azurite), ABS_ACCOUNT, ABS_KEY, and with --https
# ABS_CERT (the PEM file a client must trust: the certificate itself); after
# abs_proxy_start also ABS_PROXY_PORT, ABS_PROXY_PID, ABS_PROXY_LOG (one
# line per request, see t/bin/s3-proxy) and ABS_FAULTS (the rules file).
# Logs: $TRASH/azurite.log (the access log), $TRASH/azurite.debug
# (Azurite's debug log: its string to sign for every Shared Key request),
# $TRASH/abs-proxy.err.

ABS_ACCOUNT=devstoreaccount1
ABS_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
export ABS_ACCOUNT ABS_KEY

# abs_free_port: prints a TCP port that was free on 127.0.0.1 just now.
abs_free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# abs_kill PID WORD: SIGKILL to PID if it is still a process whose command
# line holds WORD (so a recycled pid is left alone).
abs_kill() {
	if tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q -- "$2"; then
		kill -9 "$1" 2>/dev/null
	fi
	return 0
}

# abs_running PID: the process exists and is not a zombie. (The stat file
# is read once: a zombie can be reaped at any moment.)
abs_running() {
	_abs_st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	case ${_abs_st##*\) } in
	Z*|'') return 1 ;;
	esac
	return 0
}

# abs_wait_up PID CMD...: retry CMD every 0.05 s, at most 600 times (30 s
# and more on a loaded machine), while PID runs. Fails as soon as PID is
# gone.
abs_wait_up() {
	_abs_pid=$1; shift
	_abs_i=0
	while [ $_abs_i -lt 600 ]; do
		abs_running "$_abs_pid" || return 1
		"$@" >/dev/null 2>&1 && return 0
		_abs_i=$((_abs_i + 1))
		sleep 0.05
	done
	return 1
}

# abs_answers URL [CURL-ARG...]: some HTTP server answers at URL.
abs_answers() {
	_abs_url=$1; shift
	curl -s -o /dev/null --max-time 2 "$@" "$_abs_url"
}

abs_setup() {
	_abs_https=
	_abs_oauth=
	while [ $# -gt 0 ]; do
		case $1 in
		--https) _abs_https=1 ;;
		--oauth) _abs_https=1 _abs_oauth=1 ;;
		*) echo "abs_setup: unknown option '$1'" >&2; return 1 ;;
		esac
		shift
	done
	for _c in curl python3 ${_abs_https:+openssl}; do
		if ! command -v "$_c" >/dev/null 2>&1; then
			peer_missing azurite "$_c not found"
			return 1
		fi
	done
	if ! AZURITE=$("$TEST_DIRECTORY/peers/azurite" 2>"$TRASH/.peer-err"); then
		peer_missing azurite "$(tail -n 1 "$TRASH/.peer-err")"
		return 1
	fi
	AZURITE_DIR=$(mktemp -d "$TRASH/azurite.XXXXXX") || return 1
	set -- --blobHost 127.0.0.1 --location "$AZURITE_DIR" \
	    --disableTelemetry --debug "$TRASH/azurite.debug"
	_abs_scheme=http
	unset ABS_CERT
	if [ -n "$_abs_https" ]; then
		_abs_scheme=https
		ABS_CERT="$AZURITE_DIR.cert.pem"
		if ! openssl req -x509 -newkey rsa:2048 -nodes \
		    -keyout "$AZURITE_DIR.key.pem" -out "$ABS_CERT" -days 1 \
		    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
		    >"$TRASH/.peer-err" 2>&1; then
			peer_missing azurite "openssl req: $(tail -n 1 "$TRASH/.peer-err")"
			return 1
		fi
		export ABS_CERT
		set -- "$@" --cert "$ABS_CERT" --key "$AZURITE_DIR.key.pem"
	fi
	[ -z "$_abs_oauth" ] || set -- "$@" --oauth basic
	# A port picked free can be taken before Azurite binds it: try again.
	_abs_try=0
	while [ $_abs_try -lt 5 ]; do
		_abs_try=$((_abs_try + 1))
		ABS_PORT=$(abs_free_port) || break
		AZURITE_ENDPOINT="$_abs_scheme://127.0.0.1:$ABS_PORT/$ABS_ACCOUNT"
		"$AZURITE" "$@" --blobPort "$ABS_PORT" \
		    >>"$TRASH/azurite.log" 2>&1 </dev/null &
		AZURITE_PID=$!
		test_atexit "abs_kill $AZURITE_PID azurite"
		if abs_wait_up "$AZURITE_PID" abs_answers \
		    "$AZURITE_ENDPOINT?comp=list" ${ABS_CERT:+--cacert "$ABS_CERT"}
		then
			ABS_ENDPOINT=$AZURITE_ENDPOINT
			export AZURITE AZURITE_DIR AZURITE_PID AZURITE_ENDPOINT \
			    ABS_PORT ABS_ENDPOINT
			test_set_prereq ABS
			[ -z "$_abs_oauth" ] || test_set_prereq ABS_OAUTH
			return 0
		fi
		abs_kill $AZURITE_PID azurite
	done
	peer_missing azurite "it did not start: $(tail -n 1 "$TRASH/azurite.log")"
	return 1
}

# abs_stop: SIGTERM to Azurite; waits at most 10 s for it to exit.
abs_stop() {
	kill -TERM "$AZURITE_PID" 2>/dev/null
	wait_for eval "! abs_running $AZURITE_PID"
}

abs_proxy_start() {
	_abs_faults=''
	while [ $# -gt 0 ]; do
		case $1 in
		--faults) _abs_faults=$2; shift ;;
		*) echo "abs_proxy_start: unknown option '$1'" >&2; return 1 ;;
		esac
		shift
	done
	test_have_prereq ABS || return 1
	case $AZURITE_ENDPOINT in
	https:*)
		set -- --upstream "https://127.0.0.1:$ABS_PORT" \
		    --upstream-ca "$ABS_CERT" ;;
	*)
		set -- --upstream "http://127.0.0.1:$ABS_PORT" ;;
	esac
	ABS_PROXY_LOG="$TRASH/abs-proxy.log"
	set -- "$@" --port-file "$TRASH/abs-proxy.port" --log "$ABS_PROXY_LOG"
	case $_abs_faults in
	'') ABS_FAULTS="$TRASH/abs-proxy.faults" ;;
	/*) ABS_FAULTS=$_abs_faults ;;
	*) ABS_FAULTS="$PWD/$_abs_faults" ;;
	esac
	export ABS_FAULTS
	set -- "$@" --faults "$ABS_FAULTS"
	rm -f "$TRASH/abs-proxy.port"
	"$TEST_DIRECTORY/bin/s3-proxy" "$@" 2>>"$TRASH/abs-proxy.err" &
	ABS_PROXY_PID=$!
	test_atexit "abs_kill $ABS_PROXY_PID s3-proxy"
	if ! abs_wait_up "$ABS_PROXY_PID" test -s "$TRASH/abs-proxy.port"; then
		peer_missing s3-proxy "it did not start: $(tail -n 1 "$TRASH/abs-proxy.err")"
		return 1
	fi
	ABS_PROXY_PORT=$(cat "$TRASH/abs-proxy.port")
	ABS_ENDPOINT="http://127.0.0.1:$ABS_PROXY_PORT/$ABS_ACCOUNT"
	export ABS_PROXY_PID ABS_PROXY_PORT ABS_PROXY_LOG ABS_ENDPOINT
	test_set_prereq ABSPROXY
}

# abs_proxy_stop: stops the proxy; ABS_ENDPOINT is Azurite again.
abs_proxy_stop() {
	abs_kill "$ABS_PROXY_PID" s3-proxy
	wait_for eval "! abs_running $ABS_PROXY_PID" || return 1
	ABS_ENDPOINT=$AZURITE_ENDPOINT
	export ABS_ENDPOINT
}

abs_faults() {
	: "${ABS_FAULTS:?abs_faults: no proxy started}"
	if [ $# -gt 0 ]; then
		printf '%s\n' "$@" >"$ABS_FAULTS.tmp"
	else
		: >"$ABS_FAULTS.tmp"
	fi &&
	mv -f "$ABS_FAULTS.tmp" "$ABS_FAULTS"
}

abs_client() {
	_abs_ep=$1; shift
	ABS_ENDPOINT=$_abs_ep "$TEST_DIRECTORY/bin/abs-client" "$@"
}

abs_container() { abs_client "$AZURITE_ENDPOINT" mkcontainer "$1"; }
abs_ls() { abs_client "$AZURITE_ENDPOINT" ls "$1" ${2+"$2"}; }
abs_cat() { abs_client "$AZURITE_ENDPOINT" cat "$1" "$2"; }
abs_put() { abs_client "$AZURITE_ENDPOINT" put "$1" "$2" "$3"; }
abs_rm() { abs_client "$AZURITE_ENDPOINT" rm "$1" "$2"; }
abs_token() { "$TEST_DIRECTORY/bin/abs-client" token ${1+"$1"}; }
