// When the kernel that made our widgets goes (a restart), nothing it sends reaches the page
// any more: JupyterLab drops the old kernel's messages before it even asks for the restart, so
// the static output the kernel sends as it stops (background.py) never arrives. Left alone, a
// live view would stream forever with a dead Stop, Keep buttons would do nothing, and a saved
// notebook would show "Error displaying widget: model not found" for each. So the page itself
// turns such outputs static, in the notebook's own model, which is what a save writes.

export const WIDGET_MIME = "application/vnd.jupyter.widget-view+json";
export const REASON = "the kernel restarted";

/** Call `then()` once this model's kernel is gone; returns what stops listening. ipywidgets'
 * managers mark every model of a restarting kernel not live (`comm_live`), the one change of it
 * after a model is made. */
export function onKernelGone(model, then) {
  let called = false;
  const once = () => {
    if (!called) {
      called = true;
      then();
    }
  };
  model.on("comm_live_update", once);
  return () => model.off("comm_live_update", once);
}

/** Every output list of the notebook the model's page shows, where the frontend gives access
 * to it (JupyterLab's and Notebook 7's widget managers do); none elsewhere. */
export function* outputLists(model) {
  const cells = model.widget_manager?.context?.model?.cells;
  if (!cells) return;
  for (let i = 0; i < cells.length; i++) {
    const outputs = cells.get(i).outputs;
    if (outputs) yield outputs;
  }
}

/** Put `data` in place of output `index` of `outputs` ({} leaves an output that shows nothing). */
export function replaceOutput(outputs, index, data) {
  outputs.set(index, { output_type: "display_data", data, metadata: {} });
}

/** Replace each output that shows a widget and says, in its metadata (`llmring.gone`), what it
 * becomes once its kernel is gone (the Keep buttons of side-by-side answers, compare.py). */
export function settleOutputs(model) {
  for (const outputs of outputLists(model)) {
    for (let i = 0; i < outputs.length; i++) {
      const output = outputs.get(i);
      const gone = output.metadata?.llmring?.gone;
      if (typeof gone === "string" && output.data?.[WIDGET_MIME]) replaceOutput(outputs, i, { "text/plain": gone });
    }
  }
}
