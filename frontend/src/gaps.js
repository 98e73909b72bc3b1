// How sparse a series is, and what that means for drawing it. A series reporting every 30 s queried
// with 2 s buckets has 14 empty buckets between samples: drawn naively it is invisible. Each series'
// own reporting interval (the median spacing of its samples) decides which empty runs are joined —
// Grafana's "connect null values" threshold — and the query step is never finer than the data.
// Pure functions, no DOM.

// Join empty runs up to this many reporting intervals (one missed or jittered sample); longer runs
// stay gaps, so a host that stopped reporting shows a hole, not a straight line.
export const JOIN_INTERVALS = 2.5;

// The server's automatic steps (vigil/domain/planning.py NICE_STEPS), up to a day.
const NICE_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

function median(xs) {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Median spacing (s) between the non-null values of one series, or null with fewer than two. */
export function reportingInterval(timestamps, values) {
  const deltas = [];
  let prev = null;
  for (let i = 0; i < values.length; i++) {
    if (values[i] === null || values[i] === undefined) continue;
    if (prev !== null) deltas.push(timestamps[i] - timestamps[prev]);
    prev = i;
  }
  return median(deltas);
}

/** The typical reporting interval of a `/api/metrics/series` answer (median over its series). */
export function answerInterval(answer) {
  if (!answer || !answer.timestamps || !answer.series) return null;
  return median(answer.series.map((s) => reportingInterval(answer.timestamps, s.values)).filter((x) => x !== null));
}

/** The smallest nice step at least `seconds` (data every 30 s → 30 s buckets). */
export function niceStepAtLeast(seconds) {
  return NICE_STEPS.find((s) => s >= seconds * 0.95) ?? Math.ceil(seconds / 86400) * 86400;
}

/**
 * A step to ask for instead of the answer's own, when its buckets are much finer than the data
 * (at least half of them would be empty), else null.
 */
export function coarserStep(answer) {
  const interval = answerInterval(answer);
  if (!interval || !answer.step || interval < 2 * answer.step) return null;
  const step = niceStepAtLeast(interval);
  return step > answer.step ? step : null;
}
