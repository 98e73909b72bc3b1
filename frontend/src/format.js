// Number, unit and time formatting shared by cards, tables, axes and tooltips. Units follow the
// catalogue (UCUM-ish, as OpenTelemetry uses them): "%", "1" (a ratio shown as percent), "ms", "s",
// "By", "By/s", "MB", "MB/s", "{request}/s", ... Pure functions, no DOM.

const BYTE_STEPS = ["B", "KB", "MB", "GB", "TB"];

// Numbers and clock times are formatted without Intl: the first Intl object a page builds loads ICU's
// locale data, 35–50 ms of a cold load's main thread on a 2-vCPU machine, and the overview's cards,
// host grid and axes would each pay it before the first charts are drawn.
const grouped = (digits) => digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");

/**
 * [integer, fraction] digits of `abs` ≥ 0 rounded to `max` fraction digits as Intl rounds: half away
 * from zero on the shortest decimal that reads back as the number (1.005 → "1.01", where `toFixed`,
 * working on the binary value 1.00499…, gives "1.00").
 */
function decimalDigits(abs, max) {
  const [mantissa, exponent] = abs.toExponential().split("e");
  let digits = mantissa.replace(".", "");
  let point = Number(exponent) + 1; // how many of `digits` stand before the decimal point
  if (point < 1) [digits, point] = ["0".repeat(1 - point) + digits, 1];
  digits = digits.padEnd(point + max, "0");
  const up = digits.charCodeAt(point + max) >= 53; // the first dropped digit is 5 or more
  digits = digits.slice(0, point + max);
  if (up) {
    const next = String(BigInt(digits) + 1n).padStart(digits.length, "0");
    point += next.length - digits.length; // 9.99 → 10.00: one more integer digit
    digits = next;
  }
  return [digits.slice(0, point), digits.slice(point)];
}

/** `n` in en-US form with `min`…`max` fraction digits: 1234.5 → "1,234.5" — Intl.NumberFormat's text. */
export function number(n, min = 0, max = 3) {
  if (!Number.isFinite(n)) return n.toLocaleString("en-US"); // "NaN", "∞": never on the start path
  const [int, frac] = decimalDigits(Math.abs(n), max);
  const digits = frac.replace(/0+$/, "").padEnd(min, "0");
  return `${n < 0 || Object.is(n, -0) ? "-" : ""}${grouped(int)}${digits ? `.${digits}` : ""}`;
}
const two = (n) => String(n).padStart(2, "0");
const clock = (d, seconds) => `${two(d.getHours())}:${two(d.getMinutes())}${seconds ? `:${two(d.getSeconds())}` : ""}`;

function trim(n, digits) {
  if (!Number.isFinite(n)) return "–";
  const abs = Math.abs(n);
  const d = abs >= 100 ? 0 : abs >= 10 ? Math.min(1, digits) : digits;
  return number(n, 0, d);
}

/** A short label for a unit: "{request}/s" → "req/s", "1" → "%". */
export function unitLabel(unit) {
  if (!unit) return "";
  if (unit === "1" || unit === "ratio") return "%";
  return unit
    .replace(/\{requests?\}/, "req")
    .replace(/\{connections?\}/, "conn")
    .replace(/\{([^}]*)\}/g, "$1")
    .replace(/^By\//, "B/")
    .replace(/^By$/, "B");
}

/** value + unit as text, e.g. 0.423 with unit "1" → "42.3 %", 1530 with "ms" → "1.53 s". */
export function fmtValue(value, unit, digits = 2) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  switch (unit) {
    case "1":
    case "ratio":
      return `${trim(value * 100, 1)} %`;
    case "%":
      return `${trim(value, 1)} %`;
    case "ms":
      return Math.abs(value) >= 1000 ? `${trim(value / 1000, digits)} s` : `${trim(value, 1)} ms`;
    case "s":
      return Math.abs(value) < 1 ? `${trim(value * 1000, 1)} ms` : `${trim(value, digits)} s`;
    case "By":
    case "By/s": {
      // decimal, as the catalogue's MB and MB/s (1 MB = 10^6 bytes)
      let v = value;
      let i = 0;
      while (Math.abs(v) >= 1000 && i < BYTE_STEPS.length - 1) {
        v /= 1000;
        i += 1;
      }
      return `${trim(v, digits)} ${BYTE_STEPS[i]}${unit === "By/s" ? "/s" : ""}`;
    }
    default: {
      const label = unitLabel(unit);
      const abs = Math.abs(value);
      const text = abs >= 1e6 ? `${trim(value / 1e6, digits)}M` : abs >= 1e4 ? `${trim(value / 1e3, 1)}k` : trim(value, digits);
      return label ? `${text} ${label}` : text;
    }
  }
}

/** `{scale, suffix}` for axis labels whose largest magnitude is `max` — one scale per axis. */
function axisScale(max, unit) {
  switch (unit) {
    case "1":
    case "ratio":
      return { scale: 100, suffix: " %" };
    case "%":
      return { scale: 1, suffix: " %" };
    case "s":
      return max < 1 ? { scale: 1000, suffix: " ms" } : { scale: 1, suffix: " s" };
    case "ms":
      return max >= 1000 ? { scale: 1e-3, suffix: " s" } : { scale: 1, suffix: " ms" };
    case "By":
    case "By/s": {
      let i = 0;
      while (max >= 1000 ** (i + 1) && i < BYTE_STEPS.length - 1) i += 1;
      return { scale: 1000 ** -i, suffix: ` ${BYTE_STEPS[i]}${unit === "By/s" ? "/s" : ""}` };
    }
    default: {
      const label = unitLabel(unit);
      const tail = label ? ` ${label}` : "";
      if (max >= 1e6) return { scale: 1e-6, suffix: `M${tail}` };
      if (max >= 1e4) return { scale: 1e-3, suffix: `k${tail}` };
      return { scale: 1, suffix: tail };
    }
  }
}

/**
 * Axis tick labels: one unit for the whole axis (0, 500 KB/s, 1,000 KB/s… never mixed KB and MB)
 * and as many decimals as the tick spacing needs ("1.5 MB/s", "1.91 MB/s" — never clipped to "91").
 */
export function fmtAxis(splits, unit) {
  const finite = splits.filter((v) => v !== null && v !== undefined && Number.isFinite(v));
  if (!finite.length) return splits.map(() => "");
  const { scale, suffix } = axisScale(Math.max(...finite.map(Math.abs)), unit);
  const inc = finite.length > 1 ? Math.abs(finite[1] - finite[0]) * scale : Math.abs(finite[0] * scale);
  let decimals = 0;
  while (decimals < 4 && inc > 0 && Math.abs(inc * 10 ** decimals - Math.round(inc * 10 ** decimals)) > 1e-6) decimals += 1;
  return splits.map((v) =>
    v === null || v === undefined || !Number.isFinite(v)
      ? ""
      : `${number(v * scale, decimals, decimals)}${suffix}`,
  );
}

/** The value converted to what `fmtValue` displays (ratios become percent) — for thresholds. */
export function displayNumber(value, unit) {
  return unit === "1" || unit === "ratio" ? value * 100 : value;
}

/** Accepts epoch seconds, epoch milliseconds or an ISO string; returns a Date (or null). */
export function toDate(t) {
  if (t === null || t === undefined || t === "") return null;
  if (typeof t === "number") return new Date(t < 1e12 ? t * 1000 : t);
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** Local hours and minutes, "14:00". */
export function fmtClock(t) {
  const d = toDate(t);
  return d ? clock(d, false) : "–";
}

export function fmtTime(t, withDate = true) {
  const d = toDate(t);
  if (!d) return "–";
  const time = clock(d, true);
  if (!withDate) return time;
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${time}`;
}

export function fmtAgo(t, now = Date.now()) {
  const d = toDate(t);
  if (!d) return "never";
  const s = Math.round((now - d.getTime()) / 1000);
  if (s < 5) return "just now";
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

export function fmtDuration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "–";
  if (ms < 1) return `${(ms * 1000).toFixed(0)} µs`;
  if (ms < 1000) return `${trim(ms, 1)} ms`;
  return `${trim(ms / 1000, 2)} s`;
}

/** "2026-11-26T10:00" (datetime-local) ⇄ epoch seconds. */
export function toLocalInput(epochSeconds) {
  const d = new Date(epochSeconds * 1000 - new Date().getTimezoneOffset() * 60000);
  return d.toISOString().slice(0, 16);
}
export function fromLocalInput(text) {
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? null : Math.round(d.getTime() / 1000);
}
