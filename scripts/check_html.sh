#!/usr/bin/env bash
# Loads an HTML report in headless Chromium and checks that it renders on its own:
#   - the page loads and the DOM comes back,
#   - nothing is logged to the console (no script errors; a static report should be silent),
#   - nothing outside the file is referenced (src/href other than "#..." or "data:"),
#   - the number of <svg class="chart"> elements equals EXPECTED_CHARTS.
# Usage: scripts/check_html.sh REPORT.html EXPECTED_CHARTS
# Exit: 0 pass, 1 fail, 2 usage, 77 chromium not installed (ctest SKIP_RETURN_CODE).
set -euo pipefail

if [[ $# -ne 2 || ! $2 =~ ^[0-9]+$ ]]; then
  echo "usage: $0 REPORT.html EXPECTED_CHARTS" >&2
  exit 2
fi
report=$1
expected=$2
if [[ ! -f $report ]]; then
  echo "check_html: $report: no such file" >&2
  exit 1
fi

source "$(dirname "$0")/find_browser.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
url="file://$(cd "$(dirname "$report")" && pwd)/$(basename "$report")"

# No network at all: a report that needs one would fail to render what it fetches.
status=0
timeout 90 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$work/profile" --host-resolver-rules="MAP * ~NOTFOUND" \
  --enable-logging=stderr --v=0 --dump-dom "$url" >"$work/dom.html" 2>"$work/log.txt" || status=$?

fail() {
  echo "check_html: $report: $*" >&2
  exit 1
}

if [[ $status -ne 0 ]]; then
  grep -v -e dbus -e 'unexpected operator' "$work/log.txt" | tail -20 >&2 || true
  fail "$browser exited with status $status"
fi
if ! grep -q '</html>' "$work/dom.html" || ! grep -qi '<body' "$work/dom.html"; then
  fail "the page did not load (empty or partial DOM)"
fi

# Console messages come out as: [pid:tid:time:INFO:CONSOLE:line] "message", source: url (line)
if grep -q ':CONSOLE' "$work/log.txt"; then
  grep ':CONSOLE' "$work/log.txt" | sed 's/^\[[^]]*\] /  /' >&2
  fail "console messages while loading (listed above)"
fi

external=$(grep -oiE '(src|href)="[^"#][^"]*"' "$work/dom.html" | grep -viE '="data:' || true)
if [[ -n $external ]]; then
  echo "$external" | sed 's/^/  /' >&2
  fail "references outside the file (listed above); the report must be self-contained"
fi

charts=$(grep -oE '<svg[^>]*[[:space:]]class="([^"]*[[:space:]])?chart([[:space:]][^"]*)?"' \
  "$work/dom.html" | wc -l)
if [[ $charts -ne $expected ]]; then
  fail "found $charts <svg class=\"chart\"> elements, expected $expected (one per problem)"
fi

echo "check_html: $report: loads in $browser, no console messages, self-contained," \
  "$charts chart(s) as expected"
