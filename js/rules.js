// The rules the live view shares with the static answer (llmring_jupyter/render/rules.json):
// one file, bundled here and read by the Python renderer, so the two cannot differ.
import rules from "../llmring_jupyter/render/rules.json";

export default rules;
export const styles = rules.styles;

// highlight.js's classes → the token roles of rules.json (Pygments' tokens map to the same roles).
const ROLES = {
  keyword: "keyword", literal: "keyword", tag: "keyword", "selector-tag": "keyword",
  built_in: "builtin", type: "builtin",
  string: "string", regexp: "string",
  number: "number", symbol: "number", bullet: "number",
  comment: "comment", doctag: "comment", quote: "comment",
  title: "def", section: "def",
  meta: "meta",
  variable: "variable", attr: "variable", attribute: "variable", "template-variable": "variable",
  operator: "operator",
};

// The token styles as CSS for highlight.js's spans, scoped to answers.
export const tokenCss = Object.entries(ROLES)
  .map(([cls, role]) => `.llmring-answer .hljs-${cls} { ${rules.token_styles[role]} }`)
  .join("\n");
