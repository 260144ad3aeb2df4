// Measurements of an answer as the page shows it, installed in the page before JupyterLab loads
// (tests/browser/test_view_look.py). Everything lives under window.__llmringProbe.
(() => {
  const probe = (window.__llmringProbe = {});

  // ---- colours and WCAG contrast -------------------------------------------------------------
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 1;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  /** Any CSS colour (rgb(), color(srgb …), color-mix results) as [r, g, b, a], 0–255 and 0–1. */
  function rgba(css) {
    if (!css || css === "transparent") return [0, 0, 0, 0];
    ctx.clearRect(0, 0, 1, 1);
    ctx.fillStyle = "#000";
    ctx.fillStyle = css;
    ctx.fillRect(0, 0, 1, 1);
    const [r, g, b, a] = ctx.getImageData(0, 0, 1, 1).data;
    return [r, g, b, a / 255];
  }
  const over = (top, bottom) => {
    const a = top[3] + bottom[3] * (1 - top[3]);
    if (a === 0) return [0, 0, 0, 0];
    return [0, 1, 2].map((i) => (top[i] * top[3] + bottom[i] * bottom[3] * (1 - top[3])) / a).concat(a);
  };
  const luminance = ([r, g, b]) => {
    const lin = (c) => ((c /= 255) <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  };
  const ratio = (a, b) => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  /** The opaque colour behind `el`: its and its ancestors' backgrounds, composited. */
  function background(el) {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] === 1) break;
    }
    let colour = [255, 255, 255, 1]; // the canvas behind the page
    for (const layer of layers.reverse()) colour = over(layer, colour);
    return colour;
  }
  const opacity = (el) => {
    let o = 1;
    for (let e = el; e; e = e.parentElement) o *= parseFloat(getComputedStyle(e).opacity);
    return o;
  };
  /** Every visible text in `root` with its contrast, lowest first. */
  probe.contrast = (root) => {
    const out = [];
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const el = node.parentElement;
      if (!node.textContent.trim() || !el || el.closest("annotation") || !el.getClientRects().length) continue;
      const style = getComputedStyle(el);
      if (style.visibility === "hidden") continue;
      const bg = background(el);
      const fg = rgba(style.color);
      fg[3] *= opacity(el);
      const shown = over(fg, bg);
      out.push({ text: node.textContent.trim().slice(0, 40), tag: el.tagName.toLowerCase(),
        ratio: Math.round(ratio(shown, bg) * 100) / 100, color: style.color });
    }
    return out.sort((a, b) => a.ratio - b.ratio);
  };

  // ---- geometry and styles at the switch from live to static ---------------------------------
  const STYLE_KEYS = ["fontFamily", "fontSize", "fontWeight", "fontStyle", "lineHeight", "color",
    "backgroundColor", "marginTop", "marginBottom", "marginLeft", "marginRight", "paddingTop", "paddingLeft",
    "textAlign"];
  /** What the switch may not change, for the answer in `cell`: boxes relative to the cell's
   * output area, and computed styles of each element outside math and code. */
  probe.layout = (cell) => {
    const area = cell.querySelector(".jp-OutputArea");
    const answer = [...cell.querySelectorAll(".llmring-answer")].pop();
    if (!area || !answer) return null;
    const top = area.getBoundingClientRect().top;
    const box = (e) => {
      const r = e.getBoundingClientRect();
      return { top: r.top - top, left: r.left, height: r.height, width: r.width };
    };
    const foot = [...cell.querySelectorAll(".llmring-bar, .llmring-footer")].find((e) => !e.closest(".llmring-so-far"));
    // outside math and code (typeset and highlighted by different engines live and static), and
    // without what the frontend adds to headings of HTML outputs (its table of contents' numbering)
    const elements = [...answer.querySelectorAll("*")].filter(
      (e) => !e.closest("math, pre, .math")
        && !e.matches(".numbering-entry, .jp-InternalAnchorLink, .llmring-segment, .llmring-spacer"));
    // the live view's text runs sit in boxless segments (between tool calls): their blocks count
    const blocks = [...answer.children]
      .flatMap((e) => (e.matches(".llmring-segment") ? [...e.children] : [e]))
      .filter((e) => !e.matches(".llmring-spacer")); // a hidden mark of the live view's, after a block
    // the live bar sticks to the notebook's bottom edge while the answer runs past it (Stop in
    // reach): where it sits in the answer's flow is its place without sticking
    const footBox = (e) => {
      if (!e.matches(".llmring-bar")) return box(e);
      e.style.position = "static";
      const flow = box(e);
      e.style.position = "";
      return flow;
    };
    return {
      live: !!cell.querySelector(".llmring-view"),
      text: answer.innerText,
      area: area.getBoundingClientRect().height,
      answer: box(answer),
      footer: foot && { ...footBox(foot), style: Object.fromEntries(STYLE_KEYS.map((k) => [k, getComputedStyle(foot)[k]])) },
      blocks: blocks.map((e) => ({ tag: e.tagName.toLowerCase(), ...box(e) })),
      maths: [...answer.querySelectorAll("math")].map(box),
      elements: elements.map((e) => ({
        tag: e.tagName.toLowerCase(),
        style: Object.fromEntries(STYLE_KEYS.map((k) => [k, getComputedStyle(e)[k]])),
      })),
    };
  };
  /** Record the layout of `cell`'s answer each frame while it is live, then once it is static. */
  probe.watchSwitch = (cell) => {
    const state = (probe.switch = { live: null, final: null, frames: 0 });
    const tick = () => {
      const now = probe.layout(cell);
      if (now && now.live) {
        state.live = now;
        state.frames++;
      } else if (now && state.live) {
        state.final = now;
        return;
      }
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  };

  // ---- frames and long tasks ----------------------------------------------------------------
  probe.startFrames = () => {
    // frames count while a live view is on the page; long tasks are split into those that
    // began then and those after (the frontend rendering the static answer that replaced it)
    const state = (probe.frames = { times: [], longTasks: [], running: true, liveUntil: 0 });
    const tick = (t) => {
      if (!state.running) return;
      if (document.querySelector(".llmring-view")) {
        state.times.push(t);
        state.liveUntil = performance.now();
      }
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    state.observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) state.longTasks.push({ start: e.startTime, duration: e.duration });
    });
    state.observer.observe({ type: "longtask" });
  };
  probe.stopFrames = () => {
    const state = probe.frames;
    state.running = false;
    state.observer.disconnect();
    const t = state.times;
    const seconds = (t[t.length - 1] - t[0]) / 1000;
    const paints = performance.getEntriesByName("llmring-paint").map((e) => e.duration);
    const live = state.longTasks.filter((e) => e.start < state.liveUntil).map((e) => e.duration);
    const after = state.longTasks.filter((e) => e.start >= state.liveUntil).map((e) => e.duration);
    return { fps: (t.length - 1) / seconds, seconds, longTasks: live, longTasksAfter: after, paints };
  };

  // ---- how long after Ctrl+Enter an answer shows its first text -----------------------------
  addEventListener("keydown", (e) => {
    if (e.key === "Enter" && e.ctrlKey) probe.keyAt = performance.now();
  }, true);
  /** Before running `cell`: note when its live view first shows text (`probe.textAt`). Watches
   * only that cell, and only until then, so it adds nothing to the frames measured later. */
  probe.watchFirstText = (cell) => {
    probe.textAt = null;
    const watch = new MutationObserver(() => {
      if (!cell.querySelector(".llmring-view .llmring-answer")?.textContent.trim()) return;
      probe.textAt = performance.now();
      watch.disconnect();
    });
    watch.observe(cell, { childList: true, subtree: true, characterData: true });
  };
})();
