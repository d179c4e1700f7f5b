#!/usr/bin/env bash
# Headless-browser check of the built documentation site: Chromium renders the index, one API
# page and one gallery page to PNG screenshots; tools/check_site.py then checks that each
# screenshot is not blank and that the gallery page shows its figure (an <img> whose generated
# PNG exists and is not blank). Skips (exit 0) when Chromium is not installed.
#   usage: tools/check_site.sh [HTML_DIR]   (default docs/_build/html; build it first with
#          python -m sphinx -W -b html docs docs/_build/html)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
html="${1:-$root/docs/_build/html}"
html="$(cd "$html" 2>/dev/null && pwd)" || { echo "check_site: no site at ${1:-docs/_build/html}: build it first"; exit 1; }

browser=""
for b in chromium chromium-browser google-chrome; do
  if command -v "$b" >/dev/null 2>&1; then browser="$b"; break; fi
done
if [ -z "$browser" ]; then
  echo "check_site: skipped (no chromium; on Debian: apt-get install chromium)"
  exit 0
fi

out="$root/docs/_build/screenshots"
mkdir -p "$out"
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT

pages=(
  "index.html"
  "api/generated/nncore.Sequential.html"
  "auto_examples/plot_05_xor.html"
)
for page in "${pages[@]}"; do
  [ -f "$html/$page" ] || { echo "check_site: $page is missing from $html"; exit 1; }
  png="$out/$(echo "$page" | tr '/' '_' | sed 's/\.html$/.png/')"
  rm -f "$png"
  # --no-sandbox: CI containers run as root, where Chromium's sandbox cannot start.
  timeout 120 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --user-data-dir="$profile" --window-size=1280,2400 --virtual-time-budget=5000 \
    --screenshot="$png" "file://$html/$page" >/dev/null 2>&1 || true
  [ -s "$png" ] || { echo "check_site: $browser wrote no screenshot for $page"; exit 1; }
done

python3 "$root/tools/check_site.py" "$html" "$out" "${pages[@]}"
