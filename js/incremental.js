// Incremental rendering of a growing markdown answer.
//
// A frame parses only the answer's unfinished end, from the start of its last top-level block.
// Every top-level block followed by another one is finished: nothing later can change how it
// renders, so it is rendered once, inserted, and never touched again (a selection in it
// survives the stream, and a frame's cost does not grow with the answer). Only the last block,
// still growing, is re-rendered each frame. Blocks are inserted as siblings, exactly as in the
// static answer, so the frontend's styles (first-child margins, list spacing) apply the same.
import { md, renderTokens } from "./markdown.js";

/** Where each top-level block of `tokens` starts: [token index, first source line]. */
function blockStarts(tokens) {
  const starts = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (token.level === 0 && token.nesting !== -1 && token.map) starts.push([i, token.map[0]]);
  }
  return starts;
}

/** The offset in `src` where line `line` begins. */
function lineOffset(src, line) {
  let at = 0;
  for (let n = 0; n < line; n++) {
    at = src.indexOf("\n", at) + 1;
    if (at === 0) return src.length;
  }
  return at;
}

function fragment(doc, html) {
  const template = doc.createElement("template");
  template.innerHTML = html;
  return template.content;
}

export class IncrementalMarkdown {
  constructor(container) {
    this.el = container;
    this.doc = container.ownerDocument;
    this.base = 0; // the text before this offset is rendered and final
    this.tail = []; // the nodes of the growing last block
  }

  /** Show `text`, which extends the text of the previous call. */
  update(text) {
    const src = text.slice(this.base);
    const env = {};
    const tokens = md.parse(src, env);
    const starts = blockStarts(tokens);
    if (starts.length > 1) {
      const [lastIndex, lastLine] = starts[starts.length - 1];
      this.el.insertBefore(fragment(this.doc, renderTokens(tokens.slice(0, lastIndex), env)), this.tail[0] || null);
      this.base += lineOffset(src, lastLine);
      this.setTail(renderTokens(tokens.slice(lastIndex), env));
    } else {
      this.setTail(renderTokens(tokens, env));
    }
  }

  setTail(html) {
    for (const node of this.tail) node.remove();
    const nodes = fragment(this.doc, html);
    this.tail = [...nodes.childNodes];
    this.el.append(nodes);
  }
}

/** The whole answer re-rendered every frame: what IncrementalMarkdown replaced, kept as the
 * baseline the benchmark measures it against. */
export class WholeMarkdown {
  constructor(container) {
    this.el = container;
  }

  update(text) {
    this.el.innerHTML = renderTokens(md.parse(text, {}), {});
  }
}
