/**
 * Go's math library results for the functions where a JS engine's libm gives a different last digit: gamma and
 * the trigonometric family. Go computes these in software with the Cephes polynomials and a three-part Pi/4
 * (Cody-Waite) argument reduction; so do these, so `math.tan(1)` prints what starlark-go prints. Arguments past
 * 2^29, where Go switches to Payne-Hanek reduction, use the engine's functions.
 */

const PI4A = 7.85398125648498535156e-1,
  PI4B = 3.77489470793079817668e-8,
  PI4C = 2.69515142907905952645e-15;
const REDUCE_THRESHOLD = 1 << 29;

/** Cody-Waite reduction: [octant j (made even), x - j*Pi/4]. */
function reduce(x: number): [number, number] {
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
  if (x >= REDUCE_THRESHOLD) return sign ? -Math.sin(x) : Math.sin(x);
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
  if (x >= REDUCE_THRESHOLD) return Math.cos(x);
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
  if (x >= REDUCE_THRESHOLD) return sign ? -Math.tan(x) : Math.tan(x);
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
  let y1 = Math.exp(x);
  let y2 = 1.0;
  if (x > MAX_STIRLING) {
    const v = Math.pow(x, 0.5 * x - 0.25);
    y2 = v / y1;
    y1 = v;
  } else y1 = Math.pow(x, x - 0.5) / y1;
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
