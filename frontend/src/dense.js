// The path of a dense line (at least 4 points per pixel column): uPlot's own decimation — per column
// the first point, the lowest, the highest and the last — in one small loop. uPlot's general builder
// holds every path kind in one large function: on a fresh page V8 ran its loop over the first 60,000
// points interpreted for ~20 ms while it compiled it (the second series, same size, then took 0.2 ms).
// This one compiles in about a millisecond. It issues the same path commands from the same
// arithmetic (uPlot's `valToPos`/`posToVal`, compared in pixels as uPlot does), so it draws the same
// pixels; a series with a fill or a missing value, or fewer points, is left to uPlot's builder.
// Assumes what Chart.jsx sets: linear scales, horizontal x ascending, `pxAlign: 0` (no rounding).
import uPlot from "uplot";

const linear = uPlot.paths.linear();

export function denseLine(u, sidx, i0, i1) {
  const s = u.series[sidx];
  if (s.fill(u, sidx) || i1 - i0 < u.bbox.width * 4) return linear(u, sidx, i0, i1);
  const xs = u.data[0];
  const ys = u.data[sidx];
  // uPlot's valToPos(v, key, true) for linear scales, its operations in its order (the same floats)
  const { left, top, width, height } = u.bbox;
  const sx = u.scales.x;
  const sy = u.scales[s.scale];
  const X = (v) => left + width * ((v - sx.min) / (sx.max - sx.min));
  const Y = (v) => top + height * (1 - (v - sy.min) / (sy.max - sy.min));
  const stroke = new Path2D();
  // a column's lowest, highest, first and last values, drawn as uPlot's drawAcc does
  const column = (x, lo, hi, first, last) => {
    const l = Y(lo);
    const h = Y(hi);
    const f = Y(first);
    const e = Y(last);
    if (l != h) {
      if (f != l && e != l) stroke.lineTo(x, l);
      if (f != h && e != h) stroke.lineTo(x, h);
      stroke.lineTo(x, e);
    }
  };
  let colX = X(xs[i0]);
  let next = u.posToVal(colX + 1, "x", true); // the first x value of the next pixel column
  let lo = null;
  let hi;
  let first;
  let last;
  for (let i = i0; i <= i1; i++) {
    const y = ys[i];
    if (y == null) return linear(u, sidx, i0, i1); // gaps: uPlot finds and clips them
    const x = xs[i] < next ? colX : X(xs[i]);
    if (x == colX && lo !== null) {
      last = y;
      if (y < lo) lo = y;
      else if (y > hi) hi = y;
    } else {
      if (lo !== null) column(colX, lo, hi, first, last);
      stroke.lineTo(x, Y(y));
      first = last = lo = hi = y;
      if (x != colX) next = u.posToVal((colX = x) + 1, "x", true);
    }
  }
  column(colX, lo, hi, first, last);
  return { stroke, fill: null, clip: null, band: null, gaps: [], flags: 1 }; // no gaps: nothing to join or clip
}
