// Benchmark page (`#/bench?points=60000&series=2`): draws one uPlot chart of synthetic data and
// records how long the render took, as `vigil:bench-render` and in `window.vigilBench`: from the page's
// first render (the data made) to the chart's first draw. The clock starts once: the app renders the
// page again when `/api/me` answers, and a clock restarted there left the chart's creation out.
// `now` (epoch s) fixes the data's last time and `decimate=0` draws every point, so a browser test can
// compare the decimated chart with the chart of every point.
// Not linked from the navigation; `bench/bench_dashboard.py` opens it.
import { useMemo, useRef } from "preact/hooks";
import { Chart } from "../components/Chart.jsx";
import { number } from "../format.js";

export function Bench({ params }) {
  const points = Math.min(Number(params.points) || 60000, 1000000);
  const count = Math.min(Number(params.series) || 2, 8);
  const end = useMemo(() => Number(params.now) || Math.floor(Date.now() / 1000), [params.now]); // once: the page renders again
  const started = useRef(0);
  const renders = useRef(0);
  renders.current += 1;
  const data = useMemo(() => {
    const ts = new Array(points);
    const series = [];
    for (let i = 0; i < points; i++) ts[i] = end - (points - i) * 10;
    for (let s = 0; s < count; s++) {
      const v = new Array(points);
      for (let i = 0; i < points; i++) v[i] = 50 + 30 * Math.sin(i / 500 + s) + 10 * Math.sin(i / 13) + ((i * 7919 + s * 104729) % 100) / 20;
      series.push({ label: `series ${s + 1}`, values: v });
    }
    return { ts, series };
  }, [points, count, end]);
  if (!started.current) {
    started.current = performance.now();
    performance.mark("vigil:bench-start");
  }
  const onDrawn = () => {
    if (window.vigilBench) return;
    // to the chart's draw mark itself: a pause between it and this callback (a GC) is not drawing
    const ms = performance.getEntriesByName("vigil:chart-drawn:bench")[0].startTime - started.current;
    performance.measure("vigil:bench-render", "vigil:bench-start");
    window.vigilBench = { points, series: count, renderMs: ms, renders: renders.current };
  };
  if (window.vigilBench) window.vigilBench.renders = renders.current; // the browser test's witness
  return (
    <div class="page">
      <h1>Chart benchmark</h1>
      <p class="muted">
        {number(points)} points × {count} series
      </p>
      <Chart id="bench" timestamps={data.ts} series={data.series} unit="%" height={360} onDrawn={onDrawn} decimate={params.decimate !== "0"} />
    </div>
  );
}
