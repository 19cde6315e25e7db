// The alerts page (#/alerts): groups as the dispatcher forms them, a matcher filter bar, state toggles, and
// lazy rendering so 10,000 alerts stay responsive: groups are appended in batches as a sentinel scrolls into view,
// large groups start collapsed, and a group's alerts are rendered 50 at a time.
import { api, ApiError } from './api.js';
import { h, clear, safeHref } from './dom.js';
import { t } from './i18n.js';
import { timeEl } from './format.js';
import { parseMatchers, formatMatcher, matchersFromLabels, formatMatchers, MatcherError } from './matchers.js';
import { hashFor, replaceHash } from './router.js';

const GROUP_BATCH = 10; // groups appended per batch (the observer keeps appending while the end is near)
const ALERT_BATCH = 50; // alerts appended per batch inside a group
const LARGE_GROUP = 100; // groups bigger than this start collapsed

/** Groups alerts by receiver when the server has no aggregation groups to offer (yet). */
export function groupByReceiver(alerts) {
  const byName = new Map();
  for (const a of alerts) {
    const names = (a.receivers || []).map((r) => r.name);
    for (const name of names.length ? names : ['']) {
      if (!byName.has(name)) byName.set(name, { labels: {}, receiver: { name }, alerts: [] });
      byName.get(name).alerts.push(a);
    }
  }
  return [...byName.values()].sort((x, y) => x.receiver.name.localeCompare(y.receiver.name));
}

/** The state an operator cares about: firing, silenced, inhibited, muted or unprocessed. */
export function alertState(a) {
  const s = a.status || {};
  if (s.state === 'active') return 'firing';
  if (s.state === 'unprocessed') return 'unprocessed';
  if ((s.silencedBy || []).length) return 'silenced';
  if ((s.inhibitedBy || []).length) return 'inhibited';
  if ((s.mutedBy || []).length) return 'muted';
  return 'suppressed';
}

const groupKey = (g) => g.receiver.name + '\u0000' + JSON.stringify(g.labels);
const escapeRegex = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function mount(root, route) {
  const p = route.params;
  const state = {
    matchers: [],
    receiver: p.get('receiver') || '',
    silenced: p.get('silenced') === 'true',
    inhibited: p.get('inhibited') === 'true',
    muted: p.get('muted') === 'true',
  };
  let initialError = '';
  try {
    state.matchers = parseMatchers(p.get('filter') || '');
  } catch (e) {
    initialError = e.message;
  }
  const expanded = new Map(); // group key -> user's choice, kept across refreshes
  let observer = null;
  let controller = null;
  let renderedGroups = 0;
  let lastGroups = [];

  // --- toolbar ---------------------------------------------------------------------------------------------------
  const input = h('input', {
    id: 'filter-input', type: 'text', autocomplete: 'off', spellcheck: 'false',
    placeholder: '{severity="critical", team=~"db.*"}', 'aria-describedby': 'filter-help filter-error',
    value: initialError ? p.get('filter') : '',
  });
  const chips = h('span', { class: 'filter-chips' });
  const error = h('p', { id: 'filter-error', class: 'field-error', role: 'alert' }, initialError);
  const receiverSelect = h('select', { id: 'receiver-select', onchange: () => { state.receiver = receiverSelect.value; changed(); } },
    h('option', { value: '' }, t('alerts.allReceivers')));
  const toggle = (key) => h('label', { class: 'toggle' },
    h('input', { type: 'checkbox', id: 'toggle-' + key, checked: state[key],
      onchange: (e) => { state[key] = e.target.checked; changed(); } }),
    t('alerts.show.' + key));
  const summary = h('p', { class: 'summary', id: 'alerts-summary', 'aria-live': 'polite' });
  const list = h('div', { class: 'groups', id: 'groups' });
  const sentinel = h('div', { class: 'sentinel', 'aria-hidden': 'true' });

  const form = h('form', { class: 'filter-form', role: 'search', onsubmit: (e) => { e.preventDefault(); applyInput(); } },
    h('label', { for: 'filter-input', class: 'filter-label' }, t('filter.label')),
    h('div', { class: 'filter-box', onclick: () => input.focus() }, chips, input),
    h('button', { type: 'submit', class: 'btn primary' }, t('filter.apply')));
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Backspace' && !input.value && state.matchers.length) {
      state.matchers.pop();
      changed();
    }
  });
  input.addEventListener('input', () => { error.textContent = ''; input.removeAttribute('aria-invalid'); });

  clear(root).append(
    h('h1', { class: 'page-title' }, t('nav.alerts')),
    h('section', { class: 'toolbar', 'aria-label': t('filter.label') },
      form,
      h('p', { id: 'filter-help', class: 'hint' }, t('filter.help')),
      error,
      h('div', { class: 'toolbar-row' },
        h('label', { class: 'select-label' }, t('alerts.receiver'), ' ', receiverSelect),
        toggle('silenced'), toggle('inhibited'), toggle('muted'),
        h('span', { class: 'spacer' }),
        h('button', { type: 'button', class: 'btn small', onclick: () => setAll(true) }, t('alerts.expandAll')),
        h('button', { type: 'button', class: 'btn small', onclick: () => setAll(false) }, t('alerts.collapseAll')))),
    summary, list, sentinel);

  api.receivers().then((rs) => {
    for (const r of rs || []) receiverSelect.append(h('option', { value: r.name }, r.name));
    receiverSelect.value = state.receiver;
  }).catch(() => { /* the alerts request reports connectivity */ });

  function renderChips() {
    clear(chips);
    state.matchers.forEach((m, i) => {
      const text = formatMatcher(m);
      chips.append(h('span', { class: 'chip filter-chip' }, text,
        h('button', { type: 'button', class: 'chip-remove', 'aria-label': t('filter.remove', { m: text }),
          onclick: (e) => { e.stopPropagation(); state.matchers.splice(i, 1); changed(); } }, '×')));
    });
  }

  function applyInput() {
    try {
      const ms = parseMatchers(input.value);
      state.matchers.push(...ms);
      input.value = '';
      error.textContent = '';
      input.removeAttribute('aria-invalid');
      changed();
    } catch (e) {
      if (!(e instanceof MatcherError)) throw e;
      error.textContent = e.message;
      input.setAttribute('aria-invalid', 'true');
    }
  }

  function addMatcher(name, value) {
    if (!state.matchers.some((m) => m.name === name && m.value === value && !m.isRegex && m.isEqual !== false)) {
      state.matchers.push({ name, value, isRegex: false, isEqual: true });
      changed();
    }
  }

  function changed() {
    renderChips();
    replaceHash('/alerts', {
      filter: state.matchers.length ? formatMatchers(state.matchers) : '',
      receiver: state.receiver,
      silenced: state.silenced ? 'true' : '',
      inhibited: state.inhibited ? 'true' : '',
      muted: state.muted ? 'true' : '',
    });
    load(false);
  }

  function params() {
    return {
      active: true,
      silenced: state.silenced,
      inhibited: state.inhibited,
      muted: state.muted,
      filter: state.matchers.map(formatMatcher),
      receiver: state.receiver ? escapeRegex(state.receiver) : undefined,
    };
  }

  async function load(keepPosition) {
    if (controller) controller.abort();
    controller = new AbortController();
    const signal = controller.signal;
    root.setAttribute('aria-busy', 'true');
    const started = performance.now();
    try {
      const ps = params();
      let groups = await api.groups(ps, { signal });
      if (!groups || groups.length === 0) {
        const alerts = await api.alerts(ps, { signal });
        groups = groupByReceiver(alerts || []);
      }
      if (signal.aborted) return;
      error.textContent = '';
      render(groups, keepPosition ? renderedGroups : 0);
      root.dataset.renderMs = String(Math.round(performance.now() - started));
    } catch (e) {
      if (e.name === 'AbortError') return;
      if (e instanceof ApiError && e.status === 400) {
        error.textContent = e.message;
        input.setAttribute('aria-invalid', 'true');
      } else {
        summary.textContent = t('error.api', { msg: e.message });
        summary.classList.add('error');
      }
    } finally {
      if (!signal.aborted) root.setAttribute('aria-busy', 'false');
    }
  }

  function render(groups, atLeast) {
    lastGroups = groups;
    const total = groups.reduce((n, g) => n + g.alerts.length, 0);
    summary.classList.remove('error');
    summary.textContent = total === 0 ? t('alerts.none') : t('alerts.summary', { n: total, g: groups.length });
    summary.dataset.count = String(total);
    const fresh = document.createDocumentFragment();
    renderedGroups = 0;
    const target = Math.max(GROUP_BATCH, atLeast);
    while (renderedGroups < Math.min(target, groups.length)) fresh.append(groupEl(groups[renderedGroups++]));
    clear(list).append(fresh);
    observe();
  }

  function appendBatch() {
    const end = Math.min(renderedGroups + GROUP_BATCH, lastGroups.length);
    const frag = document.createDocumentFragment();
    while (renderedGroups < end) frag.append(groupEl(lastGroups[renderedGroups++]));
    list.append(frag);
  }

  function observe() {
    if (observer) observer.disconnect();
    observer = new IntersectionObserver((entries) => {
      for (const e of entries) {
        if (!e.isIntersecting) continue;
        if (e.target === sentinel) {
          if (renderedGroups < lastGroups.length) appendBatch();
        } else if (e.target.moreAlerts) {
          e.target.moreAlerts();
        }
      }
    }, { rootMargin: '800px 0px' });
    observer.observe(sentinel);
    for (const b of list.querySelectorAll('.more-alerts')) observer.observe(b);
  }

  function groupEl(g) {
    const key = groupKey(g);
    const isOpen = expanded.has(key) ? expanded.get(key) : g.alerts.length <= LARGE_GROUP;
    const id = 'g' + Math.random().toString(36).slice(2, 10);
    const counts = {};
    for (const a of g.alerts) counts[alertState(a)] = (counts[alertState(a)] || 0) + 1;
    const ol = h('ol', { class: 'alert-list', id });
    const more = h('button', { type: 'button', class: 'btn small more-alerts' });
    let shown = 0;
    const renderMore = () => {
      const frag = document.createDocumentFragment();
      const end = Math.min(shown + ALERT_BATCH, g.alerts.length);
      while (shown < end) frag.append(alertEl(g.alerts[shown++]));
      ol.append(frag);
      more.hidden = shown >= g.alerts.length;
      more.textContent = t('alerts.showMore', { n: Math.min(ALERT_BATCH, g.alerts.length - shown), total: g.alerts.length });
    };
    more.moreAlerts = () => { if (!body.hidden && shown < g.alerts.length) renderMore(); };
    more.addEventListener('click', () => more.moreAlerts());
    const body = h('div', { class: 'group-body', hidden: !isOpen }, ol, more);
    const toggleBtn = h('button', { type: 'button', class: 'group-toggle', 'aria-expanded': String(isOpen), 'aria-controls': id,
      'aria-label': t(isOpen ? 'alerts.collapse' : 'alerts.expand') }, h('span', { class: 'caret', 'aria-hidden': 'true' }));
    const setOpen = (open) => {
      expanded.set(key, open);
      body.hidden = !open;
      toggleBtn.setAttribute('aria-expanded', String(open));
      toggleBtn.setAttribute('aria-label', t(open ? 'alerts.collapse' : 'alerts.expand'));
      if (open && shown === 0) renderMore();
      if (observer) observer.observe(more);
    };
    toggleBtn.addEventListener('click', () => setOpen(body.hidden));
    if (isOpen) renderMore();
    const labelNames = Object.keys(g.labels).sort();
    const section = h('section', { class: 'group', 'aria-label': g.receiver.name },
      h('header', { class: 'group-header' },
        toggleBtn,
        h('div', { class: 'group-title' },
          h('span', { class: 'receiver', title: t('alerts.receiver') }, g.receiver.name || '—'),
          labelNames.length ? h('span', { class: 'chips' }, labelNames.map((n) => labelChip(n, g.labels[n]))) : null),
        h('span', { class: 'group-counts' },
          h('span', { class: 'count' }, t('alerts.count', { n: g.alerts.length })),
          Object.entries(counts).map(([s, n]) => h('span', { class: 'state-badge state-' + s }, `${t('state.' + s)} ${n}`))),
        labelNames.length ? h('a', { class: 'btn small', href: hashFor('/silences/new', { filter: formatMatchers(matchersFromLabels(g.labels)) }) },
          t('alerts.silenceGroup')) : null),
      body);
    section.setOpen = setOpen;
    return section;
  }

  function labelChip(name, value) {
    return h('button', { type: 'button', class: name === 'alertname' ? 'chip label alertname' : 'chip label',
      dataset: { name, value }, title: t('alerts.addFilter') }, `${name}="${value}"`);
  }

  function alertEl(a) {
    const st = alertState(a);
    const names = Object.keys(a.labels || {}).sort((x, y) => (x === 'alertname' ? -1 : y === 'alertname' ? 1 : x.localeCompare(y)));
    const ann = a.annotations || {};
    const annNames = Object.keys(ann).sort((x, y) => rank(x) - rank(y) || x.localeCompare(y));
    const silencedBy = (a.status && a.status.silencedBy) || [];
    const src = safeHref(a.generatorURL);
    return h('li', { class: 'alert state-' + st, dataset: { fingerprint: a.fingerprint || '' } },
      h('div', { class: 'alert-head' },
        h('span', { class: 'state-badge state-' + st }, t('state.' + st)),
        h('span', { class: 'started' }, t('alerts.started'), ' ', timeEl(h, a.startsAt)),
        h('span', { class: 'spacer' }),
        src ? h('a', { class: 'btn small', href: src, target: '_blank', rel: 'noopener noreferrer' }, t('alerts.source')) : null,
        silencedBy.length
          ? h('a', { class: 'btn small', href: hashFor('/silences/' + silencedBy[0]) }, t('alerts.viewSilence'))
          : h('a', { class: 'btn small silence-btn', href: hashFor('/silences/new', { filter: formatMatchers(matchersFromLabels(a.labels)) }) },
            t('alerts.silence'))),
      h('div', { class: 'chips' }, names.map((n) => labelChip(n, a.labels[n]))),
      annNames.length ? h('dl', { class: 'annotations' }, annNames.map((n) => [h('dt', {}, n), h('dd', {}, annotationValue(ann[n]))])) : null);
  }

  list.addEventListener('click', (e) => {
    const chip = e.target.closest('button.label');
    if (chip) addMatcher(chip.dataset.name, chip.dataset.value);
  });

  function setAll(open) {
    for (const s of list.querySelectorAll('section.group')) s.setOpen(open);
    for (const g of lastGroups) expanded.set(groupKey(g), open);
  }

  renderChips();
  if (!initialError) load(false);
  else root.setAttribute('aria-busy', 'false');

  return {
    refresh: () => { if (!document.hidden) load(true); },
    destroy: () => { if (observer) observer.disconnect(); if (controller) controller.abort(); },
  };
}

const rank = (n) => ({ summary: 0, description: 1, runbook_url: 2 }[n] ?? 3);

function annotationValue(v) {
  const href = /^https?:\/\//.test(v) ? safeHref(v) : null;
  return href ? h('a', { href, target: '_blank', rel: 'noopener noreferrer' }, v) : v;
}
