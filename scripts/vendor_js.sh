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
ORT_WEB=1.31.1 # onnxruntime-web: runs the shipped generator in chapter 6's page

root=$(cd "$(dirname "$0")/.." && pwd)
vendor="$root/book/_static/vendor"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cd "$tmp"
npm pack --silent "@jupyter-widgets/html-manager@$HTML_MANAGER" "mathjax@$MATHJAX" \
  "onnxruntime-web@$ORT_WEB" >/dev/null
for tgz in *.tgz; do
  mkdir "${tgz%.tgz}"
  tar xzf "$tgz" -C "${tgz%.tgz}"
done

rm -rf "$vendor"
mkdir -p "$vendor/html-manager" "$vendor/mathjax" "$vendor/onnxruntime-web"

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

# onnxruntime-web's WebAssembly build: the ES module that bundles its loader,
# and the WebAssembly binary. A page opened from disk (file://) may neither
# fetch() a file nor import a module by URL, so both are wrapped in classic
# scripts that set a global (the module as text, imported from a blob: URL;
# the binary in base64); book/_static/inpage/explorer.js reads them and checks
# the binary against the SHA-256 recorded here.
ort="onnxruntime-web-$ORT_WEB/package"
# The npm package carries no LICENSE file (its README links the repository's);
# this is the repository's MIT licence, as the bundle's header names it.
cat >"$vendor/onnxruntime-web/LICENSE" <<'TXT'
MIT License

Copyright (c) Microsoft Corporation

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
TXT
python3 - "$ort/dist" "$vendor/onnxruntime-web" "$ORT_WEB" <<'PY'
import base64, hashlib, json, sys
from pathlib import Path

dist, out, version = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
module = (dist / "ort.wasm.bundle.min.mjs").read_text()
binary = (dist / "ort-wasm-simd-threaded.wasm").read_bytes()
(out / "ort.wasm.bundle.min.mjs.js").write_text(
    f"// onnxruntime-web {version}, dist/ort.wasm.bundle.min.mjs as a string\n"
    f"window.GANKIT_ORT_MODULE = {json.dumps(module)};\n"
)
(out / "ort-wasm-simd-threaded.wasm.js").write_text(
    f"// onnxruntime-web {version}, dist/ort-wasm-simd-threaded.wasm in base64\n"
    f'window.GANKIT_ORT_WASM = "{base64.b64encode(binary).decode()}";\n'
)
(out / "files.json").write_text(
    json.dumps(
        {
            "version": version,
            "module_sha256": hashlib.sha256(module.encode()).hexdigest(),
            "wasm_sha256": hashlib.sha256(binary).hexdigest(),
            "wasm_bytes": len(binary),
        },
        indent=2,
    )
    + "\n"
)
PY

echo "vendored into $vendor:"
du -sh "$vendor"/*
