#!/bin/sh
test_description='C unit tests of common/'
. "$(dirname "$0")/lib.sh"

for u in wal lz4f name restore sigv4; do
	test_expect_success "unit: $u" "
		'$TOP/t/unit/$u' >out &&
		! grep '^not ok' out &&
		grep -q '^1\.\.' out
	"
done
test_done
