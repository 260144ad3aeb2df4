// The live view of one streaming answer (an anywidget ES module).
//
// The kernel sends only deltas, as custom messages {kind: "delta", at, text}
// where `at` is the offset of `text` in the answer. Custom messages sent
// before this view rendered are dropped by the frontend, so the view starts
// from the synced `text` trait, says {kind: "ready", length} and the kernel
// answers with everything from that offset: the text shown is always exact.
//
// Model output is untrusted: markdown-it runs with `html: false` (raw HTML is
// shown as text) and its link validation drops javascript:/vbscript:/data:
// URLs; images become links so a model cannot make the browser fetch a URL.

import MarkdownIt from "markdown-it";
import viewCss from "./view.css";
import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import c from "highlight.js/lib/languages/c";
import cpp from "highlight.js/lib/languages/cpp";
import css from "highlight.js/lib/languages/css";
import go from "highlight.js/lib/languages/go";
import java from "highlight.js/lib/languages/java";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import julia from "highlight.js/lib/languages/julia";
import markdown from "highlight.js/lib/languages/markdown";
import python from "highlight.js/lib/languages/python";
import r from "highlight.js/lib/languages/r";
import rust from "highlight.js/lib/languages/rust";
import sql from "highlight.js/lib/languages/sql";
import typescript from "highlight.js/lib/languages/typescript";
import xml from "highlight.js/lib/languages/xml";
import yaml from "highlight.js/lib/languages/yaml";

const languages = { bash, c, cpp, css, go, java, javascript, json, julia, markdown,
  python, r, rust, sql, typescript, xml, yaml };
for (const [name, lang] of Object.entries(languages)) hljs.registerLanguage(name, lang);
hljs.registerAliases(["py", "ipython"], { languageName: "python" });
hljs.registerAliases(["sh", "shell", "console"], { languageName: "bash" });
hljs.registerAliases(["js"], { languageName: "javascript" });
hljs.registerAliases(["ts"], { languageName: "typescript" });
hljs.registerAliases(["html"], { languageName: "xml" });

const md = new MarkdownIt({
  html: false,
  linkify: true,
  highlight(code, lang) {
    if (lang && hljs.getLanguage(lang)) {
      try {
        return hljs.highlight(code, { language: lang, ignoreIllegals: true }).value;
      } catch (_) { /* fall through to escaped text */ }
    }
    return ""; // markdown-it escapes the code itself
  },
});

// Links open in a new tab and never pass the notebook's URL along.
md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
  tokens[idx].attrSet("target", "_blank");
  tokens[idx].attrSet("rel", "noopener noreferrer nofollow");
  return self.renderToken(tokens, idx, options);
};
// An image in model output becomes a link: no request leaves the browser unasked.
md.renderer.rules.image = (tokens, idx) => {
  const token = tokens[idx];
  const src = md.utils.escapeHtml(token.attrGet("src") || "");
  const alt = md.utils.escapeHtml(token.content || "image");
  return `<a href="${src}" target="_blank" rel="noopener noreferrer nofollow">[image: ${alt}]</a>`;
};

const STATUS = {
  waiting: "waiting for the first token…",
  streaming: "streaming",
  stopping: "stopping…",
  done: "done",
  stopped: "stopped",
  interrupted: "interrupted",
  error: "failed",
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
  const paint = () => {
    pending = false;
    const t0 = performance.now();
    answer.innerHTML = md.render(text);
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

  const updateStatus = () => {
    const state = model.get("status");
    const live = state === "waiting" || state === "streaming" || state === "stopping";
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const label = STATUS[state] || state;
    const name = model.get("model_label");
    status.textContent = `${name ? name + " · " : ""}${label}${live ? ` · ${seconds} s · ${text.length} chars` : ""}`;
    el.dataset.status = state;
    stop.hidden = !live;
    stop.disabled = state === "stopping" || !model.get("stop_supported");
    hint.textContent = live && !model.get("stop_supported")
      ? "Stop needs ipykernel ≥ 7.4 here; use the kernel's interrupt (■) to stop." : "";
  };

  stop.addEventListener("click", () => {
    model.send({ kind: "stop" });
    stop.disabled = true;
    status.textContent = STATUS.stopping;
  });

  model.on("msg:custom", onMessage);
  model.on("change:text", onText);
  model.on("change:status", updateStatus);
  const ticker = setInterval(() => {
    const state = model.get("status");
    if (state === "waiting" || state === "streaming") updateStatus();
  }, 250);

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
