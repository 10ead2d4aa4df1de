// Building elements without innerHTML: text from the API never becomes markup.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function toast(message, kind = 'ok') {
  const box = $('#toast') || document.body.appendChild(h('div', { id: 'toast', role: 'status' }));
  box.className = `toast ${kind}`;
  box.replaceChildren(message); // text, or nodes (an error's server detail kept as it is)
  clearTimeout(box._timer);
  box._timer = setTimeout(() => { box.className = 'toast hidden'; }, 4000);
}
