// Alertmanager matcher syntax in the browser: `{severity="critical",team=~"db.*"}`, braces optional, commas between
// matchers, quoted or bare values. Syntax errors are caught here with a clear message; the server still validates
// everything (regexes are RE2 there) and its 400 text is shown as it comes.

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const OPS = ['=~', '!~', '!=', '='];

/** A syntax error with the offending input, e.g. `bad matcher format: foo`. */
export class MatcherError extends Error {}

/** Splits on commas outside double quotes. */
function splitList(s) {
  const out = [];
  let cur = '';
  let inQuote = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inQuote && c === '\\' && i + 1 < s.length) {
      cur += c + s[++i];
      continue;
    }
    if (c === '"') inQuote = !inQuote;
    if (c === ',' && !inQuote) {
      out.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  if (inQuote) throw new MatcherError(`missing closing quote: ${s}`);
  out.push(cur);
  return out;
}

function unquote(raw, whole) {
  if (!(raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"'))) {
    if (raw.includes('"')) throw new MatcherError(`matcher value contains unescaped double quote: ${whole}`);
    return raw;
  }
  const inner = raw.slice(1, -1);
  let out = '';
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i];
    if (c === '\\' && i + 1 < inner.length) {
      const n = inner[i + 1];
      if (n === '"' || n === '\\') { out += n; i++; continue; }
      if (n === 'n') { out += '\n'; i++; continue; }
    }
    if (c === '"') throw new MatcherError(`matcher value contains unescaped double quote: ${whole}`);
    out += c;
  }
  return out;
}

/** Parses one matcher `name op value` into `{name, value, isRegex, isEqual}`. */
export function parseMatcher(input) {
  const s = input.trim();
  let name = null;
  let rest = '';
  if (s.startsWith('"')) {
    const end = s.indexOf('"', 1);
    if (end < 0) throw new MatcherError(`bad matcher format: ${s}`);
    name = s.slice(1, end);
    rest = s.slice(end + 1).trimStart();
  } else {
    const m = /^([^\s=!~"]+)\s*(.*)$/s.exec(s);
    if (!m) throw new MatcherError(`bad matcher format: ${s}`);
    name = m[1];
    rest = m[2];
    if (!NAME.test(name)) throw new MatcherError(`invalid label name "${name}": ${s}`);
  }
  const op = OPS.find((o) => rest.startsWith(o));
  if (!op || !name) throw new MatcherError(`bad matcher format: ${s}`);
  const value = unquote(rest.slice(op.length).trim(), s);
  return { name, value, isRegex: op.includes('~'), isEqual: !op.startsWith('!') };
}

/** Parses a list (`{a="1", b=~"2"}` or `a=1,b=~2`); empty input is an empty list. */
export function parseMatchers(input) {
  let s = (input || '').trim();
  if (s.startsWith('{')) s = s.slice(1);
  if (s.endsWith('}')) s = s.slice(0, -1);
  if (s.includes('{') || s.includes('}')) {
    // braces are only allowed around the whole list (quoted values may contain them)
    const unquoted = s.replace(/"(?:\\.|[^"\\])*"/g, '""');
    if (unquoted.includes('{') || unquoted.includes('}')) {
      throw new MatcherError(`unexpected open or close brace: ${input.trim()}`);
    }
  }
  if (!s.trim()) return [];
  const parts = splitList(s);
  if (parts.length > 1 && !parts[parts.length - 1].trim()) parts.pop(); // one trailing comma is fine
  return parts.map((p) => {
    if (!p.trim()) throw new MatcherError(`bad matcher format: ${input.trim()}`);
    return parseMatcher(p);
  });
}

/** The operator of a matcher: `=`, `!=`, `=~` or `!~`. */
export function operator(m) {
  if (m.isRegex) return m.isEqual === false ? '!~' : '=~';
  return m.isEqual === false ? '!=' : '=';
}

function quote(v) {
  return '"' + v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') + '"';
}

/** One matcher as the API's `filter` parameter takes it: `name="value"`. */
export function formatMatcher(m) {
  const name = NAME.test(m.name) ? m.name : quote(m.name);
  return name + operator(m) + quote(m.value);
}

/** A list in Alertmanager's brace form. */
export function formatMatchers(ms) {
  return '{' + ms.map(formatMatcher).join(', ') + '}';
}

/** Equality matchers for every label of an alert (what "Silence" pre-fills). */
export function matchersFromLabels(labels) {
  return Object.keys(labels || {}).sort().map((name) => ({ name, value: labels[name], isRegex: false, isEqual: true }));
}

/** True when a matcher certainly matches the empty string (a silence needs one that does not). */
export function matchesEmpty(m) {
  if (!m.isRegex) return m.isEqual !== false ? m.value === '' : m.value !== '';
  try {
    const re = new RegExp('^(?:' + m.value + ')$', 'u');
    return m.isEqual !== false ? re.test('') : !re.test('');
  } catch {
    return false; // RE2 syntax JavaScript lacks: let the server decide
  }
}
