// Create and edit a silence (#/silences/new?filter=…&comment=…, #/silences/:id/edit): matchers editor, start,
// duration or end, author, comment, a live preview of the alerts it would silence, and the API's errors shown next
// to the field they concern.
import { api } from './api.js';
import { h, clear, debounce } from './dom.js';
import { t } from './i18n.js';
import { parseDuration, formatDuration, toLocalInput, fromLocalInput } from './format.js';
import { parseMatchers, formatMatcher, operator, matchesEmpty, MatcherError } from './matchers.js';
import { hashFor } from './router.js';

const AUTHOR_KEY = 'tocsin.author';
const DEFAULT_DURATION = 2 * 3600e3;

/** Which field a server message is about, so it is shown next to that field. */
export function fieldOf(message) {
  const m = message.toLowerCase();
  if (m.includes('matcher') || m.includes('regular expression') || m.includes('label')) return 'matchers';
  if (m.includes('start') || m.includes('end') || m.includes('time')) return 'time';
  if (m.includes('createdby') || m.includes('created_by')) return 'author';
  if (m.includes('comment')) return 'comment';
  return 'general';
}

export function mount(root, route) {
  const editId = route.segments[2] === 'edit' ? route.segments[1] : null;
  const p = route.params;
  const now = new Date();
  const st = { starts: now, ends: new Date(now.getTime() + DEFAULT_DURATION) };
  let previewController = null;

  const errors = {};
  const errEl = (name) => (errors[name] = h('p', { class: 'field-error', id: 'err-' + name, role: 'alert' }));
  const rows = h('div', { class: 'matcher-rows', id: 'matcher-rows' });
  const startsIn = h('input', { type: 'datetime-local', id: 'starts-at', 'aria-describedby': 'err-time' });
  const durationIn = h('input', { type: 'text', id: 'duration', class: 'short', autocomplete: 'off', spellcheck: 'false',
    placeholder: '2h', 'aria-describedby': 'err-time duration-help' });
  const endsIn = h('input', { type: 'datetime-local', id: 'ends-at', 'aria-describedby': 'err-time' });
  const authorIn = h('input', { type: 'text', id: 'created-by', autocomplete: 'name', 'aria-describedby': 'err-author',
    value: localStorage.getItem(AUTHOR_KEY) || '' });
  const commentIn = h('textarea', { id: 'comment', rows: 3, 'aria-describedby': 'err-comment' }, p.get('comment') || '');
  const preview = h('div', { class: 'preview', id: 'preview', 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'btn primary', id: 'silence-submit' }, t(editId ? 'silence.update' : 'silence.create'));

  const form = h('form', { class: 'silence-form', novalidate: true, onsubmit: (e) => { e.preventDefault(); save(); } },
    h('fieldset', {}, h('legend', {}, t('silence.matchers')),
      rows,
      h('button', { type: 'button', class: 'btn small', id: 'add-matcher', onclick: () => { addRow(); focusLast(); } }, t('silence.addMatcher')),
      errEl('matchers')),
    h('fieldset', { class: 'times' }, h('legend', {}, t('silence.when')),
      h('label', {}, t('silence.startsAt'), startsIn),
      h('label', {}, t('silence.duration'), durationIn),
      h('label', {}, t('silence.endsAt'), endsIn),
      h('p', { class: 'hint', id: 'duration-help' }, t('silence.durationHelp')),
      errEl('time')),
    h('label', { class: 'block' }, t('silence.createdBy'), authorIn), errEl('author'),
    h('label', { class: 'block' }, t('silence.comment'), commentIn), errEl('comment'),
    errEl('general'),
    h('div', { class: 'actions' }, submit,
      h('button', { type: 'button', class: 'btn', onclick: () => { location.hash = editId ? hashFor('/silences/' + editId) : '#/silences'; } }, t('common.cancel'))));

  clear(root).append(h('h1', { class: 'page-title' }, t(editId ? 'silence.editTitle' : 'silence.newTitle')),
    h('div', { class: 'form-layout' }, form,
      h('aside', { class: 'preview-pane', 'aria-label': t('silence.preview') }, h('h2', {}, t('silence.preview')), preview)));

  authorIn.addEventListener('input', () => { errors.author.textContent = ''; });
  commentIn.addEventListener('input', () => { errors.comment.textContent = ''; });

  function addRow(m = { name: '', value: '', isRegex: false, isEqual: true }) {
    const name = h('input', { type: 'text', class: 'm-name', 'aria-label': t('silence.labelName'), placeholder: 'alertname', value: m.name,
      autocomplete: 'off', spellcheck: 'false' });
    const op = h('select', { class: 'm-op', 'aria-label': t('silence.operator') }, ['=', '!=', '=~', '!~'].map((o) => h('option', { value: o }, o)));
    op.value = operator(m);
    const value = h('input', { type: 'text', class: 'm-value', 'aria-label': t('silence.labelValue'), value: m.value,
      autocomplete: 'off', spellcheck: 'false' });
    const row = h('div', { class: 'matcher-row' }, name, op, value,
      h('button', { type: 'button', class: 'btn small icon', 'aria-label': t('silence.removeMatcher'),
        onclick: () => { row.remove(); if (!rows.children.length) addRow(); changed(); } }, '×'));
    for (const el of [name, op, value]) el.addEventListener('input', changed);
    rows.append(row);
  }
  const focusLast = () => rows.lastElementChild.querySelector('.m-name').focus();

  function readMatchers() {
    return [...rows.children].map((r) => {
      const op = r.querySelector('.m-op').value;
      return { name: r.querySelector('.m-name').value.trim(), value: r.querySelector('.m-value').value,
        isRegex: op.includes('~'), isEqual: !op.startsWith('!') };
    }).filter((m) => m.name || m.value);
  }

  function setTimes(starts, ends, from) {
    st.starts = starts;
    st.ends = ends;
    if (from !== 'starts') startsIn.value = toLocalInput(starts);
    if (from !== 'ends') endsIn.value = toLocalInput(ends);
    if (from !== 'duration') durationIn.value = ends > starts ? formatDuration(ends - starts) : '';
  }
  startsIn.addEventListener('input', () => {
    const d = fromLocalInput(startsIn.value);
    if (d) setTimes(d, new Date(d.getTime() + Math.max(st.ends - st.starts, 60e3)), 'starts');
  });
  durationIn.addEventListener('input', () => {
    const ms = parseDuration(durationIn.value);
    errors.time.textContent = ms ? '' : t('silence.badDuration');
    if (ms) setTimes(st.starts, new Date(st.starts.getTime() + ms), 'duration');
  });
  endsIn.addEventListener('input', () => {
    const d = fromLocalInput(endsIn.value);
    if (d) setTimes(st.starts, d, 'ends');
  });

  function validate(ms) {
    for (const k of Object.keys(errors)) errors[k].textContent = '';
    let ok = true;
    const fail = (k, msg) => { errors[k].textContent = msg; ok = false; };
    if (!ms.length) fail('matchers', t('silence.needMatcher'));
    else if (ms.some((m) => !m.name)) fail('matchers', t('silence.needName'));
    else if (ms.every(matchesEmpty)) fail('matchers', 'silence invalid: at least one matcher must not match the empty string');
    if (!(st.ends > st.starts)) fail('time', 'start time must be before end time');
    if (!authorIn.value.trim()) fail('author', t('silence.needAuthor'));
    if (!commentIn.value.trim()) fail('comment', t('silence.needComment'));
    return ok;
  }

  async function save() {
    const ms = readMatchers();
    if (!validate(ms)) {
      const first = Object.values(errors).find((e) => e.textContent);
      if (first) first.scrollIntoView({ block: 'center' });
      return;
    }
    localStorage.setItem(AUTHOR_KEY, authorIn.value.trim());
    const body = { matchers: ms, startsAt: st.starts.toISOString(), endsAt: st.ends.toISOString(),
      createdBy: authorIn.value.trim(), comment: commentIn.value };
    if (editId) body.id = editId;
    submit.disabled = true;
    try {
      const res = await api.postSilence(body);
      location.hash = hashFor('/silences/' + res.silenceID);
    } catch (e) {
      errors[fieldOf(e.message)].textContent = e.message;
    } finally {
      submit.disabled = false;
    }
  }

  const changed = debounce(async () => {
    const ms = readMatchers().filter((m) => m.name);
    if (previewController) previewController.abort();
    if (!ms.length) {
      clear(preview).append(h('p', { class: 'empty' }, t('silence.previewEmpty')));
      return;
    }
    previewController = new AbortController();
    try {
      const alerts = (await api.alerts({ filter: ms.map(formatMatcher), silenced: true, inhibited: true, active: true },
        { signal: previewController.signal })) || [];
      errors.matchers.textContent = '';
      clear(preview).append(h('p', { class: 'preview-count', id: 'preview-count', dataset: { count: String(alerts.length) } },
        t('silence.previewCount', { n: alerts.length })),
      h('ul', { class: 'affected' }, alerts.slice(0, 100).map((a) => h('li', {},
        Object.keys(a.labels).sort().map((n) => h('span', { class: n === 'alertname' ? 'chip alertname' : 'chip' }, `${n}="${a.labels[n]}"`))))),
      h('p', { class: 'hint', hidden: alerts.length <= 100 }, t('silence.previewMore', { n: alerts.length - 100 })));
    } catch (e) {
      if (e.name === 'AbortError') return;
      clear(preview);
      errors.matchers.textContent = e.message;
    }
  }, 300);

  async function init() {
    let initial = [];
    if (editId) {
      try {
        const s = await api.silence(editId);
        initial = s.matchers;
        authorIn.value = s.createdBy;
        commentIn.value = s.comment;
        const starts = new Date(s.startsAt) < new Date() ? new Date() : new Date(s.startsAt);
        setTimes(starts, new Date(s.endsAt), null);
      } catch (e) {
        errors.general.textContent = e.message;
      }
    } else {
      try {
        initial = parseMatchers(p.get('filter') || '');
      } catch (e) {
        if (!(e instanceof MatcherError)) throw e;
        errors.matchers.textContent = e.message;
      }
      setTimes(st.starts, st.ends, null);
    }
    for (const m of initial) addRow(m);
    if (!rows.children.length) addRow();
    changed();
    root.setAttribute('aria-busy', 'false');
  }

  init();
  return { refresh: () => {}, destroy: () => { changed.cancel(); if (previewController) previewController.abort(); } };
}
