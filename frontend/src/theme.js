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

// 12 series colours per theme: 11 hues 30-odd degrees apart at one lightness (red left out: it means
// "threshold" and "bad"), plus grey.
export const PALETTE = {
  light: ["#1d6fd8", "#ae6113", "#13ae61", "#6113ae", "#13a2ae", "#ae1361", "#61ae13", "#1313ae", "#aea213", "#13ae13", "#ae13ae", "#4b5563"],
  dark: ["#60a5fa", "#eea863", "#63eea8", "#a863ee", "#63e2ee", "#ee63a8", "#a8ee63", "#6363ee", "#eee263", "#63ee63", "#ee63ee", "#9ca3af"],
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
