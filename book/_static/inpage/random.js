/*
 * The random numbers of PyTorch's CPU generator, in the page.
 *
 * torch.Generator().manual_seed(seed) on the CPU is a 32-bit Mersenne Twister
 * (MT19937). From its words PyTorch makes:
 *   - torch.rand: one word per number, its low 24 bits / 2^24 (float32);
 *   - torch.randn of a contiguous float32 tensor of 16 or more numbers: first
 *     that many uniform numbers, then a Box-Muller transform on each block of
 *     16 (the first 8 give the radii, the last 8 the angles); when the length
 *     is not a multiple of 16, the last 16 are drawn again and transformed.
 * So a seed gives the same numbers here as in Python (randn to float32
 * rounding: PyTorch's vectorised log and cos differ in the last bits).
 * tests/browser/test_interactive.py compares the two.
 */
(function (root) {
  "use strict";

  const N = 624;
  const M = 397;

  class TorchGenerator {
    /** The CPU generator after torch.Generator().manual_seed(seed). */
    constructor(seed) {
      if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
        throw new RangeError(`seed must be an integer in [0, 2^32), got ${seed}`);
      }
      this.state = new Uint32Array(N);
      this.state[0] = seed >>> 0;
      for (let j = 1; j < N; j++) {
        const prev = this.state[j - 1] ^ (this.state[j - 1] >>> 30);
        // 1812433253 * prev + j, modulo 2^32, without losing bits in doubles
        this.state[j] = (Math.imul(1812433253, prev) + j) >>> 0;
      }
      this.index = N;
    }

    /** The next 32-bit word (MT19937 with its standard tempering). */
    word() {
      const s = this.state;
      if (this.index >= N) {
        for (let k = 0; k < N; k++) {
          const y = (s[k] & 0x80000000) | (s[(k + 1) % N] & 0x7fffffff);
          let v = s[(k + M) % N] ^ (y >>> 1);
          if (y & 1) v ^= 0x9908b0df;
          s[k] = v >>> 0;
        }
        this.index = 0;
      }
      let y = s[this.index++];
      y ^= y >>> 11;
      y ^= (y << 7) & 0x9d2c5680;
      y ^= (y << 15) & 0xefc60000;
      y ^= y >>> 18;
      return y >>> 0;
    }

    /** torch.rand(n): n float32 numbers uniform in [0, 1). */
    rand(n) {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = (this.word() & 0xffffff) / 16777216;
      return out;
    }

    /** torch.randn(n) for n >= 16: n float32 numbers from N(0, 1). */
    randn(n) {
      if (n < 16) throw new RangeError(`randn here needs n >= 16, got ${n}`);
      const out = this.rand(n);
      for (let i = 0; i + 16 <= n; i += 16) boxMuller16(out, i);
      if (n % 16 !== 0) {
        const tail = this.rand(16);
        out.set(tail, n - 16);
        boxMuller16(out, n - 16);
      }
      return out;
    }
  }

  function boxMuller16(data, at) {
    for (let j = at; j < at + 8; j++) {
      const u1 = Math.fround(1 - data[j]);
      const u2 = data[j + 8];
      const radius = Math.fround(Math.sqrt(Math.fround(-2 * Math.fround(Math.log(u1)))));
      const theta = Math.fround(2 * Math.PI * u2);
      data[j] = radius * Math.fround(Math.cos(theta));
      data[j + 8] = radius * Math.fround(Math.sin(theta));
    }
  }

  /** gankit.sample_z(n, zDim, generator=torch.Generator().manual_seed(seed)). */
  function sampleZ(seed, n, zDim) {
    const u = new TorchGenerator(seed).rand(n * zDim);
    for (let i = 0; i < u.length; i++) u[i] = u[i] * 2 - 1;
    return u;
  }

  const api = { TorchGenerator, sampleZ };
  root.gankit = Object.assign(root.gankit || {}, { random: api });
  if (typeof module !== "undefined" && module.exports) module.exports = api;
})(typeof window !== "undefined" ? window : globalThis);
