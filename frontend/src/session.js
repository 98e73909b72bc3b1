// What every page may need about the signed-in session: the role (admin controls are hidden for
// viewers; the API refuses them anyway), the metric catalogue (units and titles), and config.json.
import { createContext } from "preact";
import { useContext } from "preact/hooks";

export const Session = createContext({ role: "viewer", isAdmin: false, catalog: [], byName: new Map(), config: {} });

export function useSession() {
  return useContext(Session);
}

/** Catalogue entry for a metric name (falls back to the name itself, unit unknown). */
export function metricInfo(session, name) {
  return session.byName.get(name) || { name, title: name, unit: "", section: "other" };
}
