// What every live view's widget carries: a loader for the view's module (view.js).
//
// anywidget sends a widget's ES module inline in each widget's comm_open, and
// the view's module (markdown-it, highlight.js) weighs far more than a typical
// answer. So widgets carry only this loader: the first view on a page asks its
// kernel for the module ({kind: "module"}), imports it, and every later view on
// the page reuses it. Modules are keyed by their hash (the `view_id` trait), so
// kernels running different versions in one page each get their own.

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

// Runs when the frontend makes a model (every answer's, and the one per kernel made at load):
// tells the kernel a frontend runs our views, and fetches the view's module ahead of the first
// answer, so that answer shows its first token as soon as later ones do.
function initialize({ model }) {
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
