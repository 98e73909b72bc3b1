// What every page may need about the signed-in session: the role (admin controls are hidden for
// viewers; the API refuses them anyway), the metric catalogue (units and titles), and config.json.
// `catalogLoaded`: the catalogue has answered (or failed). Until then a value whose unit comes from it
// would read wrong (a ratio rule's 90 % as 0.9), so pages that show one wait for it.
import { createContext } from "preact";
import { useContext } from "preact/hooks";

export const Session = createContext({ role: "viewer", isAdmin: false, catalog: [], catalogLoaded: false, byName: new Map(), config: {} });

export function useSession() {
  return useContext(Session);
}

/** Catalogue entry for a metric name (falls back to the name itself, unit unknown). */
export function metricInfo(session, name) {
  return session.byName.get(name) || { name, title: name, unit: "", section: "other" };
}
