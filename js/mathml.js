// KaTeX's MathML rebuilt from the allow-list of rules.json, as render/mathml.py rebuilds
// latex2mathml's: the TeX is the model's, so only the listed elements (any other is dropped, its
// content kept) with the listed attributes, each value of safe characters only (no url(), no
// scheme), reach the page. Markup is read tag by tag; whatever is not a well-formed tag is text,
// and its "<" and ">" are escaped, so nothing the TeX holds can open an element.
import rules from "./rules.js";

const ELEMENTS = new Set(rules.mathml.elements);
const ATTRIBUTES = new Set(rules.mathml.attributes);
const VALUE = new RegExp(rules.mathml.value);
const TOKEN = /<(\/?)([A-Za-z][\w-]*)((?:\s+[\w:-]+(?:="[^"<>]*")?)*)\s*(\/?)>|[^<]+|</g;
const ATTRIBUTE = /([\w:-]+)(?:="([^"]*)")?/g;
const XMLNS = ' xmlns="http://www.w3.org/1998/Math/MathML"';

export function safeMathml(markup) {
  return markup.replace(TOKEN, (token, close, tag, attrs, selfClose) => {
    if (tag === undefined) return token.replace(/</g, "&lt;").replace(/>/g, "&gt;");
    if (!ELEMENTS.has(tag)) return "";
    if (close) return `</${tag}>`;
    let kept = tag === "math" ? XMLNS : "";
    for (const [, name, value = ""] of attrs.matchAll(ATTRIBUTE)) {
      if (ATTRIBUTES.has(name) && VALUE.test(value)) kept += ` ${name}="${value}"`;
    }
    return `<${tag}${kept}${selfClose ? "/" : ""}>`;
  });
}
