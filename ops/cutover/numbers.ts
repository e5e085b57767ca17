/**
 * Numbers as PostgreSQL prints them: float8out/float4out's shortest round-trip digits and
 * numeric_out's decimal text, reproduced exactly so sent and stored text compare byte for byte.
 */

/**
 * float8out/float4out (PostgreSQL 12+, extra_float_digits 1): the shortest digits that read back
 * exactly, fixed notation for decimal exponents in [-4, maxFixed), otherwise d.ddde+XX.
 */
function floatText(x: number, digitsOf: (x: number) => string, maxFixed: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "Infinity";
  if (x === -Infinity) return "-Infinity";
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  const magnitude = Math.abs(x);
  // JavaScript prints these magnitudes in fixed notation with the same shortest digits.
  if (maxFixed === 15 && magnitude >= 1e-4 && magnitude < 1e15) return String(x);
  const sign = x < 0 ? "-" : "";
  const [mantissa = "", exponentText = "0"] = digitsOf(Math.abs(x)).split("e");
  const digits = mantissa.replace(".", "");
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= maxFixed) {
    const e = Math.abs(exponent);
    return `${sign}${digits[0]}${digits.length > 1 ? `.${digits.slice(1)}` : ""}e${exponent < 0 ? "-" : "+"}${e < 10 ? `0${e}` : e}`;
  }
  if (exponent < 0) return `${sign}0.${"0".repeat(-exponent - 1)}${digits}`;
  if (digits.length <= exponent + 1) return `${sign}${digits}${"0".repeat(exponent + 1 - digits.length)}`;
  return `${sign}${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`;
}

/** JavaScript's shortest round-trip digits of a double, as "d.ddde+X". */
const doubleDigits = (x: number) => x.toExponential();

/** The shortest digits that read back as the same float4 (what float4out's Ryu f2s prints). */
function singleDigits(x: number): string {
  for (let precision = 1; precision < 9; precision += 1) {
    const text = x.toExponential(precision - 1);
    if (Math.fround(Number(text)) === x) return text;
  }
  return x.toExponential(8);
}

export function float8Text(x: number): string {
  return floatText(x, doubleDigits, 15);
}

export function float4Text(x: number): string {
  return floatText(Math.fround(x), singleDigits, 6);
}

/**
 * A decimal literal as PostgreSQL's numeric prints it: "keep" keeps the input's scale (numeric_in
 * then numeric_out, as jsonb numbers print), "trim" drops trailing fractional zeros (trim_scale).
 */
export function normalizeDecimal(text: string, scale: "keep" | "trim"): string {
  const special = /^([+-]?)(nan|inf|infinity)$/i.exec(text);
  if (special) {
    if (special[2]?.toLowerCase() === "nan") return "NaN";
    return special[1] === "-" ? "-Infinity" : "Infinity";
  }
  const match = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!match || (match[2] === "" && (match[3] ?? "") === "")) throw new Error(`${JSON.stringify(text)} is not a decimal number`);
  const [, sign, whole = "", fraction = "", exponentText = "0"] = match;
  const exponent = Number(exponentText);
  if (exponent === 0 && fraction === "" && scale === "keep" && /^[1-9]/.test(whole)) return sign === "-" ? `-${whole}` : whole;
  const digits = `${whole}${fraction}`;
  // value = digits * 10^-pointFromRight; numeric_in keeps max(0, pointFromRight) fractional digits
  const pointFromRight = fraction.length - exponent;
  let intPart: string;
  let fracPart: string;
  if (pointFromRight <= 0) {
    intPart = digits + "0".repeat(-pointFromRight);
    fracPart = "";
  } else {
    const padded = digits.padStart(pointFromRight + 1, "0");
    intPart = padded.slice(0, padded.length - pointFromRight);
    fracPart = padded.slice(padded.length - pointFromRight);
  }
  intPart = intPart.replace(/^0+(?=\d)/, "");
  if (scale === "trim") fracPart = fracPart.replace(/0+$/, "");
  const isZero = /^0*$/.test(intPart + fracPart);
  return `${sign === "-" && !isZero ? "-" : ""}${intPart}${fracPart ? `.${fracPart}` : ""}`;
}
