// What every live view's widget carries: a loader for the view's module (view.js).
//
// anywidget sends a widget's ES module inline in each widget's comm_open, and
// the view's module (markdown-it, highlight.js) weighs far more than a typical
// answer. So widgets carry only this loader: the first view on a page asks its
// kernel for the module ({kind: "module"}), imports it, and every later view on
// the page reuses it. Modules are keyed by their hash (the `view_id` trait), so
// kernels running different versions in one page each get their own.

import { onKernelGone, settleOutputs } from "./gone.js";

const modules = (globalThis.__llmringJupyterViews ??= new Map());

// Longer than any kernel takes to answer a comm message; only a view whose
// widget closed before the answer came waits this long, and then asks again.
const PATIENCE_MS = 10000;

function request(model) {
  return new Promise((resolve, reject) => {
    const onMessage = (msg) => {
      if (!msg || msg.kind !== "module") return;
      clearTimeout(timer);
      model.off("msg:custom", onMessage);
      const url = URL.createObjectURL(new Blob([msg.code], { type: "text/javascript" }));
      import(url).then(resolve, reject).finally(() => URL.revokeObjectURL(url));
    };
    const timer = setTimeout(() => {
      model.off("msg:custom", onMessage);
      reject(new Error("the kernel did not send the view's module"));
    }, PATIENCE_MS);
    model.on("msg:custom", onMessage);
    model.send({ kind: "module" });
  });
}

function load(model) {
  const id = model.get("view_id");
  let module = modules.get(id);
  if (!module) {
    module = request(model);
    modules.set(id, module);
    module.catch(() => modules.delete(id)); // the next view asks again
  }
  return module;
}

// A page that opened the notebook while answers streamed (a reload, a second tab) shows the
// text so far its file held (outputs.py), and never gets the cell's later updates: they reach
// only the page that ran the cell. The kernel's anchor (widget.py ViewAnchor) sends such a page
// each ended answer's final HTML, which is the static answer's own (render/bundle.py: built in
// the kernel, model text escaped), or "" for an answer that failed with nothing to show. It
// takes the place of the text so far (the output with the answer's class), and the live
// view's output after it (the view, or the widget manager's "model not found") is hidden. The
// page that ran the cell emptied its text so far before this message came: it finds nothing here.
function showFinals(answers) {
  for (const [id, html] of Object.entries(answers)) {
    for (const soFar of document.querySelectorAll(`.llmring-so-far-${CSS.escape(id)}`)) {
      const output = soFar.closest(".jp-OutputArea-child");
      const view = output?.nextElementSibling;
      if (view && !view.querySelector(".llmring-so-far")) view.style.display = "none";
      if (!html) {
        (output ?? soFar).style.display = "none";
        continue;
      }
      const final = document.createElement("template");
      final.innerHTML = html;
      soFar.replaceWith(final.content);
      if (output) output.style.display = ""; // a live view here had hidden it
    }
  }
}

// Runs when the frontend makes a model (every answer's, and the one per kernel made at load):
// tells the kernel a frontend runs our views, and fetches the view's module ahead of the first
// answer, so that answer shows its first token as soon as later ones do.
function initialize({ model }) {
  if (model.get("anchor")) { // the kernel's anchor brings ended answers; views get deltas only
    model.on("msg:custom", (msg) => {
      if (msg?.kind === "final") showFinals(msg.answers);
    });
    onKernelGone(model, () => settleOutputs(model)); // the Keep buttons of a kernel that restarted
  }
  model.send({ kind: "initialized" });
  load(model).catch(() => {}); // a view asks again when it renders
}

async function render({ model, el }) {
  let module;
  try {
    module = await load(model);
  } catch (_) {
    module = await load(model); // the view that asked may have closed first: ask with this one
  }
  return module.default.render({ model, el });
}

export default { initialize, render };
