#!/usr/bin/env bash
# Copy the JavaScript the book's pages need into book/_static/vendor/, so that
# saved widgets and math render without reaching a CDN (readers may be offline).
#
#     bash scripts/vendor_js.sh
#
# Needs npm and the npm registry. Bump a version here, run the script, rebuild
# the book and update book/_static/README.md.
set -euo pipefail

HTML_MANAGER=1.0.15 # @jupyter-widgets/html-manager for ipywidgets 8
MATHJAX=3.2.2

root=$(cd "$(dirname "$0")/.." && pwd)
vendor="$root/book/_static/vendor"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cd "$tmp"
npm pack --silent "@jupyter-widgets/html-manager@$HTML_MANAGER" "mathjax@$MATHJAX" >/dev/null
for tgz in *.tgz; do
  mkdir "${tgz%.tgz}"
  tar xzf "$tgz" -C "${tgz%.tgz}"
done

rm -rf "$vendor"
mkdir -p "$vendor/html-manager" "$vendor/mathjax"

# The standalone widget manager (embed.js: the standard controls built in, no
# RequireJS needed) and the icon fonts its CSS asks for (browsers take woff2,
# else woff); it finds them next to itself.
hm="jupyter-widgets-html-manager-$HTML_MANAGER/package/dist"
cp "$hm/embed.js" "$hm/embed.js.LICENSE.txt" "$vendor/html-manager/"
cp "$hm"/*.woff2 "$hm"/*.woff "$vendor/html-manager/"

# MathJax 3 (the build Sphinx uses by default), the TeX extensions it may
# autoload and its CommonHTML fonts.
mj="mathjax-$MATHJAX/package"
cp "$mj/LICENSE" "$mj/es5/tex-mml-chtml.js" "$vendor/mathjax/"
mkdir -p "$vendor/mathjax/input/tex" "$vendor/mathjax/output/chtml/fonts"
cp -r "$mj/es5/input/tex/extensions" "$vendor/mathjax/input/tex/"
cp -r "$mj/es5/output/chtml/fonts/woff-v2" "$vendor/mathjax/output/chtml/fonts/"

echo "vendored into $vendor:"
du -sh "$vendor"/*
