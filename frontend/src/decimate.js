// Min/max decimation (M4) of a chart's data to its pixel columns. A chart of 60,000 points in 1,200
// device pixels draws ~50 points per column; the line in a column only ever covers the range between
// its lowest and highest sample and enters and leaves at the first and last one, so keeping those
// four per column and series draws the same line, each extreme within a pixel or two sideways (the
// columns are the canvas', not uPlot's own per-pixel buckets; docs/frontend.md "The 60 k render, third
// session"). uPlot's path builder ran its per-point JavaScript
// (scale conversions, min/max scans) over every sample before, most of a large chart's first draw.
// Gaps stay gaps: a missing value ends a column's run, and the first missing value of each empty run
// is kept. Every kept point is a real sample, so the tooltip shows real values and times.
// Pure functions, no DOM.

/** Decimate only past this many points per column: below it uPlot's own pass is cheap enough. */
const POINTS_PER_COLUMN = 4;

/** The first position in xs[lo, hi) whose x is at least `x` (xs ascending). */
function lowerBound(xs, x, lo = 0, hi = xs.length) {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Adds to `picks` the first, lowest, highest and last position of each run of values of one series
 * in ys[a, b) (one pixel column), and the first missing value of each empty run. The loops are kept
 * bare: a chart's first draw runs them before V8 has optimised them. */
function pickRuns(ys, a, b, picks) {
  let i = a;
  while (i < b) {
    let y = ys[i];
    if (y == null) {
      if (i === 0 || ys[i - 1] != null) picks.push(i);
      i++;
      continue;
    }
    const first = i;
    let low = i;
    let high = i;
    let lowY = y;
    let highY = y;
    i++;
    while (i < b) {
      y = ys[i];
      if (y == null) break;
      if (y < lowY) {
        lowY = y;
        low = i;
      } else if (y > highY) {
        highY = y;
        high = i;
      }
      i++;
    }
    if (low < high) picks.push(first, low, high, i - 1);
    else picks.push(first, high, low, i - 1);
  }
}

/** Appends `picks` (a column's positions, few) to `index` in order, each once. */
function appendSorted(picks, index) {
  for (let k = 1; k < picks.length; k++) {
    const p = picks[k];
    let j = k - 1;
    while (j >= 0 && picks[j] > p) {
      picks[j + 1] = picks[j];
      j--;
    }
    picks[j + 1] = p;
  }
  let last = index.length ? index[index.length - 1] : -1;
  for (let k = 0; k < picks.length; k++) if (picks[k] !== last) index.push((last = picks[k]));
}

/**
 * `data` in uPlot's shape ([xs, ...ys], xs ascending) reduced to `columns` pixel columns over
 * [min, max] (default: the whole x range), or null when it has no more than `POINTS_PER_COLUMN` points
 * a column (nothing to gain). Returns `{data, index, min, max}`: `index[k]` is the raw position of
 * drawn point k. Outside [min, max] only the nearest point on each side and the very first and last
 * stay: the line still runs to the plot's edges when zoomed in, and the data's extent (what resetting
 * the zoom returns to) is the whole range.
 */
export function decimate(data, columns, min = null, max = null) {
  const xs = data[0];
  const n = xs.length;
  if (n < 2 || columns < 1) return null;
  const lo = min ?? xs[0];
  const hi = max ?? xs[n - 1];
  const i0 = lowerBound(xs, lo);
  let i1 = lowerBound(xs, hi, i0);
  while (i1 < n && xs[i1] <= hi) i1++;
  if (i1 - i0 <= columns * POINTS_PER_COLUMN && i0 === 0 && i1 === n) return null;
  const width = hi > lo ? (hi - lo) / columns : 1;
  const index = i0 > 1 ? [0, i0 - 1] : i0 > 0 ? [0] : [];
  const picks = [];
  for (let a = i0; a < i1; ) {
    // the column's end: the first x at or past its right edge (at least one point further)
    const b = lowerBound(xs, lo + (Math.floor((xs[a] - lo) / width) + 1) * width, a + 1, i1);
    picks.length = 0;
    for (let s = 1; s < data.length; s++) pickRuns(data[s], a, b, picks);
    appendSorted(picks, index);
    a = b;
  }
  if (i1 < n) index.push(i1);
  if (i1 < n - 1) index.push(n - 1);
  const out = [];
  for (let s = 0; s < data.length; s++) {
    const col = data[s];
    const drawn = new Array(index.length);
    for (let k = 0; k < index.length; k++) drawn[k] = col[index[k]];
    out.push(drawn);
  }
  return { data: out, index, min: lo, max: hi };
}
