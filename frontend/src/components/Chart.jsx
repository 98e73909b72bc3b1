// uPlot wrapper. The uPlot instance is created once per chart *shape* (series names, type, unit,
// theme) and later data only goes through `setData`, so a refresh never recreates the canvas: no
// flicker, no layout shift (the container reserves the height before data arrives). Adds a tooltip
// with exact values and units, an accessible legend (buttons toggling series), drag-to-zoom, stacked
// areas for the first `stack` series (uPlot bands between the running sums; the tooltip shows each
// series' own value) and a performance mark per render (`vigil:chart-drawn:<id>`).
import uPlot from "uplot";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { fmtAxis, fmtTime, fmtValue } from "../format.js";
import { decimate } from "../decimate.js";
import { JOIN_INTERVALS, reportingInterval } from "../gaps.js";
import { PALETTE, colourSlots, cssVar, useTheme } from "../theme.js";

const intervals = new WeakMap(); // values array → its reporting interval (s), computed once per answer

/** Join empty runs shorter than `JOIN_INTERVALS` of the series' own reporting interval (a 30 s series
 * in 2 s buckets draws as a line); longer runs stay visible gaps (a host that stopped reporting). The
 * interval is the whole answer's (`full`), not the decimated points'. */
function joinSparseGaps(u, full, sidx, nullGaps) {
  if (!nullGaps || nullGaps.length === 0) return nullGaps;
  const xs = full[0];
  const ys = full[sidx];
  if (!intervals.has(ys)) intervals.set(ys, reportingInterval(xs, ys));
  const interval = intervals.get(ys);
  if (!interval || xs.length < 2) return nullGaps;
  const x0 = xs[0];
  const joinPx = Math.abs(u.valToPos(x0 + interval * JOIN_INTERVALS, "x", true) - u.valToPos(x0, "x", true));
  return nullGaps.filter(([from, to]) => to - from > joinPx);
}

/** Y axis width that fits its longest label (uPlot calls this until the size settles). */
function axisWidth(u, values, axisIdx, cycleNum) {
  const axis = u.axes[axisIdx];
  if (cycleNum > 1) return axis._size;
  let size = axis.ticks.size + axis.gap + 4;
  const longest = (values || []).reduce((a, v) => (String(v).length > a.length ? String(v) : a), "");
  if (longest) {
    u.ctx.font = axis.font[0];
    size += u.ctx.measureText(longest).width / devicePixelRatio;
  }
  return Math.ceil(size);
}

/** Bars are centred on their x: widen the x range by half a step each side so the first and last
 * bars are drawn whole, not cut in half by the plot's edges. */
function barXRange(u, min, max) {
  const xs = u.data[0];
  if (min === null || max === null || !xs || xs.length < 2) return [min, max];
  const half = (xs[xs.length - 1] - xs[0]) / (xs.length - 1) / 2;
  return [min - half, max + half];
}

function fill(color) {
  return `${color}33`;
}

/**
 * The data as drawn when the first `n` series are stacked: each of them becomes the running sum of
 * itself and the ones before it (a missing value counts as 0 unless all `n` are missing: then it stays
 * a gap); later series are unchanged.
 */
export function stackData(data, n) {
  if (!n) return data;
  const [xs, ...ys] = data;
  const top = ys.slice(0, n);
  // each point's running sum, null where all n are missing (no copy of the n series per point)
  const sums = xs.map((_, i) => (top.some((v) => v[i] != null) ? 0 : null));
  const stacked = top.map((v) => v.map((y, i) => (sums[i] === null ? null : (sums[i] += y ?? 0))));
  return [xs, ...stacked, ...ys.slice(n)];
}

/** What uPlot draws of `full` at `width` CSS pixels over [min, max]: decimated to the canvas' device
 * pixel columns (`decimate.js`), or null to draw `full` as it is (`whole`: bars, one per bucket). */
function fitted(full, width, whole, min = null, max = null) {
  return whole ? null : decimate(full, Math.ceil(width * devicePixelRatio), min, max);
}

/** The part of the data's x range `u` shows, or null when it shows all of it (not zoomed in). */
function zoomRange(u, xs) {
  const first = xs[0];
  const last = xs[xs.length - 1];
  const { min, max } = u.scales.x;
  return min > first || max < last ? [Math.max(min, first), Math.min(max, last)] : null;
}

function tooltipPlugin(unit, labels, raw, view) {
  let tip;
  return {
    hooks: {
      init: (u) => {
        tip = document.createElement("div");
        tip.className = "chart-tip";
        tip.setAttribute("role", "status");
        tip.hidden = true;
        u.over.appendChild(tip);
      },
      setCursor: (u) => {
        const i = u.cursor.idx;
        if (i === null || i === undefined || u.cursor.left < 0) {
          tip.hidden = true;
          return;
        }
        const rows = [`<div class="tip-time">${fmtTime(u.data[0][i])}</div>`];
        for (let s = 1; s < u.series.length; s++) {
          if (!u.series[s].show) continue;
          const v = raw.current[s][view.current ? view.current.index[i] : i];
          const name = labels[s - 1].replace(/[<>&]/g, "");
          rows.push(`<div><span class="sw" style="background:${u.series[s].stroke()}"></span>${name}: <b>${fmtValue(v, unit, 3)}</b></div>`);
        }
        tip.innerHTML = rows.join("");
        tip.hidden = false;
        const w = tip.offsetWidth;
        const left = u.cursor.left + 12 + w > u.over.clientWidth ? u.cursor.left - w - 12 : u.cursor.left + 12;
        tip.style.transform = `translate(${Math.max(0, left)}px, ${Math.max(0, u.cursor.top - 10)}px)`;
      },
    },
  };
}

/** Shaded bands and dashed forecast lines of each series (`overlays[i]` belongs to series i), drawn
 * under the series in the series' own colour. */
function drawOverlays(u, xs, overlays, colors) {
  const { ctx } = u;
  ctx.save();
  ctx.beginPath();
  ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
  ctx.clip();
  overlays.forEach((o, i) => {
    if (!o || !u.series[i + 1] || !u.series[i + 1].show) return;
    const x = (t) => u.valToPos(t, "x", true);
    const y = (v) => u.valToPos(v, "y", true);
    if (o.band) {
      ctx.fillStyle = `${colors[i]}40`;
      let run = [];
      const flush = () => {
        if (run.length > 1) {
          ctx.beginPath();
          run.forEach(([t, lo], k) => (k ? ctx.lineTo(x(t), y(lo)) : ctx.moveTo(x(t), y(lo))));
          [...run].reverse().forEach(([t, , hi]) => ctx.lineTo(x(t), y(hi)));
          ctx.closePath();
          ctx.fill();
        }
        run = [];
      };
      xs.forEach((t, k) => (o.band.lower[k] == null ? flush() : run.push([t, o.band.lower[k], o.band.upper[k]])));
      flush();
    }
    if (o.forecast) {
      const [t0, t1] = o.forecast.timestamps;
      const [v0, v1] = o.forecast.values;
      ctx.strokeStyle = colors[i];
      ctx.setLineDash([8 * devicePixelRatio, 5 * devicePixelRatio]);
      ctx.lineWidth = 2 * devicePixelRatio;
      ctx.beginPath();
      ctx.moveTo(x(t0), y(v0));
      ctx.lineTo(x(t1), y(v1));
      ctx.stroke();
    }
  });
  ctx.restore();
}

/** [min, max] over the overlays' values and times (so the scales include them). */
function overlayExtent(overlays, which) {
  let lo = null;
  let hi = null;
  const see = (v) => {
    if (v == null || !Number.isFinite(v)) return;
    lo = lo === null ? v : Math.min(lo, v);
    hi = hi === null ? v : Math.max(hi, v);
  };
  for (const o of overlays || []) {
    if (!o) continue;
    if (which === "x" && o.forecast) o.forecast.timestamps.forEach(see);
    if (which === "y" && o.forecast) o.forecast.values.forEach(see);
    if (which === "y" && o.band) [...o.band.lower, ...o.band.upper].forEach(see);
  }
  return [lo, hi];
}

/** The x range widened to the end of a forecast line, so the prediction is visible. */
function forecastXRange(overlays, min, max) {
  const end = overlayExtent(overlays, "x")[1];
  return [min, end !== null && max !== null ? Math.max(max, end) : max];
}

function buildOptions({ id, width, height, labels, dashed, unit, type, theme, sparkline, threshold, hidden, onZoom, onDrawn, getOverlays, stack = 0, raw, full, view, onScaleX }) {
  const palette = PALETTE[theme];
  const colors = colourSlots(labels).map((i) => palette[i]);
  const axisColor = cssVar("--fg-muted");
  const grid = cssVar("--grid");
  const bars = type === "bar" ? uPlot.paths.bars({ size: [0.7, 40] }) : undefined;
  const series = [
    {},
    ...labels.map((label, i) => {
      const c = colors[i];
      return {
        label,
        stroke: c,
        width: sparkline || dashed[i] ? 1.5 : 2,
        dash: dashed[i] ? [5, 4] : undefined,
        fill: type === "area" || type === "bar" || sparkline || i < stack ? fill(c) : undefined,
        paths: bars,
        points: sparkline ? { show: false } : { size: 4 },
        show: !hidden.has(label),
        gaps: (u, sidx, _i0, _i1, nullGaps) => joinSparseGaps(u, full.current, sidx, nullGaps),
      };
    }),
  ];
  const hooks = {
    draw: [
      (u) => {
        u.root.parentNode.dataset.points = u.data[0].length; // how many points it drew (tests read it)
        performance.mark(`vigil:chart-drawn:${id}`);
        if (onDrawn) onDrawn(id);
      },
    ],
  };
  hooks.drawAxes = [(u) => drawOverlays(u, full.current[0], getOverlays() || [], colors)];
  hooks.setScale = [(u, key) => key === "x" && onScaleX(u)];
  if (threshold !== undefined && threshold !== null) {
    hooks.draw.unshift((u) => {
      const y = u.valToPos(threshold, "y", true);
      const { ctx } = u;
      ctx.save();
      ctx.strokeStyle = cssVar("--bad");
      ctx.setLineDash([6, 4]);
      ctx.lineWidth = 1.5 * devicePixelRatio;
      ctx.beginPath();
      ctx.moveTo(u.bbox.left, y);
      ctx.lineTo(u.bbox.left + u.bbox.width, y);
      ctx.stroke();
      ctx.restore();
    });
  }
  if (onZoom) {
    hooks.setSelect = [
      (u) => {
        if (u.select.width < 5) return;
        const min = u.posToVal(u.select.left, "x");
        const max = u.posToVal(u.select.left + u.select.width, "x");
        u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
        u.setScale("x", { min, max });
        onZoom(Math.floor(min), Math.ceil(max));
      },
    ];
  }
  const yRange = (u, dmin, dmax) => {
    const [olo, ohi] = overlayExtent(getOverlays(), "y");
    let lo = olo === null || dmin === null ? dmin ?? olo : Math.min(dmin, olo);
    let hi = ohi === null || dmax === null ? dmax ?? ohi : Math.max(dmax, ohi);
    if (threshold !== undefined && threshold !== null) {
      lo = Math.min(lo ?? threshold, threshold);
      hi = Math.max(hi ?? threshold, threshold);
    }
    if (lo === null || hi === null || lo === undefined) return [0, 1];
    if (type === "bar" || type === "area" || stack || lo >= 0) lo = Math.min(0, lo);
    if (hi === lo) hi = lo + 1;
    return [lo, hi + (hi - lo) * 0.05];
  };
  return {
    width,
    height,
    pxAlign: 0,
    legend: { show: false },
    cursor: sparkline ? { show: false } : { drag: { x: true, y: false, setScale: !onZoom }, points: { size: 6 } },
    select: { show: !sparkline },
    scales: { x: type === "bar" ? { time: true, range: barXRange } : { time: true, range: (u, min, max) => forecastXRange(getOverlays(), min, max) }, y: { range: yRange } },
    axes: sparkline
      ? [{ show: false }, { show: false }]
      : [
          { stroke: axisColor, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } },
          {
            stroke: axisColor,
            grid: { stroke: grid, width: 1 },
            ticks: { stroke: grid },
            size: axisWidth,
            values: (u, splits) => fmtAxis(splits, unit),
          },
        ],
    series,
    // series i+1 is drawn above series i: fill only the band between their running sums
    bands: Array.from({ length: Math.max(0, Math.min(stack, labels.length) - 1) }, (_, i) => ({ series: [i + 2, i + 1] })),
    hooks,
    plugins: sparkline ? [] : [tooltipPlugin(unit, labels, raw, view)],
  };
}

/**
 * props: id, timestamps (epoch s), series [{label, values, dashed?}], unit, type line|area|bar, height,
 * sparkline, threshold, overlays [{band?: {lower, upper}, forecast?: {timestamps, values}}] (one per
 * series: a shaded band, a dashed forecast line), onZoom(min, max), onResetZoom(), onDrawn(id), ariaLabel,
 * stack (how many of the first series are stacked), decimate (default true: a series with more points
 * than the canvas has pixel columns draws each column's first, lowest, highest and last; `decimate.js`).
 */
export function Chart(props) {
  const { id, timestamps, series, unit, type = "line", height = 240, sparkline = false, threshold, overlays, onZoom, onResetZoom, onDrawn, ariaLabel, stack = 0, decimate: thin = true } = props;
  const whole = type === "bar" || !thin; // every point drawn
  const theme = useTheme();
  const box = useRef(null);
  const plot = useRef(null);
  const [hidden, setHidden] = useState(() => new Set());
  const labels = series.map((s) => s.label);
  const dashed = series.map((s) => Boolean(s.dashed));
  const shape = `${labels.join("\u0001")}|${dashed}|${unit}|${type}|${theme}|${sparkline}|${threshold}|${Boolean(onZoom)}|${stack}`;
  const data = [timestamps || [], ...series.map((s) => s.values)];
  const raw = useRef(data);
  raw.current = data; // the tooltip reads each series' own values, not the stacked sums
  const drawn = stackData(data, stack);
  const full = useRef(drawn);
  full.current = drawn;
  const view = useRef(null); // what uPlot draws of `full` (`fitted`), or null: all of it
  const latest = useRef({});
  latest.current = { onZoom, onDrawn, onResetZoom, overlays };

  useLayoutEffect(() => {
    const el = box.current;
    const width = Math.max(el.clientWidth, 100);
    /** Decimate anew for the chart's width and the x range it shows, and redraw (not when every point
     * was drawn and still is: a resize has redrawn those). */
    const refit = (u) => {
      const [min, max] = zoomRange(u, full.current[0]) || [null, null];
      const next = fitted(full.current, u.width, whole, min, max);
      if (!next && !view.current) return;
      view.current = next;
      u.setData(next ? next.data : full.current, false);
      u.redraw();
    };
    /** A zoom into decimated data (or back out) draws the samples of the range it shows. */
    const onScaleX = (u) => {
      const v = view.current;
      if (!v) return;
      const xs = full.current[0];
      const [min, max] = zoomRange(u, xs) || [xs[0], xs[xs.length - 1]];
      if (min !== v.min || max !== v.max) queueMicrotask(() => plot.current === u && refit(u));
    };
    const opts = buildOptions({
      id, width, height, labels, dashed, unit, type, theme, sparkline, threshold, hidden,
      getOverlays: () => latest.current.overlays,
      onZoom: onZoom ? (a, b) => latest.current.onZoom(a, b) : undefined,
      onDrawn: (x) => latest.current.onDrawn && latest.current.onDrawn(x),
      stack,
      raw,
      full,
      view,
      onScaleX,
    });
    view.current = fitted(drawn, width, whole);
    const u = new uPlot(opts, view.current ? view.current.data : drawn, el);
    plot.current = u;
    const ro = new ResizeObserver(() => {
      const w = el.clientWidth;
      if (w <= 0 || w === u.width) return;
      u.setSize({ width: w, height });
      refit(u); // as many columns as the new width
    });
    ro.observe(el);
    const reset = () => latest.current.onResetZoom && latest.current.onResetZoom();
    u.over.addEventListener("dblclick", reset);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shape, height]);

  const first = useRef(true);
  useLayoutEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    if (plot.current) {
      view.current = fitted(drawn, plot.current.width, whole);
      plot.current.setData(view.current ? view.current.data : drawn);
    }
    // data identity changes only when the API answered with new content (304 keeps the object)
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [timestamps, overlays, ...series.map((s) => s.values)]);

  useEffect(() => {
    // drop toggles for series that no longer exist
    setHidden((h) => (h.size ? new Set([...h].filter((l) => labels.includes(l))) : h));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [labels.join("\u0001")]);

  const toggle = (i) => {
    const label = labels[i];
    const next = new Set(hidden);
    if (next.has(label)) next.delete(label);
    else next.add(label);
    setHidden(next);
    if (plot.current) plot.current.setSeries(i + 1, { show: !next.has(label) });
  };

  const colors = colourSlots(labels).map((i) => PALETTE[theme][i]);
  return (
    <figure class={`chart ${sparkline ? "spark" : ""}`} aria-label={ariaLabel || id}>
      <div class="chart-box" ref={box} style={{ height: `${height}px` }} role="img" aria-label={ariaLabel || id} />
      {!sparkline && labels.length > 0 && (
        <figcaption class="legend">
          {labels.map((label, i) => (
            <button
              type="button"
              key={label}
              class="legend-item"
              aria-pressed={!hidden.has(label)}
              title={hidden.has(label) ? `Show ${label}` : `Hide ${label}`}
              onClick={() => toggle(i)}
            >
              <span class="sw" style={{ background: colors[i] }} />
              {label}
            </button>
          ))}
        </figcaption>
      )}
    </figure>
  );
}
