// The overview's critical requests, sent by the entry (`main.jsx`) as soon as the token is known —
// before the app's own modules (pages, uPlot) have loaded — and asked for again by the page itself,
// which then finds these answers (`api.prefetch`). Small on purpose: the entry imports it.
import { prefetch } from "../api.js";

export const RESPONSE_METRIC = "http.server.request.duration";
export const RANGE_KEY = "vigil.overview.default-range";
// every host in one request for fleets up to the API's largest page (the default page of 100 would
// make a fleet of 101 wait for a second, sequential request before the charts can ask for their range)
export const HOSTS_QUERY = { limit: 1000 };

/** The charts' one request: the API reads and merges the histograms once for all four aggs. */
export const chartQuery = (range) => ({ metric: RESPONSE_METRIC, from: `-${range}`, to: "now", group_by: "none", agg: "p50,p95,p99,rate" });

/**
 * Send the overview's critical requests at boot, before the app has loaded and the shell renders:
 * the hosts (they decide the default range) and the charts' series for the range in the URL, else the
 * remembered default, else a guess of 1 h. The guess is the cheap one: a fleet first seen less than a
 * day ago (a new install, where a first visit is likeliest) gets 1 h anyway, and when the hosts say
 * 24 h the wasted request read an hour of data, not a day. The page's own requests then find these
 * answers; nothing is drawn before the page has decided its range from the hosts.
 */
export function prefetchOverview(params = {}) {
  prefetch("/api/hosts", HOSTS_QUERY);
  prefetch("/api/metrics/series", chartQuery(params.range || localStorage.getItem(RANGE_KEY) || "1h"));
}
