// Forms: a form's schema (FormKit nodes) in a JSON editor, checked as JSON
// before saving; the server's 422 field messages are listed by field.

import { h, clear, debounce } from '../dom.js';
import { api, isAbort } from '../api.js';
import { t } from '../i18n.js';
import {
  card, clearFieldErrors, errorBox, fieldError, loading, setFieldError, toast,
} from '../components.js';

let alias = 'checkout';

// locate finds where JSON text first goes wrong, as an index and a
// reason: engines word JSON.parse's errors differently, and not all of
// them say where.
function locate(text) {
  let i = 0;
  const fail = (why) => { const e = new Error(why); e.at = i; throw e; };
  const ws = () => { while (i < text.length && ' \t\n\r'.includes(text[i])) i++; };
  const what = () => (i >= text.length ? t('forms.json_end') : t('forms.json_char', { c: text[i] }));
  const expect = (c) => { if (text[i] !== c) fail(t('forms.json_expected', { want: c, got: what() })); i++; };
  const str = () => {
    expect('"');
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') {
        i++;
        if (text[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail(t('forms.json_escape'));
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] || '')) fail(t('forms.json_escape'));
      } else if (text.charCodeAt(i) < 0x20) fail(t('forms.json_control'));
      i++;
    }
    expect('"');
  };
  const value = () => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++; ws();
      if (text[i] === '}') { i++; return; }
      for (;;) {
        ws(); str(); ws(); expect(':'); value(); ws();
        if (text[i] === ',') { i++; continue; }
        expect('}'); return;
      }
    }
    if (c === '[') {
      i++; ws();
      if (text[i] === ']') { i++; return; }
      for (;;) {
        value(); ws();
        if (text[i] === ',') { i++; continue; }
        expect(']'); return;
      }
    }
    if (c === '"') { str(); return; }
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (m && m[0] !== '' && m[0] !== '-') { i += m[0].length; return; }
    for (const w of ['true', 'false', 'null']) if (text.startsWith(w, i)) { i += w.length; return; }
    fail(t('forms.json_value', { got: what() }));
  };
  try {
    value(); ws();
    if (i < text.length) fail(t('forms.json_trailing', { got: what() }));
  } catch (e) {
    return { at: e.at ?? i, why: e.message };
  }
  return null;
}

// parseError says where and why text is not JSON.
function parseError(text, err) {
  const loc = locate(text);
  if (!loc) return t('forms.parse_error', { msg: String(err.message || err) });
  const before = text.slice(0, loc.at);
  const line = before.split('\n').length;
  const col = loc.at - before.lastIndexOf('\n');
  return t('forms.parse_error_at', { line, col, msg: loc.why });
}

// check parses text as a schema: a JSON array of objects.
function check(text) {
  let v;
  try {
    v = JSON.parse(text);
  } catch (err) {
    return { error: parseError(text, err) };
  }
  if (!Array.isArray(v)) return { error: t('forms.not_array') };
  const bad = v.findIndex((n) => !n || typeof n !== 'object' || Array.isArray(n));
  if (bad >= 0) return { error: t('forms.not_object', { i: bad }) };
  return { value: v };
}

export function mount(root, ctx) {
  const ctrl = new AbortController();
  const aliasInput = h('input', {
    type: 'text', class: 'input narrow', value: alias, 'data-testid': 'form-alias', 'aria-label': t('forms.alias'),
    pattern: '[a-z0-9_-]{1,64}', spellcheck: 'false',
  });
  const loadBtn = h('button', { type: 'button', class: 'btn', 'data-testid': 'form-load' }, t('forms.load'));
  const picker = h('form', { class: 'toolbar' },
    h('label', { class: 'inline-field' }, t('forms.alias'), aliasInput), loadBtn);
  const box = h('div', { 'data-testid': 'forms' }, loading());
  root.append(picker, box);
  const go = (e) => {
    if (e) e.preventDefault();
    alias = aliasInput.value.trim() || 'checkout';
    load();
  };
  picker.addEventListener('submit', go);
  loadBtn.addEventListener('click', go);

  async function load() {
    clear(box, loading());
    try {
      const f = await api(`forms/${encodeURIComponent(alias)}`, { signal: ctrl.signal });
      render(f);
    } catch (err) {
      if (isAbort(err)) return;
      if (err.status === 404) render({ alias, title: '', schema: [] }, t('forms.new_form', { alias }));
      else clear(box, errorBox(err));
    }
  }

  function render(f, note) {
    const title = h('input', { type: 'text', class: 'input', name: 'title', id: 'form-title', value: f.title || '', 'data-testid': 'form-title' });
    const editor = h('textarea', {
      class: 'input code-editor', name: 'schema', id: 'form-schema', spellcheck: 'false', rows: '22',
      'data-testid': 'form-schema', 'aria-describedby': 'form-json-status', wrap: 'off',
    });
    editor.value = JSON.stringify(f.schema || [], null, 2);
    const jsonStatus = h('div', { class: 'json-status', id: 'form-json-status', 'data-testid': 'form-json-status', 'aria-live': 'polite' });
    const serverErrors = h('div', { 'data-testid': 'form-errors' });
    const preview = h('div', { class: 'table-wrap' });
    const save = h('button', { type: 'submit', class: 'btn primary', 'data-testid': 'form-save' }, t('common.save'));
    const format = h('button', { type: 'button', class: 'btn', 'data-testid': 'form-format' }, t('forms.format'));

    const validate = () => {
      const r = check(editor.value);
      jsonStatus.classList.toggle('bad', Boolean(r.error));
      jsonStatus.classList.toggle('good', !r.error);
      jsonStatus.dataset.valid = String(!r.error);
      editor.classList.toggle('invalid', Boolean(r.error));
      jsonStatus.textContent = r.error || t('forms.valid', { n: r.value.length });
      save.disabled = Boolean(r.error);
      format.disabled = Boolean(r.error);
      if (!r.error) renderPreview(r.value);
      return r;
    };
    const later = debounce(validate, 200);
    editor.addEventListener('input', later);
    editor.addEventListener('keydown', (e) => {
      // Tab indents rather than leaving the editor.
      if (e.key === 'Tab' && !e.shiftKey && !e.ctrlKey && !e.altKey) {
        e.preventDefault();
        editor.setRangeText('  ', editor.selectionStart, editor.selectionEnd, 'end');
        later();
      }
    });
    format.addEventListener('click', () => {
      const r = validate();
      if (!r.error) editor.value = JSON.stringify(r.value, null, 2);
    });

    function renderPreview(nodes) {
      clear(preview, h('table', { class: 'table compact', 'data-testid': 'form-preview' },
        h('thead', {}, h('tr', {}, ['#', t('forms.type'), t('forms.name'), t('forms.label'), t('forms.validation')].map((x) => h('th', {}, x)))),
        h('tbody', {}, nodes.map((n, i) => h('tr', {},
          h('td', { class: 'num' }, String(i)),
          h('td', { class: 'mono' }, String(n.$formkit ?? '')),
          h('td', { class: 'mono' }, String(n.name ?? '')),
          h('td', {}, String(n.label ?? '')),
          h('td', { class: 'mono small' }, String(n.validation ?? '')))))));
    }

    const form = h('form', { class: 'form-editor', novalidate: true, 'data-testid': 'form-editor' },
      note ? h('div', { class: 'alert info' }, note) : null,
      card(null,
        h('div', { class: 'field' }, h('label', { class: 'field-label', for: 'form-title' }, t('forms.title')), title, fieldError('title')),
        h('div', { class: 'field' },
          h('div', { class: 'field-label-row' }, h('label', { class: 'field-label', for: 'form-schema' }, t('forms.schema')), format),
          editor, jsonStatus, fieldError('schema')),
        serverErrors,
        h('div', { class: 'form-actions' }, save)),
      card(t('forms.preview'), preview));

    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const r = validate();
      if (r.error) {
        editor.focus();
        return;
      }
      clearFieldErrors(form);
      serverErrors.replaceChildren();
      save.disabled = true;
      try {
        const saved = await api(`forms/${encodeURIComponent(alias)}`, { method: 'PUT', body: { title: title.value, schema: r.value } });
        toast(t('forms.saved'));
        render(saved);
        box.querySelector('[data-testid="form-errors"]').append(h('div', { class: 'alert success', 'data-testid': 'form-saved' }, t('forms.saved')));
      } catch (err) {
        save.disabled = false;
        const fields = err.fields || {};
        const list = Object.entries(fields).filter(([k, msg]) => !(k === 'title' && setFieldError(form, k, msg)));
        clear(serverErrors, h('div', { class: 'alert error', role: 'alert', 'data-testid': 'form-server-error' },
          h('div', {}, err.status ? `HTTP ${err.status}: ` : '', err.message),
          list.length ? h('ul', { class: 'field-list' }, list.map(([k, msg]) => h('li', { 'data-field': k },
            h('code', {}, k), ' ', msg))) : null));
      }
    });
    clear(box, form);
    validate();
  }

  load();
  return () => ctrl.abort();
}
