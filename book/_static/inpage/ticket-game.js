/*
 * Chapter 1's ticket game, played in the page.
 *
 * The same game as gankit.lessons.warmup.play_round, computed here when the
 * reader moves a slider: a fresh door (a 1-16-1 tanh network, PyTorch's
 * default initialisation from the same seed) is trained with Adam for the
 * same steps on the same random numbers (gankit.random reproduces PyTorch's
 * CPU generator), then the forged tickets go to the door and the gradient of
 * the non-saturating generator loss comes back as advice. The figures match
 * Python's to float precision; tests/browser/test_interactive.py checks them.
 *
 * The cell's output holds <div class="gankit-ticket-game" data-config="...">
 * (written by gankit.lessons.inpage.ticket_game_html); in a live kernel the
 * notebook shows the ipywidgets version instead and this file is not used.
 */
(function () {
  "use strict";

  const SVG = "http://www.w3.org/2000/svg";
  const f32 = Math.fround;

  // -- the door: Linear(1, H) -> tanh -> Linear(H, 1), weights as in PyTorch --
  function newDoor(hidden, seed) {
    const gen = new window.gankit.random.TorchGenerator(seed);
    // nn.Linear's reset_parameters: kaiming_uniform_(a=sqrt(5)) on the weight,
    // then uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) on the bias.
    const uniform = (n, fanIn, kaiming) => {
      const gain = Math.sqrt(2 / (1 + 5));
      const bound = kaiming ? (Math.sqrt(3) * gain) / Math.sqrt(fanIn) : 1 / Math.sqrt(fanIn);
      const lo = f32(-bound);
      const width = f32(f32(bound) - lo);
      return Array.from(gen.rand(n), (x) => f32(f32(x * width) + lo));
    };
    return {
      w1: uniform(hidden, 1, true),
      b1: uniform(hidden, 1, false),
      w2: uniform(hidden, hidden, true),
      b2: uniform(1, hidden, false),
    };
  }

  // Logits of the door for tickets x, keeping the hidden activations.
  function forward(door, x) {
    const H = door.w1.length;
    const h = new Float64Array(x.length * H);
    const logits = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) {
      let s = door.b2[0];
      for (let k = 0; k < H; k++) {
        const v = Math.tanh(door.w1[k] * x[i] + door.b1[k]);
        h[i * H + k] = v;
        s += door.w2[k] * v;
      }
      logits[i] = s;
    }
    return { h, logits };
  }

  const sigmoid = (x) => 1 / (1 + Math.exp(-x));
  const softplus = (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

  // Add to grads the gradient of sum_i dLoss[i] * logit_i over the door's weights.
  function backward(door, x, pass, dLogit, grads) {
    const H = door.w1.length;
    for (let i = 0; i < x.length; i++) {
      const g = dLogit[i];
      grads.b2[0] += g;
      for (let k = 0; k < H; k++) {
        const v = pass.h[i * H + k];
        grads.w2[k] += g * v;
        const da = g * door.w2[k] * (1 - v * v);
        grads.w1[k] += da * x[i];
        grads.b1[k] += da;
      }
    }
  }

  // torch.optim.Adam's update (no weight decay), in place on door's arrays.
  function adam(lr, betas, eps) {
    const state = {};
    let t = 0;
    return (door, grads) => {
      t += 1;
      const [b1, b2] = betas;
      const c1 = 1 - b1 ** t;
      const c2 = Math.sqrt(1 - b2 ** t);
      for (const name of Object.keys(grads)) {
        const p = door[name];
        const g = grads[name];
        const s = (state[name] ||= { m: new Float64Array(p.length), v: new Float64Array(p.length) });
        for (let j = 0; j < p.length; j++) {
          s.m[j] = b1 * s.m[j] + (1 - b1) * g[j];
          s.v[j] = b2 * s.v[j] + (1 - b2) * g[j] * g[j];
          p[j] -= (lr / c1) * (s.m[j] / (Math.sqrt(s.v[j]) / c2 + eps));
        }
      }
    };
  }

  const zeros = (door) => ({
    w1: new Float64Array(door.w1.length),
    b1: new Float64Array(door.b1.length),
    w2: new Float64Array(door.w2.length),
    b2: new Float64Array(1),
  });

  // Forger(mean, std): tickets mean + std * z, in float32 as PyTorch computes them.
  function forger(mean, std) {
    const m = f32(mean);
    const s = f32(Math.exp(f32(Math.log(std))));
    return { mean: m, std: s, tickets: (z) => Float64Array.from(z, (v) => f32(m + f32(s * v))) };
  }

  // gankit.lessons.warmup.fit_door: the door trained against this forgery.
  function fitDoor(forged, real, cfg) {
    const door = newDoor(cfg.hidden, cfg.seed);
    const step = adam(cfg.lr, cfg.betas, 1e-8);
    const noise = new window.gankit.random.TorchGenerator(cfg.seed + 1);
    const B = cfg.batch_size;
    for (let it = 0; it < cfg.steps; it++) {
      const fake = forged.tickets(noise.randn(B)); // z first, as fit_door draws it
      const realX = Float64Array.from(noise.randn(B), (v) => f32(real.mean + f32(real.std * v)));
      const grads = zeros(door);
      const pr = forward(door, realX);
      const pf = forward(door, fake);
      // d/dlogit of the mean BCE: real against 1, forged against 0
      backward(door, realX, pr, pr.logits.map((l) => (sigmoid(l) - 1) / B), grads);
      backward(door, fake, pf, pf.logits.map((l) => sigmoid(l) / B), grads);
      step(door, grads);
    }
    return door;
  }

  // gankit.lessons.warmup.try_the_door: verdict, loss and the forger's gradient.
  function tryTheDoor(forged, door, n, seed) {
    const z = new window.gankit.random.TorchGenerator(seed).randn(n);
    const x = forged.tickets(z);
    const { h, logits } = forward(door, x);
    const H = door.w1.length;
    let pReal = 0;
    let loss = 0;
    let gradMean = 0;
    let gradLogStd = 0;
    for (let i = 0; i < n; i++) {
      pReal += sigmoid(logits[i]);
      loss += softplus(-logits[i]);
      let dx = 0; // d logit / d ticket
      for (let k = 0; k < H; k++) {
        const v = h[i * H + k];
        dx += door.w2[k] * (1 - v * v) * door.w1[k];
      }
      const g = ((sigmoid(logits[i]) - 1) / n) * dx; // d loss / d ticket
      gradMean += g;
      gradLogStd += g * forged.std * z[i];
    }
    return {
      p_real: pReal / n,
      g_loss: loss / n,
      grad_mean: gradMean,
      grad_std: gradLogStd / forged.std,
    };
  }

  // DoorReport.advice
  function advice(report, tolerance) {
    const say = (grad, up, down, what) => {
      const size = Math.abs(grad).toFixed(2);
      if (Math.abs(grad) < tolerance) return `keep the ${what} (${size})`;
      return `${grad < 0 ? up : down} (${size})`;
    };
    const mean = say(report.grad_mean, "move the mean right", "move the mean left", "mean");
    const std = say(report.grad_std, "widen the spread", "narrow the spread", "spread");
    return `${mean}, ${std}`;
  }

  function playRound(mean, std, cfg) {
    const forged = forger(mean, std);
    const door = fitDoor(forged, cfg.real, cfg.door);
    const report = tryTheDoor(forged, door, cfg.report.n, cfg.report.seed);
    return { report, door, forged };
  }

  // -- the picture: densities, the door's verdict and the feedback arrow --------
  const density = (x, m, s) => Math.exp(-0.5 * ((x - m) / s) ** 2) / (s * Math.sqrt(2 * Math.PI));

  function el(name, attrs, parent) {
    const node = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (parent) parent.appendChild(node);
    return node;
  }

  function draw(svg, cfg, mean, std, played) {
    const W = 600;
    const Hh = 300;
    const pad = { l: 56, r: 56, t: 16, b: 44 };
    const { lo, hi, n } = cfg.grid;
    const xs = Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
    const real = xs.map((x) => density(x, cfg.real.mean, cfg.real.std));
    const fake = xs.map((x) => density(x, played.forged.mean, played.forged.std));
    const verdict = Array.from(forward(played.door, xs).logits, sigmoid);
    const peak = Math.max(...real, ...fake);
    const top = 1.25 * peak;
    const X = (x) => pad.l + ((x - lo) / (hi - lo)) * (W - pad.l - pad.r);
    const Y = (y) => Hh - pad.b - (y / top) * (Hh - pad.t - pad.b);
    const Yd = (p) => Hh - pad.b - p * (Hh - pad.t - pad.b);
    const path = (ys, y) => xs.map((x, i) => `${i ? "L" : "M"}${X(x).toFixed(1)},${y(ys[i]).toFixed(1)}`).join("");
    svg.replaceChildren();
    svg.setAttribute("viewBox", `0 0 ${W} ${Hh}`);
    el("path", { d: `${path(real, Y)}L${X(hi)},${Y(0)}L${X(lo)},${Y(0)}Z`, class: "real" }, svg);
    el("path", { d: path(fake, Y), class: "forged" }, svg);
    el("path", { d: path(verdict, Yd), class: "door" }, svg);
    el("line", { x1: X(lo), x2: X(hi), y1: Yd(0.5), y2: Yd(0.5), class: "half" }, svg);
    // the feedback on the mean, as in plot_tickets
    const shift = Math.max(-2, Math.min(2, -0.5 * played.report.grad_mean));
    const height = 1.1 * Math.max(...fake);
    el("line", { x1: X(mean), x2: X(mean + shift), y1: Y(height), y2: Y(height), class: "arrow", "marker-end": "url(#gankit-arrowhead)" }, svg);
    const defs = el("defs", {}, svg);
    const marker = el("marker", { id: "gankit-arrowhead", markerWidth: 8, markerHeight: 8, refX: 6, refY: 4, orient: "auto" }, defs);
    el("path", { d: "M0,0L8,4L0,8Z", class: "arrowhead" }, marker);
    // axes, ticks and labels
    el("line", { x1: pad.l, x2: W - pad.r, y1: Hh - pad.b, y2: Hh - pad.b, class: "axis" }, svg);
    el("line", { x1: pad.l, x2: pad.l, y1: pad.t, y2: Hh - pad.b, class: "axis" }, svg);
    el("line", { x1: W - pad.r, x2: W - pad.r, y1: pad.t, y2: Hh - pad.b, class: "axis" }, svg);
    const text = (x, y, s, anchor, cls) => {
      const t = el("text", { x, y, "text-anchor": anchor, class: cls || "" }, svg);
      t.textContent = s;
    };
    for (let v = Math.ceil(lo); v <= hi; v++) text(X(v), Hh - pad.b + 16, String(v), "middle");
    for (const p of [0, 0.5, 1]) text(W - pad.r + 6, Yd(p) + 4, String(p), "start");
    for (const f of [0, 0.5, 1]) text(pad.l - 6, Y(f * top * 0.8) + 4, (f * top * 0.8).toFixed(2), "end");
    text((pad.l + W - pad.r) / 2, Hh - 6, "ticket shade x", "middle");
    const ylab = el("text", { x: 14, y: Hh / 2, "text-anchor": "middle", transform: `rotate(-90 14 ${Hh / 2})` }, svg);
    ylab.textContent = "density";
    const dlab = el("text", { x: W - 12, y: Hh / 2, "text-anchor": "middle", transform: `rotate(90 ${W - 12} ${Hh / 2})` }, svg);
    dlab.textContent = "D(x): P(real)";
  }

  function mount(root) {
    const cfg = JSON.parse(root.dataset.config);
    const { slider } = window.gankit.controls;
    const mean = slider("mean", cfg.mean);
    const std = slider("spread", cfg.std);
    const controls = document.createElement("div");
    controls.className = "gankit-controls";
    controls.append(mean.wrap, std.wrap);
    const verdict = document.createElement("p");
    verdict.className = "gankit-verdict";
    const svg = document.createElementNS(SVG, "svg");
    svg.classList.add("gankit-ticket-plot");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", "real and forged ticket densities with the door's verdict");
    const legend = document.createElement("p");
    legend.className = "gankit-legend";
    legend.innerHTML =
      '<span class="real">real</span> <span class="forged">forged</span> ' +
      '<span class="door">door D(x)</span> <span class="arrow">feedback on the mean</span>';
    let pending = false;
    const update = () => {
      pending = false;
      const m = mean.read();
      const s = std.read();
      const t0 = performance.now();
      const played = playRound(m, s, cfg);
      const r = played.report;
      verdict.innerHTML = "";
      const b1 = document.createElement("b");
      b1.textContent = "Door:";
      const b2 = document.createElement("b");
      b2.textContent = "Feedback:";
      verdict.append(b1, ` P(real) = ${r.p_real.toFixed(2)} \u00a0 `, b2, ` ${advice(r, cfg.report.tolerance)}`);
      draw(svg, cfg, m, s, played);
      root.dataset.report = JSON.stringify({ mean: m, std: s, ...r, advice: advice(r, cfg.report.tolerance) });
      root.dataset.millis = (performance.now() - t0).toFixed(1);
    };
    const schedule = () => {
      if (!pending) {
        pending = true;
        requestAnimationFrame(update);
      }
    };
    mean.input.addEventListener("input", schedule);
    std.input.addEventListener("input", schedule);
    root.replaceChildren(controls, verdict, svg, legend);
    update();
    root.dataset.ready = "true";
  }

  function mountAll() {
    for (const root of document.querySelectorAll(".gankit-ticket-game:not([data-ready])")) {
      try {
        mount(root);
      } catch (err) {
        root.dataset.ready = "failed";
        const p = document.createElement("p");
        p.className = "gankit-message";
        p.textContent = `The game could not start in this browser (${err.message}). Run the notebook to play.`;
        root.replaceChildren(p);
      }
    }
  }

  window.gankit = Object.assign(window.gankit || {}, { ticketGame: { playRound, advice } });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mountAll);
  else mountAll();
})();
