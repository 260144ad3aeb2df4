// Untrusted markdown to safe HTML for the live view, as the static answer (render/markdown.py)
// does it: markdown-it's default dialect with raw HTML off (tags show as text), no linkify, no
// typographer; line breaks kept (rules.markdown); $-math as MathML; link URLs checked against the blocked schemes of rules.json;
// images turned into links so a model cannot make the browser fetch a URL; the code box and
// table-cell styles of rules.json; code highlighted by highlight.js.
import MarkdownIt from "markdown-it";
import { dollarmathPlugin } from "markdown-it-dollarmath";
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
import rules, { styles } from "./rules.js";
import { texToMathml } from "./math.js";

const languages = { bash, c, cpp, css, go, java, javascript, json, julia, markdown,
  python, r, rust, sql, typescript, xml, yaml };
for (const [name, lang] of Object.entries(languages)) hljs.registerLanguage(name, lang);
hljs.registerAliases(["py", "ipython"], { languageName: "python" });
hljs.registerAliases(["sh", "shell", "console"], { languageName: "bash" });
hljs.registerAliases(["js"], { languageName: "javascript" });
hljs.registerAliases(["ts"], { languageName: "typescript" });
hljs.registerAliases(["html"], { languageName: "xml" });

/** `code` as highlighted HTML (escaped), or "" for a language highlight.js does not know. */
export function highlight(code, lang) {
  if (lang && hljs.getLanguage(lang)) {
    try {
      return hljs.highlight(code, { language: lang, ignoreIllegals: true }).value;
    } catch (_) { /* fall through to escaped text */ }
  }
  return "";
}

export const md = new MarkdownIt({ html: false, ...rules.markdown, highlight });
md.use(dollarmathPlugin, { ...rules.math, renderer: texToMathml });

const blocked = rules.blocked_schemes.map((scheme) => `${scheme}:`);
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
// Cells align left unless the table asks otherwise (frontends right-align output tables).
const tableCell = (tokens, idx, options, env, self) => {
  if (!tokens[idx].attrGet("style")) tokens[idx].attrSet("style", styles.table_cell);
  return self.renderToken(tokens, idx, options);
};
md.renderer.rules.th_open = tableCell;
md.renderer.rules.td_open = tableCell;

export const PRE = `<pre style="${styles.pre}"><code style="${styles.code_in_pre}">`;

/** Rendered tokens with the code box of the static answer. */
export function renderTokens(tokens, env) {
  return md.renderer.render(tokens, md.options, env).replaceAll("<pre><code", PRE.slice(0, -1));
}
