#!/usr/bin/env bash
# Headless-browser check of the built documentation site, as a reader at 1280 px sees it:
# Chromium renders each page to a PNG screenshot and, in a copy of the site with
# tools/check_site_probe.js injected, measures the page after its math has rendered (horizontal
# scrollbar, clipped titles and code, raw TeX, control characters); tools/check_site.py then
# judges the screenshots, the measurements and every gallery figure's axes (empty panels).
# Skips (exit 0) when Chromium is not installed, unless CHECK_SITE_REQUIRED=1.
#   usage: tools/check_site.sh [HTML_DIR [SCREENSHOT_DIR [PAGE...]]]
#          (default docs/_build/html, docs/_build/screenshots, the pages below and every
#          gallery page; build the site first: python -m sphinx -W -b html docs docs/_build/html)
#   tools/check_site.py --selftest builds a small site with planted faults and shows that each
#   one fails this check.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
html="${1:-$root/docs/_build/html}"
html="$(cd "$html" 2>/dev/null && pwd)" || { echo "check_site: no site at ${1:-docs/_build/html}: build it first"; exit 1; }
out="${2:-$root/docs/_build/screenshots}"
shift $(( $# > 2 ? 2 : $# ))

browser=""
for b in chromium chromium-browser google-chrome; do
  if command -v "$b" >/dev/null 2>&1; then browser="$b"; break; fi
done
if [ -z "$browser" ]; then
  echo "check_site: skipped (no chromium; on Debian: apt-get install chromium)"
  [ "${CHECK_SITE_REQUIRED:-0}" = 1 ] && exit 1
  exit 0
fi

if [ $# -gt 0 ]; then
  pages=("$@")
else
  pages=(
    "index.html"
    "quickstart.html"
    "guide/install.html"
    "guide/performance.html"
    "cli.html"
    "faq.html"
    "changelog.html"
    "api/generated/nncore.Sequential.html"
    "api/generated/nncore.sklearn.MLPClassifier.html"
  )
  for g in "$html"/auto_examples/plot_*.html; do
    [ -f "$g" ] && pages+=("auto_examples/$(basename "$g")")
  done
fi

mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The probe runs in a copy of the site, so the built site is left as it is.
cp -r "$html" "$work/site"
probe="$(cat "$root/tools/check_site_probe.js")"

run_browser() {  # run_browser <extra args...> URL
  # --no-sandbox: CI containers run as root, where Chromium's sandbox cannot start.
  timeout 120 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --user-data-dir="$work/profile" --window-size=1280,2400 --virtual-time-budget=8000 "$@" \
    2>/dev/null || true
}

for page in "${pages[@]}"; do
  [ -f "$html/$page" ] || { echo "check_site: $page is missing from $html"; exit 1; }
  name="$(echo "$page" | tr '/' '_' | sed 's/\.html$//')"
  rm -f "$out/$name.png"
  run_browser --screenshot="$out/$name.png" "file://$html/$page" >/dev/null
  [ -s "$out/$name.png" ] || { echo "check_site: $browser wrote no screenshot for $page"; exit 1; }
  PROBE="$probe" python3 - "$work/site/$page" <<'EOF'
import os, sys
path = sys.argv[1]
text = open(path, encoding="utf-8").read()
script = "<script>" + os.environ["PROBE"] + "</script>"
open(path, "w", encoding="utf-8").write(text.replace("</body>", script + "</body>", 1))
EOF
  run_browser --dump-dom "file://$work/site/$page" > "$out/$name.dom.html"
done

python3 "$root/tools/check_site.py" "$html" "$out" "${pages[@]}"
