/**
 * Go's math library, ported so that every function of the `math` module gives the float64 that starlark-go gives
 * on amd64, bit for bit. A JS engine's libm differs from Go's in the last digit for many inputs, so nothing here
 * calls Math.exp/log/pow/sin/...; only Math.sqrt (correctly rounded, like Go's SQRTSD) and exact operations.
 *
 * On amd64 Go runs assembly for Exp, Log and Hypot (math/*_amd64.s); those are ported from the assembly, and Exp
 * from its FMA path (taken on every CPU with AVX and FMA, i.e. every x86-64 since 2013), with a correctly rounded
 * fused multiply-add emulated in `fma`. The rest follows Go's portable code (Cephes polynomials, Cody-Waite and
 * Payne-Hanek argument reduction, FreeBSD's log1p). tests/fixtures/gomath/ holds Go's results over a grid.
 */

// ---- bits of a float64 (little-endian words: [0] low, [1] high) ----

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);

function highWord(x: number): number {
  F64[0] = x;
  return U32[1]!;
}
function fromWords(hi: number, lo: number): number {
  U32[0] = lo >>> 0;
  U32[1] = hi >>> 0;
  return F64[0]!;
}
/** 2**e for e in the normal range [-1022, 1023]. */
function pow2(e: number): number {
  return fromWords((e + 1023) << 20, 0);
}

// ---- exact arithmetic helpers ----

const SPLITTER = 134217729; // 2**27 + 1 (Veltkamp split)

/** The low part of a*b: a*b = RN(a*b) + twoProductLow(a, b) exactly (no overflow assumed). */
function twoProductLow(a: number, b: number, p: number): number {
  let t = SPLITTER * a;
  const ah = t - (t - a),
    al = a - ah;
  t = SPLITTER * b;
  const bh = t - (t - b),
    bl = b - bh;
  return ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}

/** a*b + c rounded once (IEEE fusedMultiplyAdd), by Boldo and Melquiond's round-to-odd emulation. */
export function fma(a: number, b: number, c: number): number {
  const p = a * b;
  if (a === 0 || b === 0 || c === 0 || !Number.isFinite(p) || !Number.isFinite(c)) return p + c;
  const pl = twoProductLow(a, b, p);
  // (th, tl) = c + p exactly
  const th = c + p;
  const bb = th - c;
  const tl = (c - (th - bb)) + (p - bb);
  // v = tl + pl rounded to odd
  let v = tl + pl;
  const vb = v - tl;
  const ve = (tl - (v - vb)) + (pl - vb);
  if (ve !== 0) {
    F64[0] = v;
    if ((U32[0]! & 1) === 0) {
      // step one unit in the last place towards the exact value: the neighbour with an odd last bit
      const away = (ve > 0) === (v > 0);
      let lo = U32[0]!,
        hi = U32[1]!;
      if (away) {
        lo = (lo + 1) >>> 0;
        if (lo === 0) hi++;
      } else {
        if (lo === 0) hi--;
        lo = (lo - 1) >>> 0;
      }
      v = fromWords(hi, lo);
    }
  }
  return th + v;
}

/** float64 -> int32 as x86's CVTSD2SL: round half to even; out of range gives the "integer indefinite" -2**31. */
function cvtsd2sl(x: number): number {
  if (!(x > -2147483648.5 && x < 2147483647.5)) return -2147483648;
  let r = Math.round(x);
  if (r - x === 0.5 && r % 2 !== 0) r -= 1; // Math.round takes ties upward; x86 takes them to even
  return r;
}

// ---- exp, log, hypot: Go's amd64 assembly ----

const EXP_OVERFLOW = 7.09782712893384e2;
const LOG2E = 1.442695040888963407359924681001892;
const LN2U = 0.69314718055966295651160180568695068359375;
const LN2L = 0.28235290563031577122588448175013436025525412068e-12;

/** math.Exp as Go's exp_amd64.s computes it on a CPU with FMA. */
export function goExp(x: number): number {
  if (x !== x || x === Infinity) return x;
  if (x === -Infinity) return 0;
  if (x > EXP_OVERFLOW) return Infinity;
  let k = cvtsd2sl(LOG2E * x);
  const kf = k;
  x = fma(-kf, LN2U, x);
  x = fma(-kf, LN2L, x);
  x *= 0.0625;
  let t = 2.4801587301587301587e-5;
  t = fma(t, x, 1.9841269841269841270e-4);
  t = fma(t, x, 1.3888888888888888889e-3);
  t = fma(t, x, 8.3333333333333333333e-3);
  t = fma(t, x, 4.1666666666666666667e-2);
  t = fma(t, x, 1.6666666666666666667e-1);
  t = fma(t, x, 0.5);
  t = fma(t, x, 1.0);
  x *= t;
  t = x + 2;
  x *= t;
  t = x + 2;
  x *= t;
  t = x + 2;
  x *= t;
  t = x + 2;
  x = fma(x, t, 1.0);
  // x * 2**k, with the assembly's two-step scaling into the subnormal range
  k += 0x3ff;
  if (k <= 0) {
    if (k < -52) return 0;
    return x * fromWords((k + 0x3fe) << 20, 0) * fromWords(1 << 20, 0);
  }
  if (k >= 0x7ff) return Infinity;
  return x * fromWords(k << 20, 0);
}

const LN2_HI = 6.93147180369123816490e-1,
  LN2_LO = 1.90821492927058770002e-10;
const L1 = 6.666666666666735130e-1,
  L2 = 3.999999999940941908e-1,
  L3 = 2.857142874366239149e-1,
  L4 = 2.222219843214978396e-1,
  L5 = 1.818357216161805012e-1,
  L6 = 1.531383769920937332e-1,
  L7 = 1.479819860511658591e-1;

/** math.Log as Go's log_amd64.s computes it (it reads the exponent field directly, also for subnormals). */
export function goLog(x: number): number {
  if (x === 0) return -Infinity;
  const hi = highWord(x);
  if (hi & 0x80000000) return NaN; // negative, including -Inf and a negative NaN
  if (x !== x || x === Infinity) return x;
  const lo = U32[0]!;
  let f1 = fromWords((hi & 0x000fffff) | 0x3fe00000, lo);
  let k = ((hi >>> 20) & 0x7ff) - 0x3fe;
  if (!(Math.SQRT1_2 < f1)) {
    k -= 1;
    f1 *= 2;
  }
  const f = f1 - 1;
  const s = f / (2 + f);
  const s2 = s * s;
  const s4 = s2 * s2;
  const t1 = s2 * (((L7 * s4 + L5) * s4 + L3) * s4 + L1);
  const t2 = s4 * ((L6 * s4 + L4) * s4 + L2);
  const R = t1 + t2;
  const hfsq = 0.5 * f * f;
  return k * LN2_HI - ((hfsq - (s * (hfsq + R) + k * LN2_LO)) - f);
}

/** math.Hypot as Go's hypot_amd64.s computes it: max * sqrt(1 + (min/max)**2). */
export function goHypot(p: number, q: number): number {
  p = Math.abs(p);
  q = Math.abs(q);
  if (!Number.isFinite(p) || !Number.isFinite(q)) return p === Infinity || q === Infinity ? Infinity : NaN;
  if (p === 0 && q === 0) return 0;
  const max = p > q ? p : q;
  let min = q < p ? q : p;
  min /= max;
  return max * Math.sqrt(min * min + 1);
}

// ---- frexp, ldexp, modf (Go's portable code) ----

const SMALLEST_NORMAL = 2.2250738585072014e-308;

/** [frac, exp] with frac in [0.5, 1) and x = frac * 2**exp. */
export function goFrexp(x: number): [number, number] {
  if (x === 0 || !Number.isFinite(x)) return [x, 0];
  let exp = 0;
  if (Math.abs(x) < SMALLEST_NORMAL) {
    x *= 4503599627370496; // 2**52
    exp = -52;
  }
  const hi = highWord(x);
  exp += ((hi >>> 20) & 0x7ff) - 1022;
  return [fromWords((hi & 0x800fffff) | (1022 << 20), U32[0]!), exp];
}

export function goLdexp(frac: number, exp: number): number {
  if (frac === 0 || !Number.isFinite(frac)) return frac;
  if (Math.abs(frac) < SMALLEST_NORMAL) {
    frac *= 4503599627370496;
    exp -= 52;
  }
  const hi = highWord(frac);
  const lo = U32[0]!;
  exp += ((hi >>> 20) & 0x7ff) - 1023;
  if (exp < -1075) return frac < 0 ? -0 : 0;
  if (exp > 1023) return frac < 0 ? -Infinity : Infinity;
  let m = 1;
  if (exp < -1022) {
    exp += 53;
    m = 1 / 9007199254740992; // 2**-53
  }
  return m * fromWords((hi & 0x800fffff) | ((exp + 1023) << 20), lo);
}

/** [integer part, fractional part], both with x's sign. */
function goModf(x: number): [number, number] {
  if (x < 1) {
    if (x < 0) {
      const [i, f] = goModf(-x);
      return [-i, -f];
    }
    if (x === 0) return [x, x];
    return [0, x];
  }
  const i = x >= 4503599627370496 ? x : Math.trunc(x); // past 2**52 every float is an integer
  return [i, x - i];
}

// ---- pow (Go's portable code) ----

function isOddInt(x: number): boolean {
  const [xi, xf] = goModf(x);
  const m = Math.abs(xi);
  return xf === 0 && m < 9007199254740992 && m % 2 === 1; // from 2**53 on every float is even
}

export function goPow(x: number, y: number): number {
  if (y === 0 || x === 1) return 1;
  if (y === 1) return x;
  if (x !== x || y !== y) return NaN;
  if (x === 0) {
    if (y < 0) return isOddInt(y) ? (Object.is(x, -0) ? -Infinity : Infinity) : Infinity;
    if (y > 0) return isOddInt(y) ? x : 0;
  }
  if (y === Infinity || y === -Infinity) {
    if (x === -1) return 1;
    return (Math.abs(x) < 1) === (y === Infinity) ? 0 : Infinity;
  }
  if (x === Infinity || x === -Infinity) {
    if (x === -Infinity) return goPow(1 / x, -y);
    if (y < 0) return 0;
    if (y > 0) return Infinity;
  }
  if (y === 0.5) return Math.sqrt(x);
  if (y === -0.5) return 1 / Math.sqrt(x);
  let [yi, yf] = goModf(Math.abs(y));
  if (yf !== 0 && x < 0) return NaN;
  if (yi >= 9223372036854775808) {
    if (x === -1) return 1;
    return (Math.abs(x) < 1) === (y > 0) ? 0 : Infinity;
  }
  let a1 = 1.0;
  let ae = 0;
  if (yf !== 0) {
    if (yf > 0.5) {
      yf--;
      yi++;
    }
    a1 = goExp(yf * goLog(x));
  }
  let [x1, xe] = goFrexp(x);
  for (let i = yi; i !== 0; i = Math.floor(i / 2)) {
    if (xe < -(1 << 12) || 1 << 12 < xe) {
      ae += xe;
      break;
    }
    if (i % 2 === 1) {
      a1 *= x1;
      ae += xe;
    }
    x1 *= x1;
    xe *= 2;
    if (x1 < 0.5) {
      x1 += x1;
      xe--;
    }
  }
  if (y < 0) {
    a1 = 1 / a1;
    ae = -ae;
  }
  return goLdexp(a1, ae);
}

// ---- remainder, atan2 ----

export function goRemainder(x: number, y: number): number {
  const TINY = 4.45014771701440276618e-308,
    HALF_MAX = Number.MAX_VALUE / 2;
  if (x !== x || y !== y || !Number.isFinite(x) || y === 0) return NaN;
  if (!Number.isFinite(y)) return x;
  let sign = false;
  if (x < 0) {
    x = -x;
    sign = true;
  }
  if (y < 0) y = -y;
  if (x === y) return sign ? -0 : 0;
  if (y <= HALF_MAX) x = x % (y + y); // Go's Mod is the exact remainder, as JS's % is
  if (y < TINY) {
    if (x + x > y) {
      x -= y;
      if (x + x >= y) x -= y;
    }
  } else {
    const yHalf = 0.5 * y;
    if (x > yHalf) {
      x -= y;
      if (x >= yHalf) x -= y;
    }
  }
  return sign ? -x : x;
}

function copysign(x: number, y: number): number {
  return y < 0 || Object.is(y, -0) ? -Math.abs(x) : Math.abs(x);
}

export function goAtan2(y: number, x: number): number {
  if (y !== y || x !== x) return NaN;
  if (y === 0) return x >= 0 && !Object.is(x, -0) ? copysign(0, y) : copysign(Math.PI, y);
  if (x === 0) return copysign(Math.PI / 2, y);
  if (x === Infinity) return y === Infinity || y === -Infinity ? copysign(Math.PI / 4, y) : copysign(0, y);
  if (x === -Infinity) return y === Infinity || y === -Infinity ? copysign((3 * Math.PI) / 4, y) : copysign(Math.PI, y);
  if (y === Infinity || y === -Infinity) return copysign(Math.PI / 2, y);
  const q = goAtan(y / x);
  if (x < 0) return q <= 0 ? q + Math.PI : q - Math.PI;
  return q;
}

// ---- log1p and the hyperbolic functions ----

export function goLog1p(x: number): number {
  const SQRT2_M1 = 4.142135623730950488017e-1,
    SQRT2_HALF_M1 = -2.928932188134524755992e-1,
    SMALL = 1 / (1 << 29),
    TINY = 1 / 18014398509481984, // 2**-54
    TWO53 = 9007199254740992;
  if (x < -1 || x !== x) return NaN;
  if (x === -1) return -Infinity;
  if (x === Infinity) return Infinity;
  const absx = Math.abs(x);
  let f = 0;
  let iuHi = 0; // the high word of Go's iu; its low word only matters through iu == 0
  let iuLo = 0;
  let k = 1;
  if (absx < SQRT2_M1) {
    if (absx < SMALL) {
      if (absx < TINY) return x;
      return x - x * x * 0.5;
    }
    if (x > SQRT2_HALF_M1) {
      k = 0;
      f = x;
      iuHi = 0;
      iuLo = 1;
    }
  }
  let c = 0;
  if (k !== 0) {
    let u: number;
    if (absx < TWO53) {
      u = 1.0 + x;
      iuHi = highWord(u);
      iuLo = U32[0]!;
      k = (iuHi >>> 20) - 1023;
      c = k > 0 ? 1.0 - (u - x) : x - (u - 1.0);
      c /= u;
    } else {
      u = x;
      iuHi = highWord(u);
      iuLo = U32[0]!;
      k = (iuHi >>> 20) - 1023;
      c = 0;
    }
    iuHi &= 0x000fffff;
    if (iuHi < 0x0006a09e || (iuHi === 0x0006a09e && iuLo >>> 0 < 0x667f3bcd)) {
      u = fromWords(iuHi | 0x3ff00000, iuLo);
    } else {
      k++;
      u = fromWords(iuHi | 0x3fe00000, iuLo);
      // iu = (0x0010000000000000 - iu) >> 2: only whether it is zero matters below
      iuHi = iuHi === 0xfffff && iuLo >>> 0 >= 0xfffffffd ? 0 : 1;
      iuLo = 0;
    }
    f = u - 1.0;
  }
  const hfsq = 0.5 * f * f;
  if (iuHi === 0 && iuLo === 0) {
    if (f === 0) {
      if (k === 0) return 0;
      c += k * LN2_LO;
      return k * LN2_HI + c;
    }
    const R = hfsq * (1.0 - 0.66666666666666666 * f);
    if (k === 0) return f - R;
    return k * LN2_HI - ((R - (k * LN2_LO + c)) - f);
  }
  const s = f / (2.0 + f);
  const z = s * s;
  // log1p's polynomial has log's coefficients (L1..L7).
  const R = z * (L1 + z * (L2 + z * (L3 + z * (L4 + z * (L5 + z * (L6 + z * L7))))));
  if (k === 0) return f - (hfsq - s * (hfsq + R));
  return k * LN2_HI - ((hfsq - (s * (hfsq + R) + (k * LN2_LO + c))) - f);
}

export function goSinh(x: number): number {
  const P0 = -0.6307673640497716991184787251e6,
    P1 = -0.8991272022039509355398013511e5,
    P2 = -0.2894211355989563807284660366e4,
    P3 = -0.2630563213397497062819489e2,
    Q0 = -0.6307673640497716991212077277e6,
    Q1 = 0.1521517378790019070696485176e5,
    Q2 = -0.173678953558233699533450911e3;
  let sign = false;
  if (x < 0) {
    x = -x;
    sign = true;
  }
  let temp: number;
  if (x > 21) temp = goExp(x) * 0.5;
  else if (x > 0.5) {
    const ex = goExp(x);
    temp = (ex - 1 / ex) * 0.5;
  } else {
    const sq = x * x;
    temp = (((P3 * sq + P2) * sq + P1) * sq + P0) * x;
    temp = temp / (((sq + Q2) * sq + Q1) * sq + Q0);
  }
  return sign ? -temp : temp;
}

export function goCosh(x: number): number {
  x = Math.abs(x);
  if (x > 21) return goExp(x) * 0.5;
  const ex = goExp(x);
  return (ex + 1 / ex) * 0.5;
}

export function goTanh(x: number): number {
  const MAXLOG = 8.8029691931113054295988e1;
  let z = Math.abs(x);
  if (z > 0.5 * MAXLOG) return x < 0 ? -1 : 1;
  if (z >= 0.625) {
    const s = goExp(2 * z);
    z = 1 - 2 / (s + 1);
    return x < 0 ? -z : z;
  }
  if (x === 0) return x;
  const s = x * x;
  return x + (x * s * ((-9.64399179425052238628e-1 * s + -9.92877231001918586564e1) * s + -1.61468768441708447952e3)) /
    (((s + 1.12811678491632931402e2) * s + 2.23548839060100448583e3) * s + 4.84406305325125486048e3);
}

export function goAsinh(x: number): number {
  const NEAR_ZERO = 1 / (1 << 28),
    LARGE = 1 << 28;
  if (x !== x || !Number.isFinite(x)) return x;
  let sign = false;
  if (x < 0) {
    x = -x;
    sign = true;
  }
  let temp: number;
  if (x > LARGE) temp = goLog(x) + Math.LN2;
  else if (x > 2) temp = goLog(2 * x + 1 / (Math.sqrt(x * x + 1) + x));
  else if (x < NEAR_ZERO) temp = x;
  else temp = goLog1p(x + (x * x) / (1 + Math.sqrt(1 + x * x)));
  return sign ? -temp : temp;
}

export function goAcosh(x: number): number {
  if (x < 1 || x !== x) return NaN;
  if (x === 1) return 0;
  if (x >= 1 << 28) return goLog(x) + Math.LN2;
  if (x > 2) return goLog(2 * x - 1 / (x + Math.sqrt(x * x - 1)));
  const t = x - 1;
  return goLog1p(t + Math.sqrt(2 * t + t * t));
}

export function goAtanh(x: number): number {
  if (x < -1 || x > 1 || x !== x) return NaN;
  if (x === 1) return Infinity;
  if (x === -1) return -Infinity;
  let sign = false;
  if (x < 0) {
    x = -x;
    sign = true;
  }
  let temp: number;
  if (x < 1 / (1 << 28)) temp = x;
  else if (x < 0.5) {
    temp = x + x;
    temp = 0.5 * goLog1p(temp + (temp * x) / (1 - x));
  } else temp = 0.5 * goLog1p((x + x) / (1 - x));
  return sign ? -temp : temp;
}

// ---- the trigonometric family ----

const PI4A = 7.85398125648498535156e-1,
  PI4B = 3.77489470793079817668e-8,
  PI4C = 2.69515142907905952645e-15;
const REDUCE_THRESHOLD = 1 << 29;

/** 4/Pi in binary, 64 bits a word (Go's mPi4), for Payne-Hanek reduction. */
const M_PI4 = [0x0000000000000001n, 0x45f306dc9c882a53n, 0xf84eafa3ea69bb81n, 0xb6c52b3278872083n, 0xfca2c757bd778ac3n,
  0x6e48dc74849ba5c0n, 0x0c925dd413a32439n, 0xfc3bd63962534e7dn, 0xd1046bea5d768909n, 0xd338e04d68befc82n,
  0x7323ac7306a673e9n, 0x3908bf177bf25076n, 0x3ff12fffbc0b301fn, 0xde5e2316b414da3en, 0xda6cfd9e4f96136en,
  0x9e8c7ecd3cbfd45an, 0xea4f758fd7cbe2f6n, 0x7a0e73ef14a525d4n, 0xd7f6bf623f1aba10n, 0xac06608df8f6d757n];
const M64 = 0xffffffffffffffffn;

/** Payne-Hanek reduction of x >= 2**29 (Go's trigReduce): [octant j, x - j*Pi/4]. */
function trigReduce(x: number): [number, number] {
  const hi0 = highWord(x);
  const exp = ((hi0 >>> 20) & 0x7ff) - 1023 - 52;
  const ix = (BigInt((hi0 & 0xfffff) | 0x100000) << 32n) | BigInt(U32[0]!);
  const digit = Math.floor((exp + 61) / 64);
  const shift = BigInt((exp + 61) % 64);
  const word = (i: number): bigint => ((M_PI4[i]! << shift) | (M_PI4[i + 1]! >> (64n - shift))) & M64;
  const z0 = word(digit),
    z1 = word(digit + 1),
    z2 = word(digit + 2);
  const z2hi = (z2 * ix) >> 64n;
  const z1p = z1 * ix;
  const z0lo = (z0 * ix) & M64;
  const loSum = (z1p & M64) + z2hi;
  let lo = loSum & M64;
  let hi = (z0lo + (z1p >> 64n) + (loSum >> 64n)) & M64;
  let j = Number(hi >> 61n);
  hi = ((hi << 3n) | (lo >> 61n)) & M64;
  const lz = 64 - hi.toString(2).length;
  const e = BigInt(1023 - (lz + 1));
  hi = ((hi << BigInt(lz + 1)) | (lo >> BigInt(64 - (lz + 1)))) & M64;
  hi >>= 12n;
  hi |= e << 52n;
  lo = hi & 0xffffffffn;
  let z = fromWords(Number(hi >> 32n), Number(lo));
  if ((j & 1) === 1) {
    j = (j + 1) & 7;
    z--;
  }
  return [j, z * (Math.PI / 4)];
}

/** [octant j (made even), x - j*Pi/4] for x >= 0: Cody-Waite below 2**29, Payne-Hanek above. */
function reduce(x: number): [number, number] {
  if (x >= REDUCE_THRESHOLD) return trigReduce(x);
  let j = Math.floor(x * (4 / Math.PI));
  let y = j;
  if (j % 2 === 1) {
    j++;
    y++;
  }
  return [j % 8, ((x - y * PI4A) - y * PI4B) - y * PI4C];
}

const SIN = [1.58962301576546568060e-10, -2.50507477628578072866e-8, 2.75573136213857245213e-6, -1.98412698295895385996e-4,
  8.33333333332211858878e-3, -1.66666666666666307295e-1];
const COS = [-1.13585365213876817300e-11, 2.08757008419747316778e-9, -2.75573141792967388112e-7, 2.48015872888517045348e-5,
  -1.38888888888730564116e-3, 4.16666666666665929218e-2];

function sinPoly(z: number, zz: number): number {
  return z + z * zz * ((((((SIN[0]! * zz) + SIN[1]!) * zz + SIN[2]!) * zz + SIN[3]!) * zz + SIN[4]!) * zz + SIN[5]!);
}
function cosPoly(zz: number): number {
  return 1.0 - 0.5 * zz + zz * zz * ((((((COS[0]! * zz) + COS[1]!) * zz + COS[2]!) * zz + COS[3]!) * zz + COS[4]!) * zz + COS[5]!);
}

export function goSin(x: number): number {
  if (x === 0 || x !== x) return x;
  if (!Number.isFinite(x)) return NaN;
  let sign = false;
  if (x < 0) {
    x = -x;
    sign = true;
  }
  let [j, z] = reduce(x);
  if (j > 3) {
    sign = !sign;
    j -= 4;
  }
  const zz = z * z;
  const y = j === 1 || j === 2 ? cosPoly(zz) : sinPoly(z, zz);
  return sign ? -y : y;
}

export function goCos(x: number): number {
  if (x !== x || !Number.isFinite(x)) return NaN;
  x = Math.abs(x);
  let sign = false;
  let [j, z] = reduce(x);
  if (j > 3) {
    j -= 4;
    sign = !sign;
  }
  if (j > 1) sign = !sign;
  const zz = z * z;
  const y = j === 1 || j === 2 ? sinPoly(z, zz) : cosPoly(zz);
  return sign ? -y : y;
}

const TAN_P = [-1.30936939181383777646e4, 1.15351664838587416140e6, -1.79565251976484877988e7];
const TAN_Q = [1.0, 1.36812963470692954678e4, -1.32089234440210967447e6, 2.50083801823357915839e7, -5.38695755929454629881e7];

export function goTan(x: number): number {
  if (x === 0 || x !== x) return x;
  if (!Number.isFinite(x)) return NaN;
  let sign = false;
  if (x < 0) {
    x = -x;
    sign = true;
  }
  const [j, z] = reduce(x);
  const zz = z * z;
  let y = z;
  if (zz > 1e-14) {
    y = z + z * ((zz * ((TAN_P[0]! * zz + TAN_P[1]!) * zz + TAN_P[2]!)) / ((((zz + TAN_Q[1]!) * zz + TAN_Q[2]!) * zz + TAN_Q[3]!) * zz + TAN_Q[4]!));
  }
  if ((j & 2) === 2) y = -1 / y;
  return sign ? -y : y;
}

/** atan on [0, 0.66] (Cephes rational approximation). */
function xatan(x: number): number {
  const P0 = -8.750608600031904122785e-1, P1 = -1.615753718733365076637e1, P2 = -7.500855792314704667340e1,
    P3 = -1.228866684490136173410e2, P4 = -6.485021904942025371773e1;
  const Q0 = 2.485846490142306297962e1, Q1 = 1.650270098316988542046e2, Q2 = 4.328810604912902668951e2,
    Q3 = 4.853903996359136964868e2, Q4 = 1.945506571482613964425e2;
  let z = x * x;
  z = (z * ((((P0 * z + P1) * z + P2) * z + P3) * z + P4)) / (((((z + Q0) * z + Q1) * z + Q2) * z + Q3) * z + Q4);
  return x * z + x;
}

/** atan of a non-negative x, reduced to [0, 0.66]. */
function satan(x: number): number {
  const MOREBITS = 6.123233995736765886130e-17; // Pi/2 = float64(Pi/2) + MOREBITS
  const TAN3PIO8 = 2.41421356237309504880;
  if (x <= 0.66) return xatan(x);
  if (x > TAN3PIO8) return Math.PI / 2 - xatan(1 / x) + MOREBITS;
  return Math.PI / 4 + xatan((x - 1) / (x + 1)) + 0.5 * MOREBITS;
}

export function goAtan(x: number): number {
  if (x === 0) return x;
  return x > 0 ? satan(x) : -satan(-x);
}

export function goAsin(x: number): number {
  if (x === 0) return x;
  let sign = false;
  if (x < 0) {
    x = -x;
    sign = true;
  }
  if (x > 1) return NaN;
  let t = Math.sqrt(1 - x * x);
  t = x > 0.7 ? Math.PI / 2 - satan(t / x) : satan(x / t);
  return sign ? -t : t;
}

export function goAcos(x: number): number {
  return Math.PI / 2 - goAsin(x);
}

// ---- gamma (Cephes, as Go's math.Gamma) ----

const GAM_P = [1.60119522476751861407e-4, 1.19135147006586384913e-3, 1.04213797561761569935e-2, 4.76367800457137231464e-2,
  2.07448227648435975150e-1, 4.94214826801497100753e-1, 9.99999999999999996796e-1];
const GAM_Q = [-2.31581873324120129819e-5, 5.39605580493303397842e-4, -4.45641913851797240494e-3, 1.18139785222060435552e-2,
  3.58236398605498653373e-2, -2.34591795718243348568e-1, 7.14304917030273074085e-2, 1.00000000000000000320e0];
const GAM_S = [7.87311395793093628397e-4, -2.29549961613378126380e-4, -2.68132617805781232825e-3, 3.47222221605458667310e-3,
  8.33333333333482257126e-2];
const EULER = 0.57721566490153286060651209008240243104215933593992;

/** Stirling's formula for x > 33, as a product of two factors (to delay overflow). */
function stirling(x: number): [number, number] {
  if (x > 200) return [Infinity, 1];
  const SQRT_TWO_PI = 2.506628274631000502417,
    MAX_STIRLING = 143.01608;
  let w = 1 / x;
  w = 1 + w * ((((GAM_S[0]! * w + GAM_S[1]!) * w + GAM_S[2]!) * w + GAM_S[3]!) * w + GAM_S[4]!);
  let y1 = goExp(x);
  let y2 = 1.0;
  if (x > MAX_STIRLING) {
    const v = goPow(x, 0.5 * x - 0.25);
    y2 = v / y1;
    y1 = v;
  } else y1 = goPow(x, x - 0.5) / y1;
  return [y1, SQRT_TWO_PI * w * y2];
}

export function goGamma(x: number): number {
  if ((x < 0 && Number.isInteger(x)) || x === -Infinity || x !== x) return NaN;
  if (x === Infinity) return Infinity;
  if (x === 0) return Object.is(x, -0) ? -Infinity : Infinity;
  let q = Math.abs(x);
  let p = Math.floor(q);
  if (q > 33) {
    if (x >= 0) {
      const [a, b] = stirling(x);
      return a * b;
    }
    const signgam = p % 2 === 0 ? -1 : 1;
    let z = q - p;
    if (z > 0.5) {
      p = p + 1;
      z = q - p;
    }
    z = q * goSin(Math.PI * z);
    if (z === 0) return signgam * Infinity;
    const [s1, s2] = stirling(q);
    const absz = Math.abs(z);
    const d = absz * s1 * s2;
    z = Number.isFinite(d) ? Math.PI / d : Math.PI / absz / s1 / s2;
    return signgam * z;
  }
  let z = 1.0;
  while (x >= 3) {
    x = x - 1;
    z = z * x;
  }
  const small = (): number => (x === 0 ? Infinity : z / ((1 + EULER * x) * x));
  while (x < 0) {
    if (x > -1e-9) return small();
    z = z / x;
    x = x + 1;
  }
  while (x < 2) {
    if (x < 1e-9) return small();
    z = z / x;
    x = x + 1;
  }
  if (x === 2) return z;
  x = x - 2;
  p = (((((x * GAM_P[0]! + GAM_P[1]!) * x + GAM_P[2]!) * x + GAM_P[3]!) * x + GAM_P[4]!) * x + GAM_P[5]!) * x + GAM_P[6]!;
  q = ((((((x * GAM_Q[0]! + GAM_Q[1]!) * x + GAM_Q[2]!) * x + GAM_Q[3]!) * x + GAM_Q[4]!) * x + GAM_Q[5]!) * x + GAM_Q[6]!) * x + GAM_Q[7]!;
  return (z * p) / q;
}
