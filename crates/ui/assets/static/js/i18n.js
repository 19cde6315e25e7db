// English and Simplified Chinese. The language defaults to the browser's (navigator.language) and the user's choice
// is remembered in localStorage. Entries are strings with {placeholders} or functions of the parameters (plurals).

const KEY = 'tocsin.lang';
export const LANGS = { en: 'English', 'zh-CN': '简体中文' };

const en = {
  'common.skip': 'Skip to content',
  'common.cancel': 'Cancel',
  'nav.alerts': 'Alerts',
  'nav.silences': 'Silences',
  'nav.status': 'Status',
  'nav.newSilence': 'New silence',
  'lang.label': 'Language',
  'refresh.label': 'Auto-refresh',
  'refresh.off': 'Off',
  'error.api': 'Cannot load data from the API: {msg}',
  'filter.label': 'Filter',
  'filter.apply': 'Apply',
  'filter.help': 'Matchers such as {severity="critical", team=~"db.*"}. Operators: =  !=  =~  !~ (regular expressions are fully anchored). Click a label to add it.',
  'filter.remove': 'Remove filter {m}',
  'alerts.receiver': 'Receiver',
  'alerts.allReceivers': 'All receivers',
  'alerts.show.silenced': 'Show silenced',
  'alerts.show.inhibited': 'Show inhibited',
  'alerts.show.muted': 'Show muted',
  'alerts.expandAll': 'Expand all',
  'alerts.collapseAll': 'Collapse all',
  'alerts.none': 'No alerts match. All quiet.',
  'alerts.summary': (p) => `${p.n} ${p.n === 1 ? 'alert' : 'alerts'} in ${p.g} ${p.g === 1 ? 'group' : 'groups'}`,
  'alerts.count': (p) => `${p.n} ${p.n === 1 ? 'alert' : 'alerts'}`,
  'alerts.showMore': 'Show {n} more (of {total})',
  'alerts.expand': 'Expand group',
  'alerts.collapse': 'Collapse group',
  'alerts.silenceGroup': 'Silence group',
  'alerts.addFilter': 'Add to filter',
  'alerts.started': 'Started',
  'alerts.source': 'Source',
  'alerts.silence': 'Silence',
  'alerts.viewSilence': 'View silence',
  'state.firing': 'Firing',
  'state.unprocessed': 'Unprocessed',
  'state.silenced': 'Silenced',
  'state.inhibited': 'Inhibited',
  'state.muted': 'Muted',
  'state.suppressed': 'Suppressed',
  'silences.states': 'Silence states',
  'silences.active': 'Active',
  'silences.pending': 'Pending',
  'silences.expired': 'Expired',
  'silences.none': 'No silences here.',
  'silence.new': 'New silence',
  'silence.newTitle': 'New silence',
  'silence.editTitle': 'Edit silence',
  'silence.title': 'Silence',
  'silence.view': 'View',
  'silence.edit': 'Edit',
  'silence.recreate': 'Recreate',
  'silence.expire': 'Expire',
  'silence.expireTitle': 'Expire this silence?',
  'silence.expireBody': 'Alerts matching {m} will notify again.',
  'silence.starts': 'Starts',
  'silence.started': 'Started',
  'silence.ends': 'Ends',
  'silence.ended': 'Ended',
  'silence.createdBy': 'Created by',
  'silence.comment': 'Comment',
  'silence.id': 'ID',
  'silence.matchers': 'Matchers',
  'silence.startsAt': 'Starts at',
  'silence.endsAt': 'Ends at',
  'silence.duration': 'Duration',
  'silence.updatedAt': 'Updated at',
  'silence.when': 'When',
  'silence.durationHelp': 'Duration such as 30m, 2h, 1d12h; changing it moves the end time, and the other way round.',
  'silence.notFound': 'Silence {id} not found.',
  'silence.affected': (p) => `Affected alerts (${p.n})`,
  'silence.noAffected': 'No alerts currently match.',
  'silence.create': 'Create',
  'silence.update': 'Update',
  'silence.addMatcher': 'Add matcher',
  'silence.removeMatcher': 'Remove matcher',
  'silence.labelName': 'Label name',
  'silence.operator': 'Operator',
  'silence.labelValue': 'Label value',
  'silence.preview': 'Preview: affected alerts',
  'silence.previewEmpty': 'Add a matcher to see the alerts it would silence.',
  'silence.previewCount': (p) => `${p.n} ${p.n === 1 ? 'alert matches' : 'alerts match'} now`,
  'silence.previewMore': 'and {n} more',
  'silence.badDuration': 'Not a duration: use e.g. 30m, 2h or 1d12h',
  'silence.needMatcher': 'Add at least one matcher',
  'silence.needName': 'Every matcher needs a label name',
  'silence.needAuthor': 'Say who creates the silence',
  'silence.needComment': 'Say why (a ticket link helps the next person)',
  'status.node': 'This node',
  'status.uptime': 'Uptime',
  'status.since': 'since {t}',
  'status.name': 'Name',
  'status.position': 'Position',
  'status.positionOf': 'position {p} of {n} (position 0 notifies first)',
  'status.cluster': 'Cluster',
  'status.clusterStatus': 'Status:',
  'status.peerName': 'Peer',
  'status.peerAddress': 'Address',
  'status.thisNode': 'this node',
  'status.noPeers': 'No peers (clustering disabled).',
  'status.version': 'Version',
  'status.receivers': 'Receivers',
  'status.config': 'Configuration (secrets hidden)',
  'cluster.ready': 'ready',
  'cluster.settling': 'settling',
  'cluster.disabled': 'disabled',
};

const zh = {
  'common.skip': '跳到正文',
  'common.cancel': '取消',
  'nav.alerts': '告警',
  'nav.silences': '静默',
  'nav.status': '状态',
  'nav.newSilence': '新建静默',
  'lang.label': '语言',
  'refresh.label': '自动刷新',
  'refresh.off': '关闭',
  'error.api': '无法从 API 读取数据：{msg}',
  'filter.label': '筛选',
  'filter.apply': '应用',
  'filter.help': '匹配器，例如 {severity="critical", team=~"db.*"}。运算符：=  !=  =~  !~（正则表达式整体匹配）。点击标签即可加入筛选。',
  'filter.remove': '移除筛选 {m}',
  'alerts.receiver': '接收器',
  'alerts.allReceivers': '全部接收器',
  'alerts.show.silenced': '显示已静默',
  'alerts.show.inhibited': '显示已抑制',
  'alerts.show.muted': '显示已屏蔽',
  'alerts.expandAll': '全部展开',
  'alerts.collapseAll': '全部折叠',
  'alerts.none': '没有匹配的告警，一切正常。',
  'alerts.summary': '{n} 条告警，{g} 个分组',
  'alerts.count': '{n} 条告警',
  'alerts.showMore': '再显示 {n} 条（共 {total} 条）',
  'alerts.expand': '展开分组',
  'alerts.collapse': '折叠分组',
  'alerts.silenceGroup': '静默该分组',
  'alerts.addFilter': '加入筛选',
  'alerts.started': '开始于',
  'alerts.source': '来源',
  'alerts.silence': '静默',
  'alerts.viewSilence': '查看静默',
  'state.firing': '告警中',
  'state.unprocessed': '未处理',
  'state.silenced': '已静默',
  'state.inhibited': '已抑制',
  'state.muted': '已屏蔽',
  'state.suppressed': '已抑制',
  'silences.states': '静默状态',
  'silences.active': '生效中',
  'silences.pending': '待生效',
  'silences.expired': '已过期',
  'silences.none': '这里没有静默。',
  'silence.new': '新建静默',
  'silence.newTitle': '新建静默',
  'silence.editTitle': '编辑静默',
  'silence.title': '静默',
  'silence.view': '查看',
  'silence.edit': '编辑',
  'silence.recreate': '重新创建',
  'silence.expire': '使其过期',
  'silence.expireTitle': '让这条静默过期？',
  'silence.expireBody': '匹配 {m} 的告警将重新发送通知。',
  'silence.starts': '开始',
  'silence.started': '已开始',
  'silence.ends': '结束',
  'silence.ended': '已结束',
  'silence.createdBy': '创建人',
  'silence.comment': '备注',
  'silence.id': 'ID',
  'silence.matchers': '匹配器',
  'silence.startsAt': '开始时间',
  'silence.endsAt': '结束时间',
  'silence.duration': '时长',
  'silence.updatedAt': '更新时间',
  'silence.when': '时间',
  'silence.durationHelp': '时长如 30m、2h、1d12h；修改时长会调整结束时间，反之亦然。',
  'silence.notFound': '找不到静默 {id}。',
  'silence.affected': '受影响的告警（{n}）',
  'silence.noAffected': '当前没有匹配的告警。',
  'silence.create': '创建',
  'silence.update': '更新',
  'silence.addMatcher': '添加匹配器',
  'silence.removeMatcher': '移除匹配器',
  'silence.labelName': '标签名',
  'silence.operator': '运算符',
  'silence.labelValue': '标签值',
  'silence.preview': '预览：受影响的告警',
  'silence.previewEmpty': '添加匹配器后可预览将被静默的告警。',
  'silence.previewCount': '当前匹配 {n} 条告警',
  'silence.previewMore': '另有 {n} 条',
  'silence.badDuration': '时长格式错误：请使用 30m、2h 或 1d12h 等',
  'silence.needMatcher': '至少添加一个匹配器',
  'silence.needName': '每个匹配器都需要标签名',
  'silence.needAuthor': '请填写创建人',
  'silence.needComment': '请说明原因（附上工单链接会帮到下一位同事）',
  'status.node': '本节点',
  'status.uptime': '运行时长',
  'status.since': '自 {t} 起',
  'status.name': '名称',
  'status.position': '位置',
  'status.positionOf': '第 {p} 位，共 {n} 个（位置 0 最先发送通知）',
  'status.cluster': '集群',
  'status.clusterStatus': '状态：',
  'status.peerName': '节点',
  'status.peerAddress': '地址',
  'status.thisNode': '本节点',
  'status.noPeers': '没有集群节点（未启用集群）。',
  'status.version': '版本',
  'status.receivers': '接收器',
  'status.config': '配置（已隐藏密钥）',
  'cluster.ready': '就绪',
  'cluster.settling': '同步中',
  'cluster.disabled': '未启用',
};

const DICTS = { en, 'zh-CN': zh };
let current = pick();

/** The stored choice, else the browser's language (any zh* → Simplified Chinese), else English. */
function pick() {
  const stored = safeGet(KEY);
  if (stored && DICTS[stored]) return stored;
  const nav = (navigator.languages && navigator.languages[0]) || navigator.language || 'en';
  return nav.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
}

function safeGet(k) {
  try {
    return localStorage.getItem(k);
  } catch {
    return null;
  }
}

export function lang() {
  return current;
}

export function setLang(l) {
  if (!DICTS[l]) return;
  current = l;
  try {
    localStorage.setItem(KEY, l);
  } catch {
    /* private mode: the choice lasts for this page only */
  }
  document.documentElement.lang = l;
}

/** The text for `key` in the current language (English, then the key itself, as fallbacks). */
export function t(key, params = {}) {
  const entry = DICTS[current][key] ?? en[key];
  if (entry === undefined) return key;
  if (typeof entry === 'function') return entry(params);
  return entry.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
}

/** Keys present in one dictionary and not the other (checked by the browser test). */
export function missingKeys() {
  const a = Object.keys(en);
  const b = Object.keys(zh);
  return [...a.filter((k) => !(k in zh)), ...b.filter((k) => !(k in en))];
}
