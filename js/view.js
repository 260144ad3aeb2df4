// The live view of one streaming answer (an anywidget ES module).
//
// The kernel sends only deltas, as custom messages {kind: "delta", at, text}
// where `at` is the offset of `text` in the answer. Custom messages sent
// before this view rendered are dropped by the frontend, so the view starts
// from the synced `text` trait, says {kind: "ready", length} and the kernel
// answers with everything from that offset: the text shown is always exact.
//
// Model output is untrusted: see markdown.js for how it is made safe.

import { md } from "./markdown.js";
import viewCss from "./view.css";
import { jsonView } from "./json.js";

// The only states a live view is ever in: once the answer ends, the static answer replaces it.
const STATUS = {
  waiting: "waiting for the first token…",
  streaming: "streaming",
  stopping: "stopping…",
};

// The view's CSS travels inside this module (added to each document once), not
// as anywidget's per-widget `_css`, so no answer pays for it again.
function addStyle(doc) {
  if (doc.getElementById("llmring-jupyter-view-css")) return;
  const style = doc.createElement("style");
  style.id = "llmring-jupyter-view-css";
  style.textContent = viewCss;
  doc.head.appendChild(style);
}

function render({ model, el }) {
  addStyle(el.ownerDocument);
  el.classList.add("llmring-view");
  el.innerHTML = `
    <div class="llmring-answer" aria-live="polite"></div>
    <div class="llmring-bar">
      <span class="llmring-dot"></span>
      <span class="llmring-status"></span>
      <span class="llmring-hint"></span>
      <button class="llmring-stop" type="button" title="Stop generating (keeps the text so far)">■ Stop</button>
    </div>`;
  const answer = el.querySelector(".llmring-answer");
  const status = el.querySelector(".llmring-status");
  const hint = el.querySelector(".llmring-hint");
  const stop = el.querySelector(".llmring-stop");

  let text = model.get("text") || "";
  const started = performance.now();
  let pending = false;
  let lastCost = 0;
  let askedAt = 0;

  // Re-render markdown at most once a frame, and less often when rendering is slow.
  const json = model.get("format") === "json" ? jsonView(answer) : null; // --schema / --json
  const paint = () => {
    pending = false;
    const t0 = performance.now();
    if (json) json.update(text);
    else answer.innerHTML = md.render(text);
    lastCost = performance.now() - t0;
    updateStatus();
  };
  const schedule = () => {
    if (pending) return;
    pending = true;
    const wait = Math.max(0, lastCost * 3 - 16);
    if (wait > 0) setTimeout(() => requestAnimationFrame(paint), wait);
    else requestAnimationFrame(paint);
  };

  const askForRest = () => {
    const now = performance.now();
    if (now - askedAt < 250) return;
    askedAt = now;
    model.send({ kind: "ready", length: text.length });
  };

  const onMessage = (msg) => {
    if (!msg || msg.kind !== "delta") return;
    if (msg.at <= text.length) {
      const fresh = msg.text.slice(text.length - msg.at);
      if (fresh) text += fresh;
    } else {
      askForRest(); // a delta went missing: ask for everything after what we have
      return;
    }
    schedule();
  };
  const onText = () => {
    const synced = model.get("text") || "";
    if (synced.length > text.length) {
      text = synced;
      schedule();
    }
  };

  let stopping = false;
  const updateStatus = () => {
    const state = stopping ? "stopping" : model.get("status");
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const name = model.get("model_label");
    status.textContent = `${name ? name + " · " : ""}${STATUS[state]} · ${seconds} s · ${text.length} chars`;
    el.dataset.status = state;
    stop.disabled = stopping || !model.get("stop_supported");
    hint.textContent = model.get("stop_supported")
      ? "" : "Stop needs ipykernel ≥ 7.4 here; use the kernel's interrupt (■) to stop.";
  };

  stop.addEventListener("click", () => {
    model.send({ kind: "stop" });
    stopping = true;
    updateStatus();
  });

  model.on("msg:custom", onMessage);
  model.on("change:text", onText);
  model.on("change:status", updateStatus);
  const ticker = setInterval(updateStatus, 250);

  paint();
  askForRest();
  return () => {
    clearInterval(ticker);
    model.off("msg:custom", onMessage);
    model.off("change:text", onText);
    model.off("change:status", updateStatus);
  };
}

export default { render };
