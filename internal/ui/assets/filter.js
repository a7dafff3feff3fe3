// A client-side copy of idlog's filter grammar (docs/filter-language.md and
// internal/filter): it lets the page show a syntax error at its position
// without sending a request. The server stays the judge; this parser only
// has to refuse what the server refuses and accept what it accepts, and its
// messages follow internal/filter's wording. Positions are UTF-16 offsets
// (what a textarea's selection uses), not the server's byte offsets.

export const TOP_LEVEL = [
  "uuid", "published", "eventType", "version", "severity", "legacyEventType",
  "displayMessage", "actor", "client", "device", "outcome", "target",
  "transaction", "debugContext", "authenticationContext", "securityContext", "request",
];
export const OPS = ["eq", "ne", "co", "sw", "ew", "pr", "gt", "ge", "lt", "le"];
const RESERVED = new Set(["and", "or", "not", "true", "false", "null", ...OPS]);
const EXPECT_VALUE = 'a "string", a number, true, false, null';
const EXPECT_START = "an attribute path, not, (";
const EXPECT_CLOSE = "and, or, )";
const EXPECT_END = "and, or, end of filter";
const OP_LIST = OPS.join(",");
const VALUE_PATH_MSG = "Value paths with '[' are not supported (filter on the sub-attribute instead, e.g. target.type eq \"User\")";

export class FilterError extends Error {
  constructor(pos, end, msg, expected = "") {
    super(msg);
    this.pos = pos;
    this.end = Math.max(end, pos);
    this.expected = expected;
  }
}

const isSpace = (c) => /\s/u.test(c);
const isNameStart = (c) => /[A-Za-z_]/.test(c);
const isNameChar = (c) => /[A-Za-z0-9_]/.test(c);
const isDigit = (c) => c >= "0" && c <= "9";

// tokenize returns tokens {type, val, pos, end}; type is one of word,
// string, number, lparen, rparen, lbracket, rbracket, eof, error.
export function tokenize(src) {
  const out = [];
  let i = 0;
  const n = src.length;
  const emit = (type, val, pos, end) => out.push({ type, val, pos, end });
  while (true) {
    while (i < n && isSpace(src[i])) i++;
    if (i >= n) { emit("eof", "", n, n); return out; }
    const start = i;
    const c = src[i];
    if (c === "(") { emit("lparen", "(", i, ++i); continue; }
    if (c === ")") { emit("rparen", ")", i, ++i); continue; }
    if (c === "[") { emit("lbracket", "[", i, ++i); continue; }
    if (c === "]") { emit("rbracket", "]", i, ++i); continue; }
    if (c === ",") { emit("comma", ",", i, ++i); continue; }
    if (c === '"') {
      const t = lexString(src, i);
      out.push(t);
      if (t.type === "error") return out;
      i = t.end;
      continue;
    }
    if (c === "-" || isDigit(c)) {
      const t = lexNumber(src, i);
      out.push(t);
      if (t.type === "error") return out;
      i = t.end;
      continue;
    }
    if (isNameStart(c)) {
      while (true) {
        while (i < n && isNameChar(src[i])) i++;
        if (src[i] !== ".") break;
        const dot = i;
        i++;
        if (i < n && isDigit(src[i])) {
          // An array index (target.0.displayName), as internal/filter lexes it.
          const at = i;
          while (i < n && isDigit(src[i])) i++;
          if ((i < n && isNameStart(src[i])) || i - at > 6 || (i - at > 1 && src[at] === "0")) {
            while (i < n && isNameChar(src[i])) i++;
            emit("error", `Invalid array index '${src.slice(at, i)}' (an index is a number from 0 to 999999 without leading zeros; names start with a letter or _)`, at, i);
            return out;
          }
          continue;
        }
        if (i >= n || !isNameStart(src[i])) {
          emit("error", `Missing attribute name after '.' in '${src.slice(start, dot + 1)}'`, dot, dot + 1);
          return out;
        }
      }
      emit("word", src.slice(start, i), start, i);
      continue;
    }
    const cp = src.codePointAt(i);
    const ch = String.fromCodePoint(cp);
    if ("\u201c\u201d\u201e\u2018\u2019".includes(ch)) {
      emit("error", `Unexpected character '${ch}' (a typographic quote; strings need plain double quotes ")`, i, i + ch.length);
    } else {
      emit("error", `Unexpected character '${ch}'`, i, i + ch.length);
    }
    return out;
  }
}

function lexNumber(src, start) {
  // The JSON number grammar, anchored; a following name character, dot,
  // sign or quote makes the whole run invalid (01, 1., 1e, 1x).
  const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(src.slice(start));
  let end = start + (m ? m[0].length : 0);
  const next = src[end];
  if (!m || (next !== undefined && (isNameChar(next) || next === "." || next === "-" || next === "+" || next === '"'))) {
    let j = start + 1;
    while (j < src.length && (isNameChar(src[j]) || src[j] === "." || src[j] === "-" || src[j] === "+")) j++;
    return { type: "error", val: `Invalid number '${src.slice(start, j)}'`, pos: start, end: j };
  }
  return { type: "number", val: m[0], pos: start, end };
}

function lexString(src, start) {
  let i = start + 1;
  let val = "";
  const err = (msg, pos, end) => ({ type: "error", val: msg, pos, end });
  while (true) {
    if (i >= src.length) return err("Unterminated string", start, src.length);
    const c = src[i];
    if (c === '"') return { type: "string", val, pos: start, end: i + 1 };
    if (c < " ") {
      const hex = c.charCodeAt(0).toString(16).padStart(4, "0").toUpperCase();
      return err(`Control character U+${hex} in string (write it as an escape such as \\n or \\u${hex.toLowerCase()})`, i, i + 1);
    }
    if (c !== "\\") { val += c; i++; continue; }
    const at = i;
    const e = src[i + 1];
    if (e === undefined) return err("Unterminated string", start, src.length);
    const simple = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
    if (e in simple) { val += simple[e]; i += 2; continue; }
    if (e !== "u") return err(`Invalid escape '${src.slice(at, i + 2)}' in string`, at, i + 2);
    // hex4 reads up to four hex digits from k; it returns the value (or -1)
    // and where reading stopped, as the server's lexer does.
    const hex4 = (k) => {
      let v = 0;
      for (let j = 0; j < 4; j++, k++) {
        if (k >= src.length || !/[0-9a-fA-F]/.test(src[k])) return [-1, k];
        v = v * 16 + parseInt(src[k], 16);
      }
      return [v, k];
    };
    let [u, p] = hex4(i + 2);
    if (u < 0) {
      const to = Math.min(p + 1, src.length);
      return err(`Invalid escape '${src.slice(at, to)}' in string: \\u needs four hex digits`, at, to);
    }
    i = p;
    if (u >= 0xd800 && u < 0xdc00) {
      const high = `Invalid escape '%s' in string: a high surrogate must be followed by a \\u low surrogate`;
      if (src.slice(i, i + 2) !== "\\u") return err(high.replace("%s", src.slice(at, i)), at, i);
      const [lo, q] = hex4(i + 2);
      i = q;
      if (lo < 0xdc00 || lo > 0xdfff) return err(high.replace("%s", src.slice(at, i)), at, i);
      val += String.fromCharCode(u, lo);
    } else if (u >= 0xdc00 && u <= 0xdfff) {
      return err(`Invalid escape '${src.slice(at, i)}' in string: a low surrogate without a high surrogate`, at, i);
    } else {
      val += String.fromCharCode(u);
    }
  }
}

const kw = (t, w) => t.type === "word" && t.val.toLowerCase() === w;
const describe = (t) => {
  if (t.type === "eof") return "end of filter";
  if (t.type === "string") return "'" + JSON.stringify(t.val) + "'";
  return "'" + t.val + "'";
};

// parse returns the AST of src or throws a FilterError. Nodes:
// {type:"cmp", path:[..], op, value:{kind,v}, pos, end}, {type:"not", x},
// {type:"and"|"or", left, right}, {type:"paren", x}.
export function parse(src) {
  const toks = tokenize(src);
  let k = 0;
  const peek = () => toks[k];
  const next = () => { const t = toks[k]; if (t.type !== "eof" && t.type !== "error") k++; return t; };
  const fail = (t, msg, expected = "") => { throw new FilterError(t.pos, t.end, msg, expected); };
  const unexpected = (t, expected) => {
    if (t.type === "error") fail(t, t.val);
    if (t.type === "lbracket") fail(t, VALUE_PATH_MSG);
    fail(t, "Unexpected " + describe(t), expected);
  };
  const operand = (kwTok) => {
    const t = peek();
    if (t.type === "eof" || t.type === "rparen" || kw(t, "and") || kw(t, "or")) fail(t, `Missing expression after '${kwTok.val}'`, EXPECT_START);
    return unary();
  };
  const andRest = (left) => {
    while (kw(peek(), "and")) {
      const t = next();
      left = { type: "and", left, right: operand(t) };
    }
    return left;
  };
  const or = () => {
    let left = andRest(unary());
    while (kw(peek(), "or")) {
      const t = next();
      left = { type: "or", left, right: andRest(operand(t)) };
    }
    return left;
  };
  const unary = () => {
    const t = peek();
    if (kw(t, "not")) { next(); return { type: "not", x: operand(t), pos: t.pos }; }
    if (t.type === "lparen") {
      next();
      const c0 = peek();
      if (c0.type === "rparen") fail(c0, "Empty parentheses", EXPECT_START);
      const x = or();
      const c = peek();
      if (c.type !== "rparen") {
        // Point at the '(' left open: at the end of a long query the caret
        // alone would not say which one.
        if (c.type === "eof") fail(t, "Unclosed '(': the filter ends before its ')'");
        unexpected(c, EXPECT_CLOSE);
      }
      next();
      return { type: "paren", x, pos: t.pos, end: c.end };
    }
    return compare();
  };
  // value parses the literal v after the operator token o.
  const value = (v, o) => {
    if (v.type === "error") fail(v, v.val);
    if (v.type === "string") return { kind: "string", v: v.val };
    if (v.type === "number") {
      const f = Number(v.val);
      if (!Number.isFinite(f)) fail(v, `Number '${v.val}' is out of range`);
      return { kind: "number", v: f, text: v.val };
    }
    if (kw(v, "true") || kw(v, "false")) return { kind: "bool", v: v.val.toLowerCase() === "true" };
    if (kw(v, "null")) return { kind: "null" };
    if (v.type === "eof" || v.type === "rparen" || kw(v, "and") || kw(v, "or")) fail(v, `Missing value after '${o.val}'`, EXPECT_VALUE);
    if (v.type === "word") fail(v, `Unrecognized value '${v.val}' (strings need double quotes)`, EXPECT_VALUE);
    if (v.type === "lbracket") fail(v, `Unrecognized value '[' (a list needs the in operator: eventType in ["a", "b"])`, EXPECT_VALUE);
    fail(v, `Unrecognized value ${describe(v)}`, EXPECT_VALUE);
  };
  // inList parses `path in [v, …]`: comparisons with eq joined by or, in
  // parentheses, as internal/filter builds them.
  const inList = (node, o) => {
    const open = next();
    if (open.type === "error") fail(open, open.val);
    if (open.type !== "lbracket") fail(open, `Missing '[' after '${o.val}' (a list looks like ["a", "b"])`, "[");
    let list = null;
    while (true) {
      const v = peek();
      if (v.type === "rbracket" && list === null) fail({ pos: open.pos, end: v.end }, "Empty list after 'in'");
      next();
      const cmp = { type: "cmp", path: node.path, pos: node.pos, pathEnd: node.pathEnd, op: "eq", opPos: o.pos, value: value(v, o), valPos: v.pos, end: v.end };
      list = list === null ? cmp : { type: "or", left: list, right: cmp };
      const sep = next();
      if (sep.type === "comma") continue;
      if (sep.type === "rbracket") return { type: "paren", x: list, pos: node.pos, end: sep.end };
      if (sep.type === "error") fail(sep, sep.val);
      if (sep.type === "eof") fail(open, "Unclosed '[': the filter ends before its ']'");
      fail(sep, "Unexpected " + describe(sep) + " in a list", ", or ]");
    }
  };
  const compare = () => {
    const t = next();
    if (t.type === "error") fail(t, t.val);
    if (t.type !== "word" || RESERVED.has(t.val.toLowerCase())) unexpected(t, EXPECT_START);
    const node = { type: "cmp", path: t.val.split("."), pos: t.pos, pathEnd: t.end };
    const o = next();
    if (o.type === "error") fail(o, o.val);
    if (o.type === "eof") fail(o, `Missing attribute operator after '${t.val}'`, OP_LIST);
    if (o.type === "lbracket") fail(o, VALUE_PATH_MSG);
    if (o.type !== "word") fail(o, `Unrecognized attribute operator ${describe(o)}`, OP_LIST);
    if (o.val.toLowerCase() === "in") return inList(node, o);
    const op = o.val.toLowerCase();
    if (!OPS.includes(op)) fail(o, `Unrecognized attribute operator '${o.val}'`, OP_LIST);
    node.op = op;
    node.opPos = o.pos;
    node.end = o.end;
    if (op === "pr") return node;
    const v = next();
    node.value = value(v, o);
    node.valPos = v.pos;
    node.end = v.end;
    return node;
  };

  if (peek().type === "eof") throw new FilterError(0, src.length, "Empty filter", EXPECT_START);
  const e = or();
  const t = peek();
  if (t.type !== "eof") unexpected(t, EXPECT_END);
  validate(e);
  return e;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function validate(e) {
  if (!e) return;
  if (e.type === "and" || e.type === "or") { validate(e.left); validate(e.right); return; }
  if (e.type === "not" || e.type === "paren") { validate(e.x); return; }
  const p0 = e.path[0];
  if (!TOP_LEVEL.includes(p0)) throw new FilterError(e.pos, e.pos + p0.length, "field is not valid: " + p0);
  const kind = e.value && e.value.kind;
  const published = e.path.length === 1 && p0 === "published";
  const unsupported = () => new FilterError(e.opPos, e.end,
    `The supplied combination of operator and field is not currently supported. Operator: ${e.op}, Field: ${e.path.join(".")}`);
  if (e.op === "pr") return;
  if (["co", "sw", "ew"].includes(e.op) && (kind !== "string" || published)) throw unsupported();
  if (["gt", "ge", "lt", "le"].includes(e.op) && (kind === "bool" || kind === "null")) throw unsupported();
  if (published && !(kind === "string" && RFC3339.test(e.value.v) && !Number.isNaN(Date.parse(e.value.v)))) {
    throw new FilterError(e.valPos, e.end, `published needs an RFC 3339 time in double quotes such as "2026-03-02T00:00:00Z"`);
  }
}

// isKeywordSearch decides whether the search box holds plain keywords (sent
// as q) rather than a filter: no quote, no parenthesis, and no word that is
// an operator or a logical keyword. "a2b7 login" is keywords; "actor.id eq"
// is a (broken) filter, so its error is shown.
export function isKeywordSearch(text) {
  const t = text.trim();
  if (t === "" || /["()\[\]]/.test(t)) return false;
  return !t.split(/\s+/).some((w) => RESERVED.has(w.toLowerCase()));
}

// checkKeywords applies the q limits (at most 10 keywords of at most 40
// characters) and returns a FilterError or null.
export function checkKeywords(text) {
  const words = [];
  const re = /\S+/g;
  let m;
  while ((m = re.exec(text))) words.push(m);
  if (words.length > 10) return new FilterError(words[10].index, text.length, "At most 10 keywords are allowed");
  for (const w of words) {
    if (w[0].length > 40) return new FilterError(w.index, w.index + w[0].length, "A keyword may have at most 40 characters");
  }
  return null;
}

// quote renders a JSON value as a filter literal.
export function literal(v) {
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (v === null) return "null";
  return JSON.stringify(String(v));
}

// addClause returns query with `clause` joined by "and", wrapping the old
// query in parentheses only when its top level is an "or" (so the result
// means what it says).
export function addClause(query, clause) {
  const q = query.trim();
  if (q === "") return clause;
  let top = null;
  try { top = parse(q); } catch { top = null; }
  if (top && top.type !== "or") return `${q} and ${clause}`;
  return `(${q}) and ${clause}`;
}
