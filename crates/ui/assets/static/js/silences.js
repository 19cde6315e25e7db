// The silences pages: #/silences (active / pending / expired tabs, filter) and #/silences/:id (details, affected
// alerts, edit, expire with confirmation).
import { api } from './api.js';
import { h, clear, confirmDialog } from './dom.js';
import { t } from './i18n.js';
import { timeEl, absTime, formatDuration } from './format.js';
import { parseMatchers, formatMatcher, formatMatchers, MatcherError } from './matchers.js';
import { hashFor, replaceHash } from './router.js';

const STATES = ['active', 'pending', 'expired'];

function matcherChips(ms) {
  return h('span', { class: 'chips' }, (ms || []).map((m) => h('span', { class: 'chip matcher' }, formatMatcher(m))));
}

/** Expires after asking; resolves to true when expired. Errors are shown in `errEl`. */
async function expire(s, errEl) {
  const ok = await confirmDialog(t('silence.expireTitle'), t('silence.expireBody', { m: formatMatchers(s.matchers) }),
    t('silence.expire'), t('common.cancel'));
  if (!ok) return false;
  try {
    await api.expireSilence(s.id);
    return true;
  } catch (e) {
    errEl.textContent = e.message;
    return false;
  }
}

function actions(s, onChanged, errEl, showView = true) {
  const st = s.status.state;
  return h('span', { class: 'silence-actions' },
    showView ? h('a', { class: 'btn small', href: hashFor('/silences/' + s.id) }, t('silence.view')) : null,
    st !== 'expired' ? h('a', { class: 'btn small', href: hashFor('/silences/' + s.id + '/edit') }, t('silence.edit')) : null,
    st === 'expired'
      ? h('a', { class: 'btn small', href: hashFor('/silences/new', { filter: formatMatchers(s.matchers), comment: s.comment }) }, t('silence.recreate'))
      : h('button', { type: 'button', class: 'btn small danger expire-btn',
        onclick: async () => { if (await expire(s, errEl)) onChanged(); } }, t('silence.expire')));
}

/** #/silences */
export function mountList(root, route) {
  const p = route.params;
  let tab = STATES.includes(p.get('state')) ? p.get('state') : 'active';
  let filterText = p.get('filter') || '';
  let data = [];
  const input = h('input', { id: 'silence-filter', type: 'text', value: filterText, autocomplete: 'off', spellcheck: 'false',
    placeholder: '{alertname="Foo"}', 'aria-describedby': 'silence-filter-error' });
  const error = h('p', { id: 'silence-filter-error', class: 'field-error', role: 'alert' });
  const tabs = h('div', { class: 'tabs', role: 'tablist', 'aria-label': t('silences.states') });
  const panel = h('div', { class: 'silence-list', role: 'tabpanel', id: 'silence-panel' });
  clear(root).append(
    h('div', { class: 'page-head' }, h('h1', { class: 'page-title' }, t('nav.silences')),
      h('a', { class: 'btn primary', href: '#/silences/new' }, t('silence.new'))),
    h('form', { class: 'filter-form', role: 'search', onsubmit: (e) => { e.preventDefault(); filterText = input.value; load(); } },
      h('label', { for: 'silence-filter', class: 'filter-label' }, t('filter.label')),
      h('div', { class: 'filter-box' }, input),
      h('button', { type: 'submit', class: 'btn primary' }, t('filter.apply'))),
    error, tabs, panel);

  function renderTabs() {
    clear(tabs);
    for (const s of STATES) {
      const n = data.filter((x) => x.status.state === s).length;
      tabs.append(h('button', { type: 'button', role: 'tab', id: 'tab-' + s, class: 'tab state-' + s, 'aria-selected': String(s === tab),
        'aria-controls': 'silence-panel', onclick: () => { tab = s; sync(); render(); } }, t('silences.' + s), ' ', h('span', { class: 'count' }, String(n))));
    }
  }

  function render() {
    renderTabs();
    clear(panel);
    const rows = data.filter((x) => x.status.state === tab);
    if (!rows.length) {
      panel.append(h('p', { class: 'empty' }, t('silences.none')));
      return;
    }
    const errEl = error;
    panel.append(h('ul', { class: 'cards' }, rows.map((s) => h('li', { class: 'card silence state-' + s.status.state, dataset: { id: s.id } },
      h('div', { class: 'card-head' }, matcherChips(s.matchers), h('span', { class: 'spacer' }), actions(s, load, errEl)),
      h('div', { class: 'meta' },
        h('span', {}, s.status.state === 'pending' ? t('silence.starts') : t('silence.started'), ' ', timeEl(h, s.startsAt)),
        h('span', {}, s.status.state === 'expired' ? t('silence.ended') : t('silence.ends'), ' ', timeEl(h, s.endsAt)),
        h('span', {}, t('silence.createdBy'), ' ', h('strong', {}, s.createdBy))),
      s.comment ? h('p', { class: 'comment' }, s.comment) : null))));
  }

  function sync() {
    replaceHash('/silences', { filter: filterText, state: tab === 'active' ? '' : tab });
  }

  async function load() {
    let filter = [];
    try {
      filter = parseMatchers(filterText).map(formatMatcher);
      error.textContent = '';
    } catch (e) {
      if (!(e instanceof MatcherError)) throw e;
      error.textContent = e.message;
      return;
    }
    sync();
    root.setAttribute('aria-busy', 'true');
    try {
      data = (await api.silences({ filter })) || [];
      render();
    } catch (e) {
      error.textContent = e.status === 400 ? e.message : t('error.api', { msg: e.message });
    } finally {
      root.setAttribute('aria-busy', 'false');
    }
  }

  load();
  return { refresh: () => { if (!document.hidden && !document.getElementById('confirm').open) load(); }, destroy: () => {} };
}

/** #/silences/:id */
export function mountView(root, route) {
  const id = route.segments[1];
  const error = h('p', { class: 'field-error', role: 'alert' });
  const body = h('div', { class: 'silence-detail' });
  clear(root).append(h('h1', { class: 'page-title' }, t('silence.title')), error, body);

  async function load() {
    root.setAttribute('aria-busy', 'true');
    try {
      const s = await api.silence(id);
      const affected = await api.alerts({ filter: s.matchers.map(formatMatcher), silenced: true, inhibited: true, active: true });
      render(s, affected || []);
    } catch (e) {
      error.textContent = e.status === 404 ? t('silence.notFound', { id }) : t('error.api', { msg: e.message });
    } finally {
      root.setAttribute('aria-busy', 'false');
    }
  }

  function render(s, affected) {
    const row = (k, v) => [h('dt', {}, k), h('dd', {}, v)];
    const dur = new Date(s.endsAt) - new Date(s.startsAt);
    clear(body).append(
      h('div', { class: 'card-head' }, h('span', { class: 'state-badge state-' + s.status.state, id: 'silence-state' }, t('silences.' + s.status.state)),
        h('span', { class: 'spacer' }), actions(s, load, error, false)),
      h('dl', { class: 'details' },
        row(t('silence.id'), h('code', {}, s.id)),
        row(t('silence.matchers'), matcherChips(s.matchers)),
        row(t('silence.startsAt'), [absTime(s.startsAt), ' (', timeEl(h, s.startsAt), ')']),
        row(t('silence.endsAt'), [absTime(s.endsAt), ' (', timeEl(h, s.endsAt), ')']),
        row(t('silence.duration'), formatDuration(dur)),
        row(t('silence.updatedAt'), absTime(s.updatedAt)),
        row(t('silence.createdBy'), s.createdBy),
        row(t('silence.comment'), h('span', { class: 'comment' }, s.comment))),
      h('h2', {}, t('silence.affected', { n: affected.length })),
      affected.length
        ? h('ul', { class: 'affected' }, affected.slice(0, 200).map((a) => h('li', {},
          Object.keys(a.labels).sort().map((n) => h('span', { class: 'chip' }, `${n}="${a.labels[n]}"`)))))
        : h('p', { class: 'empty' }, t('silence.noAffected')));
  }

  load();
  return { refresh: () => { if (!document.hidden && !document.getElementById('confirm').open) load(); }, destroy: () => {} };
}
