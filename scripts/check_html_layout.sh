#!/usr/bin/env bash
# Checks what headless Chromium lays out for an HTML report (issue 16: readable charts):
#   - no two labels (<text>) of one SVG chart overlap by more than a pixel each way, and none
#     reaches outside its chart (where the SVG clips it),
#   - every "against the baselines" cell that says LOSES carries the loss marking.
# The measuring script (check_html_layout.js) runs in a temporary copy of the report: the report
# itself stays script-free. With SCREENSHOT.png, also saves a picture of the page for a human look
# (offending labels outlined in red and the first scrolled into view); it is not compared.
# Usage: scripts/check_html_layout.sh REPORT.html [SCREENSHOT.png]
# Exit: 0 pass, 1 fail, 2 usage, 77 chromium not installed (ctest SKIP_RETURN_CODE).
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
  echo "usage: $0 REPORT.html [SCREENSHOT.png]" >&2
  exit 2
fi
report=$1
shot=${2:-}
js="$(dirname "$0")/check_html_layout.js"
if [[ ! -f $report ]]; then
  echo "check_html_layout: $report: no such file" >&2
  exit 1
fi

source "$(dirname "$0")/find_browser.sh"

fail() {
  echo "check_html_layout: $report: $*" >&2
  exit 1
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# After </html> the parser still puts the script in <body>; it runs once the page is parsed.
{ cat "$report"; printf '<script>\n'; cat "$js"; printf '</script>\n'; } >"$work/page.html"

# 1280 wide: the report's 1180 px column, so charts are drawn at their own size. The height only
# bounds the screenshot (the top of a long report, or the first offence scrolled to the middle).
args=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
  --disable-background-networking --disable-component-update --disable-sync
  --user-data-dir="$work/profile" --host-resolver-rules="MAP * ~NOTFOUND"
  --hide-scrollbars --window-size=1280,4000)
[[ -n $shot ]] && args+=(--screenshot="$(realpath -m "$shot")")
status=0
timeout 55 "$browser" "${args[@]}" --dump-dom "file://$work/page.html" \
  >"$work/dom.html" 2>"$work/log.txt" || status=$?
if [[ $status -ne 0 ]]; then
  grep -v -e dbus -e 'unexpected operator' "$work/log.txt" | tail -20 >&2 || true
  fail "$browser exited with status $status"
fi

# The verdict, un-escaped from the serialised DOM.
result=$(sed -n '/<pre id="overlap-result">/,/<\/pre>/p' "$work/dom.html" |
  sed -e 's/.*<pre id="overlap-result">//' -e 's#</pre>.*##' -e '/^$/d' \
    -e 's/&lt;/</g' -e 's/&gt;/>/g' -e 's/&quot;/"/g' -e 's/&nbsp;/ /g' -e 's/&amp;/\&/g')
[[ -n $result ]] || fail "the measuring script left no result (did the page load?)"
shot_note=""
[[ -n $shot ]] && shot_note=" (screenshot: $shot)"
if [[ $result != PASS:* ]]; then
  echo "$result" | tail -n +2 >&2
  fail "${result%%$'\n'*}$shot_note"
fi
echo "check_html_layout: $report: ${result%%$'\n'*}$shot_note"
