/*
 * Chapter 6's latent explorer, run in the page.
 *
 * The same explorer as the chapter's ipywidgets version: two seeds, the mix
 * and the path (slerp or lerp) give three latent vectors (seed A's, the point
 * at `mix` between them, seed B's), and the shipped generator draws them. The
 * latent vector of a seed is PyTorch's (gankit.random reproduces its CPU
 * generator), the path is gankit.lessons.latent.mix_seeds', and the generator
 * is gankit.pretrained("mnist") exported to ONNX (scripts/export_onnx.py),
 * run by onnxruntime-web (book/_static/vendor/onnxruntime-web/). So the page
 * draws the digits Python draws for the same controls;
 * tests/browser/test_interactive.py compares them.
 *
 * The runtime and the model (about 33 MB of scripts) load when the explorer
 * first comes into view; until then, and wherever they cannot run, the page
 * shows the strip the book was built with and says why.
 */
(function () {
  "use strict";

  const here = document.currentScript ? document.currentScript.src : "";
  const STATIC = here ? new URL("../", here).href : "_static/";
  const PARALLEL = 1e-4; // gankit.lessons.latent._PARALLEL

  // -- the latent path: gankit.lessons.latent.mix_seeds ------------------------
  const norm = (v) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

  function lerp(z0, z1, t) {
    return z0.map((a, i) => (1 - t) * a + t * z1[i]);
  }

  function slerp(z0, z1, t) {
    const n0 = norm(z0);
    const n1 = norm(z1);
    if (n0 === 0 || n1 === 0) throw new Error("slerp needs non-zero vectors");
    const u0 = z0.map((a) => a / n0);
    const u1 = z1.map((a) => a / n1);
    const omega = 2 * Math.atan2(norm(u0.map((a, i) => a - u1[i])), norm(u0.map((a, i) => a + u1[i])));
    if (omega < PARALLEL) return lerp(z0, z1, t);
    if (Math.PI - omega < PARALLEL) throw new Error("the two latent vectors point in opposite directions");
    const w0 = Math.sin((1 - t) * omega) / Math.sin(omega);
    const w1 = Math.sin(t * omega) / Math.sin(omega);
    return z0.map((a, i) => w0 * a + w1 * z1[i]);
  }

  function strip(seedA, seedB, t, mode, zDim) {
    const sampleZ = window.gankit.random.sampleZ;
    const z0 = Array.from(sampleZ(seedA, 1, zDim));
    const z1 = Array.from(sampleZ(seedB, 1, zDim));
    const mid = (mode === "lerp" ? lerp : slerp)(z0, z1, t).map((v) => Math.max(-1, Math.min(1, v)));
    const z = new Float32Array(3 * zDim);
    z.set(z0, 0);
    z.set(mid, zDim);
    z.set(z1, 2 * zDim);
    return z;
  }

  // -- loading: classic scripts only, so that pages opened from disk work ------
  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = src;
      s.onload = resolve;
      s.onerror = () => reject(new Error(`could not load ${src.split("/").pop()}`));
      document.head.appendChild(s);
    });
  }

  function fromBase64(text) {
    const bin = atob(text);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  async function sha256(bytes) {
    let digest;
    if (window.crypto && crypto.subtle) {
      digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    } else {
      digest = window.gankit.sha256(bytes); // pages served over plain http
    }
    return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  let runtime = null; // one onnxruntime session per page, shared by explorers

  function loadRuntime(cfg) {
    if (runtime) return runtime;
    runtime = (async () => {
      if (cfg.unavailable) throw new Error(cfg.unavailable);
      if (typeof WebAssembly !== "object" || typeof WebAssembly.instantiate !== "function") {
        throw new Error("this browser has no WebAssembly");
      }
      await Promise.all([
        loadScript(STATIC + cfg.runtime.module_script),
        loadScript(STATIC + cfg.runtime.wasm_script),
        loadScript(STATIC + cfg.model.script),
      ]);
      const wasm = fromBase64(window.GANKIT_ORT_WASM || "");
      if ((await sha256(wasm)) !== cfg.runtime.wasm_sha256) {
        throw new Error("the WebAssembly runtime failed its checksum");
      }
      const model = fromBase64((window.GANKIT_MODELS || {})[cfg.model.name] || "");
      if (model.length !== cfg.model.bytes || (await sha256(model)) !== cfg.model.sha256) {
        throw new Error("the generator's model file failed its checksum");
      }
      const blob = new Blob([window.GANKIT_ORT_MODULE], { type: "text/javascript" });
      const url = URL.createObjectURL(blob);
      const ort = await import(url);
      URL.revokeObjectURL(url);
      ort.env.wasm.numThreads = 1;
      ort.env.wasm.wasmBinary = wasm;
      const session = await ort.InferenceSession.create(model, { executionProviders: ["wasm"] });
      return { ort, session };
    })();
    return runtime;
  }

  // -- drawing: gankit.pictures.image_grid (padding 2, white), then enlarged --
  function drawGrid(canvas, images, n, size, scale) {
    const pad = 2;
    const W = n * (size + pad) + pad;
    const H = size + 2 * pad;
    canvas.width = W;
    canvas.height = H;
    canvas.style.width = `${W * scale}px`;
    canvas.style.height = `${H * scale}px`;
    const ctx = canvas.getContext("2d");
    const pixels = ctx.createImageData(W, H);
    pixels.data.fill(255);
    for (let k = 0; k < n; k++) {
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          const v = images[k * size * size + y * size + x];
          const g = Math.round(((Math.max(-1, Math.min(1, v)) + 1) / 2) * 255);
          const at = 4 * ((pad + y) * W + pad + k * (size + pad) + x);
          pixels.data[at] = pixels.data[at + 1] = pixels.data[at + 2] = g;
        }
      }
    }
    ctx.putImageData(pixels, 0, 0);
  }

  function message(root, text) {
    const p = document.createElement("p");
    p.className = "gankit-message";
    p.textContent = text;
    root.querySelector(".gankit-status")?.remove();
    const controls = root.querySelector(".gankit-controls");
    if (controls) controls.replaceWith(p);
    else root.prepend(p);
    root.dataset.state = "failed";
  }

  function mount(root) {
    const cfg = JSON.parse(root.dataset.config);
    const built = root.querySelector("img"); // the strip the book was built with
    const { slider } = window.gankit.controls;
    const a = slider("seed A", cfg.seed_a);
    const b = slider("seed B", cfg.seed_b);
    const mix = slider("mix", cfg.mix);
    const path = document.createElement("div");
    path.className = "gankit-toggle";
    path.setAttribute("role", "radiogroup");
    path.setAttribute("aria-label", "path");
    let mode = cfg.mode;
    const buttons = cfg.modes.map((m) => {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = m;
      button.setAttribute("role", "radio");
      button.addEventListener("click", () => {
        mode = m;
        for (const other of buttons) other.setAttribute("aria-checked", String(other === button));
        schedule();
      });
      button.setAttribute("aria-checked", String(m === mode));
      return button;
    });
    const pathLabel = document.createElement("span");
    pathLabel.textContent = "path";
    path.append(pathLabel, ...buttons);
    const controls = document.createElement("div");
    controls.className = "gankit-controls";
    controls.append(a.wrap, b.wrap, mix.wrap, path);
    const status = document.createElement("p");
    status.className = "gankit-status";
    const canvas = document.createElement("canvas");
    canvas.className = "gankit-strip";
    canvas.hidden = true;
    root.replaceChildren(controls, status, ...(built ? [built] : []), canvas);
    status.textContent = "Shown as the book was built; the generator loads when you reach it.";

    let busy = false;
    let again = false;
    const redraw = async () => {
      if (busy) {
        again = true;
        return;
      }
      busy = true;
      try {
        const t0 = performance.now();
        const first = !root.dataset.loadMillis;
        if (first) status.textContent = `Loading the generator (${(cfg.download_bytes / 1e6).toFixed(0)} MB, once)…`;
        const { ort, session } = await loadRuntime(cfg);
        const t1 = performance.now();
        if (first) root.dataset.loadMillis = (t1 - t0).toFixed(0);
        const controlsNow = { seed_a: a.read(), seed_b: b.read(), mix: mix.read(), mode };
        const z = strip(controlsNow.seed_a, controlsNow.seed_b, controlsNow.mix, mode, cfg.z_dim);
        const out = await session.run({ [cfg.model.input]: new ort.Tensor("float32", z, [3, cfg.z_dim]) });
        const images = out[cfg.model.output].data;
        drawGrid(canvas, images, 3, cfg.image_size, cfg.scale);
        canvas.hidden = false;
        if (built) built.hidden = true;
        status.textContent = "Drawn in your browser by the shipped generator.";
        root.dataset.controls = JSON.stringify(controlsNow);
        root.dataset.drawMillis = (performance.now() - t1).toFixed(1);
        root.dataset.state = "ready";
      } catch (err) {
        message(root, `The explorer cannot run in this page: ${err.message}. The strip below is as the book was built; run the notebook (Binder, Colab) to explore.`);
        again = false;
      } finally {
        busy = false;
        if (again) {
          again = false;
          redraw();
        }
      }
    };
    let scheduled = false;
    const schedule = () => {
      if (!scheduled) {
        scheduled = true;
        requestAnimationFrame(() => {
          scheduled = false;
          redraw();
        });
      }
    };
    for (const s of [a, b, mix]) s.input.addEventListener("input", schedule);
    root.dataset.state = "waiting";
    if ("IntersectionObserver" in window) {
      const seen = new IntersectionObserver((entries) => {
        if (entries.some((e) => e.isIntersecting)) {
          seen.disconnect();
          schedule();
        }
      });
      seen.observe(root);
    } else {
      schedule();
    }
  }

  function mountAll() {
    for (const root of document.querySelectorAll(".gankit-explorer:not([data-state])")) {
      try {
        mount(root);
      } catch (err) {
        message(root, `The explorer cannot run in this page: ${err.message}.`);
      }
    }
  }

  window.gankit = Object.assign(window.gankit || {}, { explorer: { strip, lerp, slerp } });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mountAll);
  else mountAll();
})();
