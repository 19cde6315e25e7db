// The status page (#/status): version, uptime, this node's name and position, the cluster and its peers, the
// receivers and the running configuration exactly as the API returns it (secrets already shown as <secret>).
import { api } from './api.js';
import { h, clear } from './dom.js';
import { t } from './i18n.js';
import { absTime, formatDuration } from './format.js';

export function mount(root) {
  const body = h('div', { class: 'status' });
  const error = h('p', { class: 'field-error', role: 'alert' });
  clear(root).append(h('h1', { class: 'page-title' }, t('nav.status')), error, body);

  async function load() {
    root.setAttribute('aria-busy', 'true');
    try {
      const [s, receivers] = await Promise.all([api.status(), api.receivers().catch(() => [])]);
      error.textContent = '';
      render(s, receivers || []);
    } catch (e) {
      error.textContent = t('error.api', { msg: e.message });
    } finally {
      root.setAttribute('aria-busy', 'false');
    }
  }

  function render(s, receivers) {
    const row = (k, v) => [h('dt', {}, k), h('dd', {}, v)];
    const v = s.versionInfo || {};
    const c = s.cluster || { status: 'disabled', peers: [] };
    const peers = [...(c.peers || [])].sort((a, b) => a.name.localeCompare(b.name));
    const position = c.name ? peers.findIndex((p) => p.name === c.name) : -1;
    const up = new Date(s.uptime);
    clear(body).append(
      h('section', { class: 'card' }, h('h2', {}, t('status.node')),
        h('dl', { class: 'details', id: 'status-node' },
          row(t('status.uptime'), [formatDuration(Date.now() - up), ' · ', t('status.since', { t: absTime(up) })]),
          row(t('status.name'), c.name ? h('code', {}, c.name) : '—'),
          row(t('status.position'), position >= 0 ? t('status.positionOf', { p: position, n: peers.length }) : '—'))),
      h('section', { class: 'card' }, h('h2', {}, t('status.cluster')),
        h('p', {}, t('status.clusterStatus'), ' ', h('span', { class: 'state-badge cluster-' + c.status, id: 'cluster-status' }, t('cluster.' + c.status))),
        peers.length
          ? h('table', { class: 'peers', id: 'peers' },
            h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, '#'), h('th', { scope: 'col' }, t('status.peerName')), h('th', { scope: 'col' }, t('status.peerAddress')))),
            h('tbody', {}, peers.map((p, i) => h('tr', { class: p.name === c.name ? 'self' : '' },
              h('td', {}, String(i)), h('td', {}, h('code', {}, p.name), p.name === c.name ? h('span', { class: 'chip' }, t('status.thisNode')) : null),
              h('td', {}, h('code', {}, p.address))))))
          : h('p', { class: 'empty' }, t('status.noPeers'))),
      h('section', { class: 'card' }, h('h2', {}, t('status.version')),
        h('dl', { class: 'details', id: 'status-version' },
          Object.entries(v).map(([k, val]) => row(k, h('code', {}, String(val)))))),
      h('section', { class: 'card' }, h('h2', {}, t('status.receivers')),
        h('p', { class: 'chips' }, receivers.map((r) => h('span', { class: 'chip' }, r.name)))),
      h('section', { class: 'card' }, h('h2', {}, t('status.config')),
        h('pre', { class: 'config', id: 'config', tabindex: '0' }, (s.config && s.config.original) || '')));
  }

  load();
  return { refresh: () => { if (!document.hidden) load(); }, destroy: () => {} };
}
