// Entry point: navigation, language and auto-refresh controls, and the hash router that mounts one view at a time.
// A view is `mount(root, route) -> { refresh(), destroy() }`.
import { h, clear } from './dom.js';
import { t, lang, setLang, LANGS } from './i18n.js';
import { parseHash } from './router.js';
import * as alerts from './alerts.js';
import * as silences from './silences.js';
import * as silenceForm from './silence-form.js';
import * as status from './status.js';

const REFRESH_KEY = 'tocsin.refresh';
const REFRESH_CHOICES = [0, 15, 30, 60, 300];

const root = document.getElementById('view');
let view = null;
let timer = null;

function routeView(route) {
  const [first, second, third] = route.segments;
  if (first === 'silences') {
    if (second === 'new') return { key: 'silences', mount: silenceForm.mount };
    if (second && third === 'edit') return { key: 'silences', mount: silenceForm.mount };
    if (second) return { key: 'silences', mount: silences.mountView };
    return { key: 'silences', mount: silences.mountList };
  }
  if (first === 'status') return { key: 'status', mount: status.mount };
  return { key: 'alerts', mount: alerts.mount };
}

function renderChrome(active) {
  const nav = clear(document.getElementById('nav'));
  for (const [key, href] of [['alerts', '#/alerts'], ['silences', '#/silences'], ['status', '#/status']]) {
    nav.append(h('a', { href, class: 'nav-link', 'aria-current': key === active ? 'page' : null }, t('nav.' + key)));
  }
  nav.append(h('a', { href: '#/silences/new', class: 'btn small primary nav-new' }, t('nav.newSilence')));
  const tools = clear(document.getElementById('tools'));
  const langSel = h('select', { id: 'lang-select', 'aria-label': t('lang.label'),
    onchange: () => { setLang(langSel.value); start(); } },
  Object.entries(LANGS).map(([k, name]) => h('option', { value: k }, name)));
  langSel.value = lang();
  const refreshSel = h('select', { id: 'refresh-select', 'aria-label': t('refresh.label'),
    onchange: () => { localStorage.setItem(REFRESH_KEY, refreshSel.value); schedule(); } },
  REFRESH_CHOICES.map((s) => h('option', { value: String(s) }, s ? (s < 60 ? `${s}s` : `${s / 60}m`) : t('refresh.off'))));
  refreshSel.value = String(refreshSeconds());
  tools.append(h('label', { class: 'tool' }, h('span', { class: 'tool-label' }, t('refresh.label')), refreshSel), langSel);
  document.getElementById('skip-link').textContent = t('common.skip');
}

function refreshSeconds() {
  const v = Number(localStorage.getItem(REFRESH_KEY) ?? 30);
  return REFRESH_CHOICES.includes(v) ? v : 30;
}

function schedule() {
  clearInterval(timer);
  const s = refreshSeconds();
  if (s > 0) timer = setInterval(() => view && view.refresh(), s * 1000);
}

/** (Re)mounts the view for the current hash. */
function start() {
  if (!location.hash || location.hash === '#' || location.hash === '#/') {
    history.replaceState(null, '', '#/alerts');
  }
  const route = parseHash(location.hash);
  const target = routeView(route);
  if (view) view.destroy();
  document.documentElement.lang = lang();
  renderChrome(target.key);
  root.setAttribute('aria-busy', 'true');
  view = target.mount(root, route);
  document.title = `${t('nav.' + target.key)} · tocsin`;
  schedule();
}

window.addEventListener('hashchange', start);
document.addEventListener('visibilitychange', () => { if (!document.hidden && view) view.refresh(); });
start();
