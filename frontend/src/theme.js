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
  // the installed app's title bar follows the toggle too (index.html's per-scheme defaults: the header)
  for (const meta of document.querySelectorAll("meta[name=theme-color]")) meta.content = theme === "dark" ? "#181c23" : "#ffffff";
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

// 12 series colours per theme, no two of one family (one blue, one green, one pink…) and no red: red
// means "threshold" and "bad".
export const PALETTE = {
  light: ["#1d6fd8", "#c45a00", "#13864a", "#7c3aed", "#0e8fa3", "#c0268f", "#7a8a00", "#1e3a8a", "#8b5a2b", "#0f5e56", "#4b5563", "#b7950b"],
  dark: ["#60a5fa", "#fb923c", "#4ade80", "#a78bfa", "#22d3ee", "#f472b6", "#bef264", "#818cf8", "#d6a36b", "#2dd4bf", "#9ca3af", "#facc15"],
};

function hash(text) {
  let h = 2166136261; // FNV-1a
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

/**
 * A palette index per label, stable across charts and refreshes: each label's colour comes from a hash
 * of its name (so "web-1" is the same colour wherever it appears); labels that collide within one
 * chart take the next free colour, in label order.
 */
export function colourSlots(labels, size = PALETTE.light.length) {
  const taken = new Set();
  return labels.map((label) => {
    let slot = hash(label) % size;
    for (let k = 0; k < size && taken.has(slot); k++) slot = (slot + 1) % size;
    taken.add(slot);
    return slot;
  });
}
