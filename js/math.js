// $…$ and $$…$$ typeset as MathML by KaTeX (bundled: no CDN, no fonts to load). The browser
// typesets MathML itself, as it does the static answer's (render/mathml.py), so the switch from
// live to static changes nothing. Each formula is converted once: re-rendering the growing
// block of an answer reuses the formulas it already had. KaTeX's markup passes the same
// allow-list as the static answer's (mathml.js), whatever KaTeX's own options let through.
import katex from "katex";
import { safeMathml } from "./mathml.js";
import { styles } from "./rules.js";

const cache = new Map();
const LIMIT = 2000;

export function texToMathml(tex, { displayMode }) {
  const key = `${displayMode ? "B" : "I"}${tex}`;
  let html = cache.get(key);
  if (html === undefined) {
    // throwOnError: false shows unreadable TeX in place; trust: false keeps \href and \url inert
    html = safeMathml(katex.renderToString(tex, { displayMode, output: "mathml", throwOnError: false, trust: false }));
    if (displayMode) html = `<span style="${styles.math_block}">${html}</span>`; // as render/mathml.py
    if (cache.size >= LIMIT) cache.delete(cache.keys().next().value);
    cache.set(key, html);
  }
  return html;
}
