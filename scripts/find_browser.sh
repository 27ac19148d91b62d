# Sourced by the browser checks (check_html.sh, check_html_layout.sh): sets $browser to the first
# Chromium on PATH, or exits 77 (ctest SKIP_RETURN_CODE) with a message where there is none.
browser=""
for b in chromium chromium-browser google-chrome; do
  if command -v "$b" >/dev/null 2>&1; then
    browser=$b
    break
  fi
done
if [[ -z $browser ]]; then
  echo "chromium not found: skipping"
  exit 77
fi
