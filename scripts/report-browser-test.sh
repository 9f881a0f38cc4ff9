#!/usr/bin/env bash
# The HTML page of 'vmsim report' in a real headless browser: it loads without console
# errors, its tables sort (the page's own self-test, run by the fragment #selftest, writes
# "selftest: ok" into the page, which --dump-dom shows) and its figures are inline SVG.
#
# Chromium comes from Debian's packages: where it is absent, the script installs it in CI
# (CI=true) as root with a working apt-get, and otherwise skips with a message (exit 0).
# Usage: scripts/report-browser-test.sh (from anywhere in the clone). About 10 s, plus a
# minute or two to install Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

skip() {
	echo "skipping scripts/report-browser-test.sh: $*" >&2
	exit 0
}

find_browser() {
	local b
	for b in chromium chromium-browser google-chrome; do
		if command -v "$b" >/dev/null; then
			command -v "$b"
			return 0
		fi
	done
	return 1
}

if ! browser=$(find_browser); then
	if [ "${CI:-}" = true ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "installing chromium from Debian's packages" >&2
		if ! { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium >/dev/null; }; then
			skip "Chromium could not be installed (apt-get install chromium failed)"
		fi
		browser=$(find_browser) || skip "Chromium installed, but no chromium on PATH"
	else
		skip "no Chromium on PATH; it is installed only in CI (CI=true) as root with apt-get (apt-get install chromium)"
	fi
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/vmsim" ./cmd/vmsim
"$tmp/vmsim" sweep --trace corpus:sort --trace corpus:gzip --set scheme=dualmap,none \
	--set interval=1000,100000 --base initial=zero --csv "$tmp/sweep.csv" 2>/dev/null
"$tmp/vmsim" report "$tmp/sweep.csv" -o "$tmp/report.html"

# --no-sandbox: Chromium refuses to run as root with its sandbox. The virtual time budget
# lets the page's script run before the DOM is dumped.
if ! timeout 120 "$browser" --headless --no-sandbox --disable-gpu --no-first-run \
	--user-data-dir="$tmp/profile" --enable-logging=stderr --v=0 \
	--virtual-time-budget=5000 --dump-dom "file://$tmp/report.html#selftest" \
	>"$tmp/dom.html" 2>"$tmp/browser.log"; then
	cat "$tmp/browser.log" >&2
	echo "FAIL: $browser did not load the report" >&2
	exit 1
fi

fail=0
# The page logs nothing: any console message (an uncaught error among them) is a failure.
if grep -E ':CONSOLE[(:]|Uncaught' "$tmp/browser.log" >&2; then
	echo "FAIL: console messages above" >&2
	fail=1
fi
# The result element, not the script's text of it.
result=$(grep -o '<p id="selftest-result">[^<]*' "$tmp/dom.html" | sed 's/.*>//' || true)
if [[ "$result" != "selftest: ok"* ]]; then
	echo "the page's self-test wrote: ${result:-nothing}" >&2
	echo "FAIL: the page's self-test (sorting a table) did not report ok" >&2
	fail=1
fi
figures=$(grep -o '<svg' "$tmp/dom.html" | wc -l)
if [ "$figures" -lt 1 ]; then
	echo "FAIL: no inline SVG figure in the page" >&2
	fail=1
fi
if [ "$fail" = 0 ]; then
	echo "report-browser-test: ok: $result; $figures svg elements" >&2
fi
exit "$fail"
