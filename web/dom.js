// The one place that writes the DOM. Every page builds its elements with h(); text always
// becomes text nodes (textContent), attributes come only from an allow-list, links and sources
// only point inside this site, and event handlers are functions passed to addEventListener.
// Nothing here ever parses a string as markup, so text from the network (SIP display names,
// URIs, metadata XML, audit detail) can only ever be shown as text.
// The lint test tests/web/lint_web.py rejects the markup-parsing APIs everywhere under web/.

const kAttributes = new Set([
  'id', 'class', 'href', 'type', 'name', 'value', 'placeholder', 'for', 'title', 'download',
  'disabled', 'checked', 'selected', 'min', 'max', 'step', 'role', 'src', 'preload', 'controls',
  'width', 'height', 'colspan', 'rowspan', 'autocomplete', 'required', 'method', 'action',
  'scope', 'tabindex', 'open', 'label', 'datetime', 'hidden', 'list', 'maxlength', 'pattern',
  'inputmode', 'spellcheck', 'autocapitalize', 'alt', 'low', 'high', 'optimum', 'multiple',
  'minlength', 'size', 'rows',
]);
const kBooleanAttributes = new Set([
  'disabled', 'checked', 'selected', 'controls', 'required', 'open', 'hidden', 'multiple',
  'download',
]);
// Elements that would run code, load other documents or change how the page is read.
const kForbiddenTags = new Set([
  'script', 'style', 'iframe', 'frame', 'frameset', 'object', 'embed', 'link', 'meta', 'base',
  'template', 'svg', 'math', 'portal',
]);

// A link target inside this site: "/path", "#frag" or "?query" — never another origin ("//host",
// "/\host"), never another scheme, never control characters or white space that URL parsers
// strip before reading the scheme.
export function isLocalUrl(value) {
  const s = String(value);
  if (/[\u0000-\u0020\u007f\\]/.test(s)) return false;
  if (!/^[/#?]/.test(s)) return false;
  return !s.startsWith('//');
}

function isLocalPath(value) {
  return isLocalUrl(value) && String(value).startsWith('/');
}

function setAttr(el, name, value) {
  const key = name.toLowerCase();
  if (value === undefined || value === null || value === false) return;
  const allowed = kAttributes.has(key) || /^(aria|data)-[a-z0-9][a-z0-9-]*$/.test(key);
  if (!allowed) {
    console.warn(`dom: attribute ${key} is not allowed; dropped`);
    return;
  }
  if (key === 'href' && !isLocalUrl(value)) return;
  if (key === 'src' && !isLocalPath(value)) return;
  if (kBooleanAttributes.has(key) && value === true) {
    el.setAttribute(key, '');
    return;
  }
  el.setAttribute(key, String(value));
}

function appendChildren(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false || child === true) continue;
    if (Array.isArray(child)) {
      appendChildren(el, child);
    } else if (child instanceof Node) {
      el.appendChild(child);
    } else {
      el.appendChild(document.createTextNode(String(child)));
    }
  }
}

// h('a', {href: '/calls/1', class: 'x', on: {click: fn}}, 'text', otherNode, [more])
// attrs may be null. `class` may be an array (falsy entries skipped). `on` maps event names to
// functions (addEventListener). Children: strings and numbers become text nodes, Nodes are
// appended, arrays are flattened, null/undefined/booleans are skipped.
export function h(tag, attrs, ...children) {
  const name = String(tag).toLowerCase();
  if (kForbiddenTags.has(name)) throw new Error(`dom: <${name}> may not be created`);
  const el = document.createElement(name);
  let selectValue = null;
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === 'on') {
      for (const [event, fn] of Object.entries(value || {})) {
        if (typeof fn === 'function') el.addEventListener(event, fn);
      }
    } else if (key === 'class') {
      const cls = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
      if (cls) el.setAttribute('class', String(cls));
    } else if (key === 'value' && (name === 'select' || name === 'textarea')) {
      selectValue = value;
    } else {
      setAttr(el, key, value);
    }
  }
  appendChildren(el, children);
  if (selectValue !== null && selectValue !== undefined) el.value = String(selectValue);
  return el;
}

// Removes every child of el.
export function clear(el) {
  el.replaceChildren();
  return el;
}

// Sets el's content to text (as text).
export function setText(el, text) {
  el.textContent = text === null || text === undefined ? '' : String(text);
  return el;
}

// Replaces el's children with children (same rules as h()).
export function replace(el, ...children) {
  el.replaceChildren();
  appendChildren(el, children);
  return el;
}

// Sets or removes one allow-listed attribute on an existing element.
export function attr(el, name, value) {
  if (value === null || value === undefined || value === false) {
    el.removeAttribute(String(name).toLowerCase());
  } else {
    setAttr(el, name, value);
  }
  return el;
}
