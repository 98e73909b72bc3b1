// Live time series without re-reading the whole range: the first request fetches the full window
// (`from=-24h`); every refresh then asks only for the tail (`from=<last bucket>`, same `step`, so the
// buckets line up), merges it into the columns and drops as many old buckets as it added. A 24 h chart
// of 20 hosts thus refreshes with a few buckets' worth of work instead of 1,440. Windows that end at a
// fixed time (`to` is not "now") are not refreshed at all. Without an explicit `step`, the API answers
// at a step no finer than the data itself (30 s samples in 30 s buckets, not 2 s ones: one request).
import { useLayoutEffect, useRef, useState } from "preact/hooks";
import { getJson } from "./api.js";
import { registerQuery } from "./live.js";

const PATH = "/api/metrics/series";
const keyOf = (s) => `${s.agg ?? ""}|${s.host ?? ""}|${JSON.stringify(s.labels || {})}`;

/**
 * Merge a tail answer into `current`; returns `current` itself when nothing changed (no re-render).
 * Keeps the number of buckets of `current` (a sliding window).
 */
export function mergeTail(current, tail) {
  if (!tail || !tail.timestamps || tail.timestamps.length === 0) return current;
  const first = tail.timestamps[0];
  const keep = current.timestamps.findIndex((t) => t >= first);
  const cut = keep === -1 ? current.timestamps.length : keep;
  const oldSeries = new Map(current.series.map((s) => [keyOf(s), s]));
  const tailSeries = new Map(tail.series.map((s) => [keyOf(s), s]));
  const timestamps = current.timestamps.slice(0, cut).concat(tail.timestamps);
  const drop = Math.max(0, timestamps.length - Math.max(current.timestamps.length, 1));
  let changed = timestamps.length !== current.timestamps.length || timestamps[timestamps.length - 1] !== current.timestamps[current.timestamps.length - 1];
  const series = [];
  for (const [k, s] of new Map([...oldSeries, ...tailSeries])) {
    const old = oldSeries.get(k);
    const t = tailSeries.get(k);
    const head = old ? old.values.slice(0, cut) : new Array(cut).fill(null);
    const tv = t ? t.values : new Array(tail.timestamps.length).fill(null);
    const values = head.concat(tv).slice(drop);
    if (!changed) {
      const before = old ? old.values : null;
      changed = !before || values.some((v, i) => v !== before[i]);
    }
    series.push({ ...(old || s), values });
  }
  if (!changed && series.length === current.series.length) return current;
  return { ...current, timestamps: timestamps.slice(drop), series };
}

/** Like `useApi(PATH, params)` but refreshes by tail. `params === null` disables it. */
export function useSeries(params, { live = true } = {}) {
  const key = params === null ? null : JSON.stringify(params);
  const [state, setState] = useState({ data: undefined, error: null, loading: key !== null });
  const data = useRef(undefined);

  useLayoutEffect(() => {
    // as `useApi`: request at render, not after the next paint (the overview's charts wait on this)
    let alive = true;
    data.current = undefined;
    if (key === null) {
      setState({ data: undefined, error: null, loading: false });
      return undefined;
    }
    setState((s) => ({ data: s.data, error: null, loading: true }));
    const show = (next) => {
      if (!alive) return;
      if (next !== data.current) data.current = next;
      setState((s) => (s.data === next && !s.error && !s.loading ? s : { data: next, error: null, loading: false }));
    };
    const fail = (error) => alive && setState((s) => ({ data: s.data, error, loading: false }));
    // a tick or a pushed change while the first answer is still on its way joins it (no second read)
    let pending = null;
    const full = () => {
      pending = pending || getJson(PATH, params).then(({ data: d }) => show(d), fail).finally(() => { pending = null; });
      return pending;
    };
    const refresh = () => {
      const cur = data.current;
      if (!cur || !cur.timestamps || cur.timestamps.length === 0 || !cur.step) return full();
      const last = cur.timestamps[cur.timestamps.length - 1];
      const tailParams = { ...params, from: String(last - cur.step), to: "now", step: String(cur.step) };
      return getJson(PATH, tailParams).then(({ data: t }) => show(mergeTail(cur, t)), fail);
    };
    full();
    const endsNow = !params.to || params.to === "now";
    const unregister = live && endsNow ? registerQuery(refresh, { path: PATH, params }) : () => {};
    return () => {
      alive = false;
      unregister();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, live]);

  return state;
}
