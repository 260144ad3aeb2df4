// The live view of one streaming answer (an anywidget ES module).
//
// The kernel sends only deltas, as custom messages {kind: "delta", at, text}
// where `at` is the offset of `text` in the answer. Custom messages sent
// before this view rendered are dropped by the frontend, so the view starts
// from the synced `text` trait, says {kind: "ready", length} and the kernel
// answers with everything from that offset: the text shown is always exact.
//
// It is laid out as the static answer that replaces it (render/bundle.py): the
// answer, then a bar where the footer will be, inside the frontend's own
// rendered-HTML classes and with the styles of rules.json, so the switch moves
// nothing. Model output is untrusted: markdown.js says how it is made safe.

import rules, { styles, tokenCss } from "./rules.js";
import { highlight, md, PRE } from "./markdown.js";
import { IncrementalMarkdown, WholeMarkdown } from "./incremental.js";
import viewCss from "./view.css";
import { jsonView } from "./json.js";
import { withTools } from "./tools.js"; // tool calls and thinking sections
import { onKernelGone, outputLists, REASON, replaceOutput, WIDGET_MIME } from "./gone.js";

// The states of a live view (the `status` trait, and "stopping" once Stop is clicked): each
// label is a function of the model and the seconds since its `retry` trait last changed.
// "done" is a side-by-side column whose answer ended while the others stream.
const STATUS = {
  queued: () => "waiting for an earlier answer in this conversation…",
  waiting: () => "waiting for the first token…",
  retrying: (model, since) => {
    const { reason = "failed", attempt = 2, attempts = attempt, seconds = 0 } = model.get("retry") || {};
    const left = Math.max(0, Math.ceil(seconds - since));
    return `${reason} — retrying in ${left} s, attempt ${attempt} of ${attempts}`;
  },
  streaming: () => "streaming",
  approving: () => "waiting for approval",
  stopping: () => "stopping…",
  done: () => "done",
  gone: () => `■ stopped · ${REASON}`,
};
const ENDED = new Set(["done", "gone"]);
// States whose clock stands still: the answer waits for the user, not for the model.
const PAUSED = new Set(["approving"]);

// The view's CSS travels inside this module (added to each document once), not
// as anywidget's per-widget `_css`, so no answer pays for it again.
function addStyle(doc) {
  if (doc.getElementById("llmring-jupyter-view-css")) return;
  const style = doc.createElement("style");
  style.id = "llmring-jupyter-view-css";
  style.textContent = `${viewCss}\n${tokenCss}`;
  doc.head.appendChild(style);
}

const FENCE = new RegExp(rules.code_fence, "g");

/** The code of an answer so far, as render/code.py finds it (the same pattern, from
 * rules.json): its fenced blocks, or null while none has begun (the final answer then shows
 * the whole text as code, if no block ever comes). */
function codeOf(text) {
  const blocks = [...text.matchAll(FENCE)].map((m) => m[1].replace(/\n+$/, ""));
  return blocks.length ? blocks.join("\n") : null;
}

// How each --format shows the answer so far; `update(text)` is called at most once a frame.
const FORMATS = {
  // the benchmark's baseline (bench/view_frames.py) sets the page's __llmringWholeRender
  markdown: (answer) => (globalThis.__llmringWholeRender ? new WholeMarkdown(answer) : new IncrementalMarkdown(answer)),
  // plain text only ever grows at its end: appended, so a selection in it survives
  text: (answer) => {
    answer.innerHTML = `<pre style="${styles.text}"></pre>`;
    const pre = answer.firstChild;
    let shown = 0;
    return { update(text) { pre.append(text.slice(shown)); shown = text.length; } };
  },
  // the code block the static answer will show, with the place its Copy button will take; the
  // prose around the code stays out of it: until a block begins, its last line shows muted above
  code: (answer) => {
    answer.innerHTML = `<div class="llmring-code-prose"></div>`
      + `<div class="llmring-code"><button type="button" disabled style="${styles.copy_button}">Copy</button>`
      + `${PRE}</code></pre></div>`;
    const prose = answer.querySelector(".llmring-code-prose");
    const code = answer.querySelector("code");
    return {
      update(text) {
        const source = codeOf(text);
        prose.hidden = source !== null;
        if (source === null) prose.textContent = text.trimEnd().split("\n").pop();
        code.innerHTML = source === null ? "" : highlight(source, "python") || md.utils.escapeHtml(source);
      },
    };
  },
  // --schema / --json: the JSON pretty-printed as it grows (json.js)
  json: (answer) => jsonView(answer),
};

/** Let the status bar stick to the bottom of the notebook's scrolling area while the answer is
 * taller than it (Stop stays in reach). The frontend's output elements hide or scroll their
 * overflow, which would make them the bar's scroller instead: between the view and its cell
 * they clip it sideways only, while the view lives. Returns what puts them back, for when the
 * view goes: the output area outlives it (Notebook 7 scrolls a long static answer in it).
 * An output the user made scroll already scrolls: the bar sticks in it. */
function letBarStick(el) {
  const changed = [];
  for (let e = el.parentElement; e && !e.matches(".jp-Cell, body"); e = e.parentElement) {
    const { overflowX, overflowY } = getComputedStyle(e);
    if ([overflowX, overflowY].every((o) => o === "visible" || o === "clip")) continue;
    if (e.scrollHeight > e.clientHeight + 1) break;
    changed.push([e, e.style.overflow]);
    e.style.overflow = "clip visible";
  }
  return () => {
    for (const [e, overflow] of changed) e.style.overflow = overflow;
  };
}

/** Keep the "answer so far" output the kernel writes before this view hidden: it is what a
 * notebook saved mid-stream holds (outputs.py), and the frontend replaces its element when the
 * kernel refreshes it. A watch on the output area's own children, not a stylesheet rule: a
 * `:has()` rule over the output area is re-matched on every change of the growing answer.
 * `check()` is called once the view is in the page, before the view says "ready": the kernel
 * fills that output only then, so the watch hides it before it is ever painted. */
function soFarHider(el) {
  let watch = null;
  let id = null;
  let unstick = () => {};
  const hide = () => {
    for (let c = el.closest(".jp-OutputArea-child")?.previousElementSibling; c; c = c.previousElementSibling) {
      watch?.observe(c, { childList: true, subtree: true }); // its output may be rendered in place
      const soFar = c.querySelector(".llmring-so-far");
      if (soFar) {
        c.style.display = "none";
        id = [...soFar.classList].find((name) => name.startsWith("llmring-so-far-")) ?? id;
        return;
      }
    }
  };
  return {
    check() {
      const area = watch === null && el.closest(".jp-OutputArea");
      if (!area) return;
      unstick = letBarStick(el);
      watch = new MutationObserver(hide);
      watch.observe(area, { childList: true });
      hide();
    },
    stop: () => {
      watch?.disconnect();
      unstick();
    },
    /** The class naming the answer's text-so-far output (outputs.py), once found. */
    id: () => id,
  };
}

/** Once the kernel is gone, put the answer as the view shows it, static and marked stopped, in
 * place of its text-so-far output, and drop the view's output (gone.js says why). A view with
 * no text-so-far output (a side-by-side column) stays, saying it stopped. */
function settle(model, soFarClass, answer, text, foot) {
  const shown = answer.cloneNode(true);
  for (const ask of shown.querySelectorAll(".llmring-tool-ask")) ask.remove(); // no kernel to ask
  const data = {
    "text/html": `<div class="${rules.answer_class}">${shown.innerHTML}</div>`
      + `<div class="llmring-footer" style="${styles.footer}">${md.utils.escapeHtml(foot)}</div>`,
    "text/plain": `${text}\n\n— ${foot}`,
  };
  for (const outputs of outputLists(model)) {
    for (let i = 0; i < outputs.length; i++) {
      if (![].concat(outputs.get(i).data?.["text/html"] ?? []).join("").includes(soFarClass)) continue;
      replaceOutput(outputs, i, data);
      if (outputs.get(i + 1)?.data?.[WIDGET_MIME]) replaceOutput(outputs, i + 1, {}); // this view
      return;
    }
  }
}

function render({ model, el }) {
  addStyle(el.ownerDocument);
  const soFar = soFarHider(el);
  el.innerHTML = `
    <div class="llmring-view jp-RenderedHTMLCommon jp-RenderedHTML">
      <div class="${rules.answer_class}" aria-live="polite"></div>
      <div class="llmring-bar" style="${styles.footer}">
        <span class="llmring-dot"></span>
        <span class="llmring-status"></span>
        <span class="llmring-hint"></span>
        <button class="llmring-stop" type="button" title="Stop generating (keeps the text so far)">■ Stop</button>
      </div>
    </div>`;
  const view = el.querySelector(".llmring-view");
  const answer = el.querySelector(".llmring-answer");
  const status = el.querySelector(".llmring-status");
  const hint = el.querySelector(".llmring-hint");
  const stop = el.querySelector(".llmring-stop");
  // the format's renderer for each run of text, with the tool calls between them where they happened
  const shown = withTools(answer, FORMATS[model.get("format")] || FORMATS.markdown, (m) => model.send(m));
  performance.clearMeasures("llmring-paint"); // the page keeps one answer's frame costs, not all

  let text = model.get("text") || "";
  let started = performance.now(); // until the kernel says when the answer began ("clock")
  let pausedAt = 0; // while the answer waits for approval, since when
  const approving = new Set(); // tool blocks waiting for Run / Skip
  let pending = false;
  let askedAt = 0;

  const paint = () => {
    pending = false;
    const t0 = performance.now();
    shown.update(text);
    performance.measure("llmring-paint", { start: t0 }); // a frame's cost, for DevTools and the benchmark
    updateStatus();
  };
  const schedule = () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(paint);
  };

  // "ready" makes the kernel fill the text-so-far output, which this view hides: said only once
  // the view is in the page (the frontend attaches it after render) and its watch is set
  let inPage = false;
  let frame = 0;
  const untilInPage = () => {
    if (!el.isConnected) {
      frame = requestAnimationFrame(untilInPage);
      return;
    }
    inPage = true;
    soFar.check();
    askForRest();
  };

  const askForRest = () => {
    const now = performance.now();
    if (!inPage || now - askedAt < 250) return;
    askedAt = now;
    model.send({ kind: "ready", length: text.length });
  };

  const onMessage = (msg) => {
    if (msg?.kind === "clock") { // seconds the answer has run (waits for approval left out)
      started = performance.now() - msg.seconds * 1000;
      if (pausedAt) pausedAt = performance.now();
      updateStatus();
      return;
    }
    if (msg?.kind === "tool") {
      if (msg.state === "approve") approving.add(msg.id);
      else approving.delete(msg.id);
      shown.tool(msg);
      schedule();
      return;
    }
    if (msg?.kind === "thought") {
      shown.thought(msg);
      schedule();
      return;
    }
    if (msg?.kind === "think") {
      if (!shown.think(msg)) askForRest(); // a delta went missing: the kernel sends it all again
      schedule();
      return;
    }
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
  let gone = false;
  let retryAt = performance.now();
  const updateStatus = () => {
    const current = model.get("status");
    const state = gone
      ? "gone"
      : stopping
        ? "stopping"
        : approving.size && !ENDED.has(current)
          ? "approving"
          : current;
    const now = performance.now();
    if (PAUSED.has(state) && !pausedAt) pausedAt = now;
    if (!PAUSED.has(state) && pausedAt) {
      started += now - pausedAt; // the clock goes on from where it stood
      pausedAt = 0;
    }
    const seconds = (((pausedAt || now) - started) / 1000).toFixed(1);
    const name = model.get("model_label");
    const label = (STATUS[state] || (() => state))(model, (now - retryAt) / 1000);
    const clock = ENDED.has(state) ? "" : ` · ${seconds} s`;
    status.textContent = `${name ? name + " · " : ""}${label}${clock} · ${text.length} chars`;
    shown.tick(); // a thinking section's running clock
    view.dataset.status = state;
    stop.hidden = ENDED.has(state);
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
  const onRetry = () => {
    retryAt = performance.now();
    updateStatus();
  };
  model.on("change:retry", onRetry);
  const ticker = setInterval(updateStatus, 250);
  const unwatch = onKernelGone(model, () => {
    gone = true;
    clearInterval(ticker);
    paint();
    const name = model.get("model_label");
    if (soFar.id()) settle(model, soFar.id(), answer, text, `${name ? name + " · " : ""}${STATUS.gone()}`);
  });

  paint();
  untilInPage();
  return () => {
    cancelAnimationFrame(frame);
    soFar.stop();
    unwatch();
    clearInterval(ticker);
    model.off("msg:custom", onMessage);
    model.off("change:text", onText);
    model.off("change:status", updateStatus);
    model.off("change:retry", onRetry);
  };
}

// Where the kernel's version makes each widget carry this module itself (no loader), it says
// "initialized" itself.
function initialize({ model }) {
  model.send({ kind: "initialized" });
}

export default { initialize, render };
