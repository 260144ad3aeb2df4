// A reasoning model's thinking in the live view: a section per phase, where it came.
//
// The kernel sends each section's state whole, as {kind: "thought", id, done, label, hidden},
// upserted by id (render/thinking.py), and its text as deltas {kind: "think", id, at, text},
// `at` being the offset in that section's text. While it thinks, the section is open, its text
// streaming, its line counting "Thinking… 12 s"; once done it collapses to the kernel's line
// ("Thought for 14 s · 2,310 reasoning tokens"), which a click opens: the static answer's
// <details>, with the same styles (think_look.json), so the switch moves nothing. The thinking
// is model output: rendered by the answer's markdown renderer (markdown.js), its line as text.

import look from "../llmring_jupyter/render/think_look.json";
import { IncrementalMarkdown } from "./incremental.js";

/** A section's element and its state; `update()` renders its text, `tick()` its running line.
 * A `hidden` one is thinking the provider billed but did not show: its line alone, as saved. */
export function thought(doc, hidden) {
  const el = doc.createElement(hidden ? "div" : "details");
  el.className = "llmring-think";
  el.style.cssText = look.block_style;
  el.innerHTML = hidden ? "<span></span>" : `<summary></summary><div class="llmring-think-text"></div>`;
  const line = el.firstChild;
  line.style.cssText = look.summary_style;
  const body = el.querySelector(".llmring-think-text");
  if (body) body.style.cssText = look.text_style;
  const renderer = body && new IncrementalMarkdown(body);
  const started = performance.now();
  let text = "";
  let shown = 0;
  let done = false;
  el.open = true;
  const section = {
    el,
    /** Take a delta; false if it comes after a gap (the kernel re-sends the whole text on "ready"). */
    add(at, delta) {
      if (at > text.length) return false;
      text += delta.slice(text.length - at);
      return true;
    },
    update() {
      if (!renderer || text.length === shown) return;
      renderer.update(text);
      shown = text.length;
    },
    tick() {
      if (!done) line.textContent = `Thinking… ${Math.floor((performance.now() - started) / 1000)} s`;
    },
    fill(msg) {
      if (msg.done && !done) el.open = false; // the answer's text begins: one line, opened on a click
      done = msg.done;
      if (done) line.textContent = msg.label;
      else section.tick();
    },
  };
  return section;
}
