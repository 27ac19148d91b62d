#!/usr/bin/env bash
# Shows that scripts/check_html_layout.sh fails where it should: breaks a good report on purpose
# and expects exit 1 with the matching complaint.
#   overlap REPORT CHECK OUT  moves the first bar chart's first row label onto the second's
#   loss    REPORT CHECK OUT  drops the marking of the first "LOSES" cell
# Exit: 0 the check caught it, 1 it did not (or the report could not be broken), 77 no chromium.
set -uo pipefail

if [[ $# -ne 4 ]]; then
  echo "usage: $0 overlap|loss REPORT.html CHECK OUT.html" >&2
  exit 2
fi
mode=$1 report=$2 check=$3 out=$4

case $mode in
  overlap)
    # Row labels of the first bar chart: right-aligned at one x, one row (24 px) apart. Their
    # first occurrence in the file is that chart's (other charts align labels elsewhere).
    mapfile -t labels < <(sed -n '/<svg class="chart"/,$p' "$report" |
      grep -oE '<text x="[0-9.]+" y="[0-9.]+" text-anchor="end"' | head -2)
    if [[ ${#labels[@]} -ne 2 ]]; then
      echo "no two bar-chart row labels in $report" >&2
      exit 1
    fi
    to=${labels[1]}
    sed "0,/${labels[0]}/s//${to}/" "$report" >"$out"
    expect='overlap in chart of'
    ;;
  loss)
    sed '0,/<td class="bad">LOSES/s//<td>LOSES/' "$report" >"$out"
    expect='loss not marked'
    ;;
  *)
    echo "unknown mode $mode" >&2
    exit 2
    ;;
esac
if cmp -s "$report" "$out"; then
  echo "the $mode edit did not apply to $report" >&2
  exit 1
fi

log=$(bash "$check" "$out" "${out%.html}.png" 2>&1)
rc=$?
echo "$log"
[[ $rc -eq 77 ]] && exit 77
if [[ $rc -ne 1 ]] || ! grep -q "$expect" <<<"$log"; then
  echo "expected the check to fail (exit 1) saying \"$expect\"; it exited $rc" >&2
  exit 1
fi
echo "caught: the check fails on $out as it should"
