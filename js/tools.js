// Tool calls in the live view: a block per call, where it happened in the answer.
//
// The kernel sends each block whole, as {kind: "tool", id, at, name, arguments, state,
// result, seconds}, again on every change (upserted by id), and all of them again after
// a catch-up. `at` is the offset in the answer text where the call was made: the text
// before it, the block, the text after it, so text, calls and results show in the order
// they happened. Blocks arrive in that order, so they are only ever appended.
//
// Names, arguments and results come from the model or the tool: untrusted, they are
// only ever set as textContent. The Run / Skip buttons (state "approve") send
// {kind: "approve", id, run}. The look and the state labels come from tool_look.json,
// which the static rendering (render/tool_calls.py) reads too.

import look from "../llmring_jupyter/render/tool_look.json";
import { thought } from "./think.js";

/** `get_weather(city="Paris")`: the call as render/tool_calls.py's signature() writes it. */
export function signature(name, args) {
  let parsed;
  try { parsed = JSON.parse(args || "{}"); } catch { parsed = undefined; }
  const shown = parsed && typeof parsed === "object" && !Array.isArray(parsed)
    ? Object.entries(parsed).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ")
    : args;
  return `${name}(${shown})`;
}

function cut(text) {
  return text.length <= look.shown_chars ? text : text.slice(0, look.shown_chars - 1) + "…";
}

function summary(msg) {
  const parts = [`🔧 ${signature(msg.name, msg.arguments)}`];
  const note = look.states[msg.state] ?? msg.state;
  if (note) parts.push(note);
  if (msg.seconds != null) parts.push(`${msg.seconds.toFixed(2)} s`);
  return parts.join(" · ");
}

function makeBlock(doc, send, id) {
  const block = doc.createElement("details");
  block.className = "llmring-tool";
  block.style.cssText = look.block_style;
  block.innerHTML = `<summary><code></code></summary><div class="llmring-tool-ask" hidden>`
    + `<button type="button" class="llmring-button llmring-tool-run">Run</button> `
    + `<button type="button" class="llmring-button llmring-tool-skip">Skip</button></div><pre hidden></pre>`;
  block.querySelector("pre").style.cssText = look.result_style;
  const ask = block.querySelector(".llmring-tool-ask");
  for (const [selector, run] of [[".llmring-tool-run", true], [".llmring-tool-skip", false]]) {
    block.querySelector(selector).addEventListener("click", () => {
      for (const b of ask.querySelectorAll("button")) b.disabled = true;
      send({ kind: "approve", id, run });
    });
  }
  return block;
}

function fill(block, msg) {
  block.dataset.state = msg.state;
  block.querySelector("summary > code").textContent = summary(msg);
  const ask = block.querySelector(".llmring-tool-ask");
  const waiting = msg.state === "approve";
  if (waiting && ask.hidden) for (const b of ask.querySelectorAll("button")) b.disabled = false;
  ask.hidden = !waiting;
  if (waiting) block.open = true; // the arguments and the buttons must be seen to be judged
  const pre = block.querySelector("pre");
  pre.hidden = msg.result == null;
  if (msg.result != null) pre.textContent = cut(msg.result);
}

/**
 * The answer element with tool blocks and thinking sections (think.js) in it. `make(el)` makes
 * the renderer of a run of text ({update(text)}), as the view would for the whole answer;
 * `send` posts to the kernel. Returns {update(text)} for the view's paint, tick() for its clock,
 * tool(msg) and thought(msg) for the blocks' messages, think(msg) for thinking deltas.
 */
export function withTools(answer, make, send) {
  const doc = answer.ownerDocument;
  // each run of text renders into a segment that takes no box of its own (display: contents),
  // so an answer without tool calls lays out exactly as the static answer does
  const segment = () => Object.assign(doc.createElement("div"), { className: "llmring-segment" });
  const first = segment();
  answer.replaceChildren(first);
  const segments = [{ at: 0, renderer: make(first), shown: null }];
  const blocks = new Map();
  const thoughts = new Map();
  /** A new block, at offset `at` of the answer's text, after the blocks before it. The text after
   * it starts with a hidden spacer: in the static answer that text follows the block, so its
   * first element is no :first-child (whose margins frontends take away) there either. */
  const place = (el, at) => {
    const after = segment();
    answer.append(el, after);
    const renderer = make(after);
    after.prepend(Object.assign(doc.createElement("span"), { hidden: true, className: "llmring-spacer" }));
    segments.push({ at, renderer, shown: null });
  };
  return {
    update(text) {
      segments.forEach((segment, i) => {
        const end = i + 1 < segments.length ? segments[i + 1].at : text.length;
        const piece = text.slice(segment.at, Math.max(segment.at, end));
        if (piece !== segment.shown) {
          segment.renderer.update(piece);
          segment.shown = piece;
        }
      });
      for (const section of thoughts.values()) section.update();
    },
    tick() {
      for (const section of thoughts.values()) section.tick();
    },
    tool(msg) {
      let block = blocks.get(msg.id);
      if (!block) {
        block = makeBlock(doc, send, msg.id);
        blocks.set(msg.id, block);
        place(block, msg.at);
      }
      fill(block, msg);
    },
    thought(msg) {
      let section = thoughts.get(msg.id);
      if (!section) {
        section = thought(doc, msg.hidden);
        thoughts.set(msg.id, section);
        place(section.el, msg.at);
      }
      section.fill(msg);
    },
    /** A thinking delta; false if one went missing before it. */
    think(msg) {
      const section = thoughts.get(msg.id);
      return section ? section.add(msg.at, msg.text) : false;
    },
  };
}
