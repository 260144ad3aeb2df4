// A JSON answer shown live: pretty-printed as it grows, from partial text.
//
// Models stream JSON compactly or oddly spaced, and a half-written value is not
// valid JSON, so JSON.parse cannot help until the end. The printer reads the
// text once, character by character, and re-indents it: output only ever grows,
// so each frame appends just the new part (a Text node: model output never
// becomes markup, and a selection made in the view survives the stream).
// Strings are copied exactly as the model wrote them, escapes included.

const INDENT = "  ";

export function jsonPrinter() {
  let depth = 0;
  let inString = false;
  let escaped = false;
  let opened = false; // just after { or [: the line break waits, so {} and [] stay on one line

  const newline = () => "\n" + INDENT.repeat(depth);

  // Turn the next piece of the answer into the next piece of the pretty text.
  const push = (text) => {
    let out = "";
    for (const ch of text) {
      if (inString) {
        out += ch;
        if (escaped) escaped = false;
        else if (ch === "\\") escaped = true;
        else if (ch === '"') inString = false;
        continue;
      }
      if (ch === " " || ch === "\n" || ch === "\r" || ch === "\t") continue;
      const closing = ch === "}" || ch === "]";
      if (opened) {
        opened = false;
        if (closing) {
          depth -= 1;
          out += ch;
          continue;
        }
        out += newline();
      }
      if (ch === "{" || ch === "[") {
        out += ch;
        depth += 1;
        opened = true;
      } else if (closing) {
        depth = Math.max(0, depth - 1);
        out += newline() + ch;
      } else if (ch === ",") {
        out += "," + newline();
      } else if (ch === ":") {
        out += ": ";
      } else {
        if (ch === '"') inString = true;
        out += ch;
      }
    }
    return out;
  };
  return { push };
}

// The whole text, pretty-printed (what the view shows after `text` arrived).
export function prettyJson(text) {
  return jsonPrinter().push(text);
}

// A live JSON view in `el`: update(text) is called with the whole answer so far.
export function jsonView(el) {
  const pre = el.ownerDocument.createElement("pre");
  pre.className = "llmring-json";
  pre.style.cssText = "margin:0;white-space:pre-wrap;font-family:var(--jp-code-font-family, monospace);"
    + "font-size:var(--jp-code-font-size, 13px)";
  el.replaceChildren(pre);
  let printer = jsonPrinter();
  let seen = 0;
  const update = (text) => {
    if (text.length < seen) { // never expected: start again rather than show a wrong text
      printer = jsonPrinter();
      seen = 0;
      pre.replaceChildren();
    }
    const fresh = printer.push(text.slice(seen));
    seen = text.length;
    if (fresh) pre.append(fresh);
  };
  return { update };
}
