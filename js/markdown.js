// Untrusted markdown to safe HTML for the live view: markdown-it with raw HTML off (tags show
// as text), link URLs checked against the policy the static answer uses, images turned into
// links so a model cannot make the browser fetch a URL, and code highlighted by highlight.js.

import MarkdownIt from "markdown-it";
import policy from "../llmring_jupyter/render/link_policy.json";
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

// markdown-it's default dialect, as the static answer's (render/markdown.py): no raw HTML,
// no linkify, no typographer, so the switch from live to static changes nothing.
export const md = new MarkdownIt({
  html: false,
  highlight(code, lang) {
    if (lang && hljs.getLanguage(lang)) {
      try {
        return hljs.highlight(code, { language: lang, ignoreIllegals: true }).value;
      } catch (_) { /* fall through to escaped text */ }
    }
    return ""; // markdown-it escapes the code itself
  },
});

// One link policy for the live view and the static answer: model output keeps no URL whose
// scheme the shared file blocks (markdown-it's own check lets data:image/... through).
const blocked = policy.blocked_schemes.map((scheme) => `${scheme}:`);
md.validateLink = (url) => !blocked.some((prefix) => url.trim().toLowerCase().startsWith(prefix));

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

