// How sparse a series is, and what that means for drawing it. A series reporting every 30 s queried
// with 2 s buckets has 14 empty buckets between samples: drawn naively it is invisible. Each series'
// own reporting interval (the median spacing of its samples) decides which empty runs are joined —
// Grafana's "connect null values" threshold. (The API itself never answers at a step finer than the
// data: vigil/domain/planning.py `data_step`.)
// Pure functions, no DOM.

// Join empty runs up to this many reporting intervals (one missed or jittered sample); longer runs
// stay gaps, so a host that stopped reporting shows a hole, not a straight line.
export const JOIN_INTERVALS = 2.5;

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
