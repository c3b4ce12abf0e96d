// Telegram's HTML subset (parse_mode HTML) drawn as DOM nodes, for the
// previews of broadcasts and notices. Only b, i, u, s, a (an http or https
// href), code and pre become elements; any other tag, and any tag that
// does not close in order, stays text. Nothing goes through innerHTML, so
// the text the admin types can never run script in the panel.

import { h, safeURL } from './dom.js';

const TAG = /^<(\/?)(b|i|u|s|a|code|pre)((?:\s+href\s*=\s*(?:"[^"<>]*"|'[^'<>]*'))?)\s*>/i;
const ENTITY = /^&(lt|gt|amp|quot|#\d{1,7}|#x[0-9a-f]{1,6});/i;
const NAMED = { lt: '<', gt: '>', amp: '&', quot: '"' };

function entity(name) {
  const n = name.toLowerCase();
  if (NAMED[n]) return NAMED[n];
  const code = n.startsWith('#x') ? parseInt(n.slice(2), 16) : parseInt(n.slice(1), 10);
  try {
    return String.fromCodePoint(code);
  } catch {
    return `&${name};`;
  }
}

// tokens splits text into tags and text; a "<" that starts no allowed tag
// is text.
function tokens(text) {
  const out = [];
  let buf = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '<') {
      const m = TAG.exec(text.slice(i, i + 2100));
      if (m) {
        if (buf) out.push({ text: buf });
        buf = '';
        let href = null;
        if (m[3]) href = m[3].replace(/^\s+href\s*=\s*/i, '').slice(1, -1).replace(/&(lt|gt|amp|quot);/gi, (_, e) => NAMED[e.toLowerCase()]);
        out.push({ close: m[1] === '/', tag: m[2].toLowerCase(), href, raw: m[0] });
        i += m[0].length;
        continue;
      }
    } else if (c === '&') {
      const m = ENTITY.exec(text.slice(i, i + 12));
      if (m) {
        buf += entity(m[1]);
        i += m[0].length;
        continue;
      }
    }
    buf += c;
    i++;
  }
  if (buf) out.push({ text: buf });
  return out;
}

// telegramHTML renders text in Telegram's HTML subset into a fragment.
// A closing tag that does not match the innermost open one is text; tags
// left open close at the end.
export function telegramHTML(text) {
  const root = document.createDocumentFragment();
  const stack = [root];
  const names = [];
  const top = () => stack[stack.length - 1];
  for (const tok of tokens(String(text ?? ''))) {
    if (tok.text !== undefined) {
      top().append(document.createTextNode(tok.text));
    } else if (tok.close) {
      if (names.length && names[names.length - 1] === tok.tag) {
        names.pop();
        stack.pop();
      } else {
        top().append(document.createTextNode(tok.raw));
      }
    } else if (tok.tag === 'a' && (!tok.href || !safeURL(tok.href) || !/^https?:/i.test(tok.href.trim()))) {
      // A link without a web address: its text shows, the link does not.
      top().append(document.createTextNode(tok.raw));
    } else if (names.includes('pre') || names.includes('code')) {
      // Telegram takes nothing inside code.
      top().append(document.createTextNode(tok.raw));
    } else {
      const el = tok.tag === 'a'
        ? h('a', { href: safeURL(tok.href), target: '_blank', rel: 'noopener noreferrer' })
        : h(tok.tag);
      top().append(el);
      stack.push(el);
      names.push(tok.tag);
    }
  }
  return root;
}

// telegramPreview is a message bubble showing text as Telegram would, with
// an optional button under it.
export function telegramPreview(text, buttonText, testid = 'tg-preview') {
  return h('div', { class: 'tg-preview', 'data-testid': testid },
    h('div', { class: 'tg-bubble', 'data-testid': `${testid}-text` }, telegramHTML(text)),
    buttonText ? h('div', { class: 'tg-button', 'data-testid': `${testid}-button` }, buttonText) : null);
}
