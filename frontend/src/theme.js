// Light/dark theme: follows prefers-color-scheme until the user picks one with the toggle; the pick
// is kept in localStorage. `data-theme` on <html> drives the CSS variables; charts re-read them.
import { useEffect, useState } from "preact/hooks";

const KEY = "vigil.theme";
const media = window.matchMedia("(prefers-color-scheme: dark)");
const listeners = new Set();

export function effectiveTheme() {
  const chosen = localStorage.getItem(KEY);
  if (chosen === "dark" || chosen === "light") return chosen;
  return media.matches ? "dark" : "light";
}

function apply() {
  const theme = effectiveTheme();
  document.documentElement.dataset.theme = theme;
  for (const fn of listeners) fn(theme);
}

export function toggleTheme() {
  localStorage.setItem(KEY, effectiveTheme() === "dark" ? "light" : "dark");
  apply();
}

media.addEventListener("change", apply);
apply();

export function useTheme() {
  const [theme, setTheme] = useState(effectiveTheme());
  useEffect(() => {
    listeners.add(setTheme);
    return () => listeners.delete(setTheme);
  }, []);
  return theme;
}

/** Current value of a CSS custom property (charts draw on canvas, so they need real colours). */
export function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

export const PALETTE = {
  light: ["#1d6fd8", "#c2410c", "#047857", "#b91c1c", "#7c3aed", "#0f766e", "#be185d", "#4b5563"],
  dark: ["#60a5fa", "#fb923c", "#34d399", "#f87171", "#a78bfa", "#2dd4bf", "#f472b6", "#9ca3af"],
};
