// Chinese first, English on request: every visible string of the pages, in both languages.
// The choice is kept in localStorage; `apply(root)` fills elements marked data-i18n
// (text), data-i18n-placeholder and data-i18n-title.
const LANG_KEY = 'yiwang.lang';

const zh = {
  app: '一网统管',
  board_title: '指挥中心',
  kpi_title: '考核指标',
  worker_title: '我的任务',
  login_title: '登录',
  nav_board: '指挥大屏',
  nav_kpi: '考核指标',
  logout: '退出',
  lang_switch: 'English',
  operator: '指挥中心操作员',
  grid_worker: '网格员',
  username: '用户名',
  password: '密码',
  worker_id: '网格员编号',
  pin: 'PIN 码',
  login: '登录',
  login_failed: '登录失败：用户名或密码错误',
  live_on: '实时',
  live_off: '连接中断，重连中…',
  district: '全区',
  new_items: '新上报',
  overdue_items: '超期',
  escalated_items: '已升级',
  ticker: '动态',
  filters: '筛选',
  priority: '优先级',
  light: '灯色',
  state: '状态',
  source: '来源',
  category: '类别',
  search: '搜索描述或地址',
  any: '全部',
  apply: '应用',
  reset: '重置',
  nothing: '暂无',
  open_count: '在办',
  overdue_count: '超期',
  details: '详情',
  close_panel: '关闭',
  reports: '上报',
  events: '处置记录',
  tasks: '任务',
  deadlines: '时限',
  assignee: '责任人',
  reason: '理由',
  reason_required: '此操作需要填写理由',
  do_action: '确认',
  router_picks: '留空：由系统派遣',
  merge_into: '并入（同网格的在办事件）',
  extension: '批准延期时长（可选，如 3d）',
  level: '升级至',
  action_done: '操作成功',
  reported_at: '上报时间',
  grid: '网格',
  community: '社区',
  street: '街镇',
  legend_open: '有在办',
  legend_overdue: '有超期',
  legend_none: '无',
  // worker page
  my_tasks: '我的任务',
  due: '时限',
  no_due: '无时限',
  overdue_now: '已超期',
  accept: '签收',
  arrive: '到场',
  resolve: '办结反馈',
  return: '回退',
  note: '处置说明',
  photo: '现场照片',
  submit: '提交',
  return_reason: '回退理由（如：不属于本网格）',
  uploading: '照片上传中…',
  sent: '已提交',
  refresh: '刷新',
  no_tasks: '暂无待办任务',
  photo_too_big: '照片过大',
  // KPI page
  period: '统计周期',
  by_street: '各街镇',
  by_community: '各社区',
  trend: '按日趋势',
  on_time_acceptance: '按时签收率',
  on_time_resolution: '按期处置率',
  on_time_closing: '按期结案率',
  rework_rate: '返工率',
  overdue: '超期数',
  days: '天',
  pick_street: '选择街镇',
  volunteer_share: '志愿者办结占比',
  volunteer_on_time: '志愿者按时率',
  points_issued: '发放积分',
  points_redeemed: '兑换积分',
  satisfaction: '满意率',
  revisit_rate: '回访率',
};

const en = {
  app: 'Yiwang',
  board_title: 'Command center',
  kpi_title: 'KPIs',
  worker_title: 'My tasks',
  login_title: 'Log in',
  nav_board: 'Board',
  nav_kpi: 'KPIs',
  logout: 'Log out',
  lang_switch: '中文',
  operator: 'Operator',
  grid_worker: 'Grid worker',
  username: 'Username',
  password: 'Password',
  worker_id: 'Worker id',
  pin: 'PIN',
  login: 'Log in',
  login_failed: 'Login failed: unknown user or wrong password',
  live_on: 'Live',
  live_off: 'Disconnected, reconnecting…',
  district: 'District',
  new_items: 'New',
  overdue_items: 'Overdue',
  escalated_items: 'Escalated',
  ticker: 'Activity',
  filters: 'Filters',
  priority: 'Priority',
  light: 'Light',
  state: 'State',
  source: 'Source',
  category: 'Category',
  search: 'Search description or address',
  any: 'Any',
  apply: 'Apply',
  reset: 'Reset',
  nothing: 'Nothing',
  open_count: 'Open',
  overdue_count: 'Overdue',
  details: 'Details',
  close_panel: 'Close',
  reports: 'Reports',
  events: 'Timeline',
  tasks: 'Tasks',
  deadlines: 'Deadlines',
  assignee: 'Assignee',
  reason: 'Reason',
  reason_required: 'This action needs a reason',
  do_action: 'Confirm',
  router_picks: 'empty: the router picks',
  merge_into: 'Merge into (open cases in the grid)',
  extension: 'Grant (optional, e.g. 3d)',
  level: 'Escalate to',
  action_done: 'Done',
  reported_at: 'Reported',
  grid: 'Grid',
  community: 'Community',
  street: 'Street',
  legend_open: 'open work',
  legend_overdue: 'overdue',
  legend_none: 'none',
  my_tasks: 'My tasks',
  due: 'Due',
  no_due: 'no deadline',
  overdue_now: 'overdue',
  accept: 'Accept',
  arrive: 'Arrived',
  resolve: 'Resolve',
  return: 'Hand back',
  note: 'What was done',
  photo: 'Photo',
  submit: 'Submit',
  return_reason: 'Reason (e.g. not my grid)',
  uploading: 'Uploading photo…',
  sent: 'Sent',
  refresh: 'Refresh',
  no_tasks: 'No open tasks',
  photo_too_big: 'Photo too large',
  period: 'Period',
  by_street: 'By street',
  by_community: 'By community',
  trend: 'Trend by day',
  on_time_acceptance: 'On-time acceptance',
  on_time_resolution: 'On-time resolution',
  on_time_closing: 'On-time closing',
  rework_rate: 'Rework rate',
  overdue: 'Overdue',
  days: 'days',
  pick_street: 'Street',
  volunteer_share: "Volunteers' share",
  volunteer_on_time: 'Volunteers on time',
  points_issued: 'Points issued',
  points_redeemed: 'Points redeemed',
  satisfaction: 'Satisfaction',
  revisit_rate: 'Return-visit rate',
};

const STATES = {
  zh: {
    reported: '已上报', registered: '已立案', dispatched: '已派遣', accepted: '已签收', on_site: '已到场',
    resolved: '已处置', verified: '已核查', closed: '已结案', returned: '已回退',
    extension_requested: '延期申请中', parked: '挂账', rework: '返工', reopened: '重新打开',
    merged: '已合并', rejected: '不予立案',
  },
  en: {
    reported: 'reported', registered: 'registered', dispatched: 'dispatched', accepted: 'accepted',
    on_site: 'on site', resolved: 'resolved', verified: 'verified', closed: 'closed', returned: 'returned',
    extension_requested: 'extension requested', parked: 'parked', rework: 'rework', reopened: 'reopened',
    merged: 'merged', rejected: 'rejected',
  },
};

const ACTIONS = {
  zh: {
    report: '上报', register: '立案', dispatch: '派遣', reassign: '改派', merge: '合并', accept: '签收',
    arrive: '到场', resolve: '处置', return: '回退', request_extension: '申请延期',
    approve_extension: '批准延期', deny_extension: '驳回延期', verify: '核查通过', rework: '返工',
    fail_verification: '核查不通过', close: '结案', park: '挂账', unpark: '解除挂账', reject: '不予立案',
    escalate: '升级', reopen: '重新打开',
  },
  en: {
    report: 'report', register: 'register', dispatch: 'dispatch', reassign: 'reassign', merge: 'merge',
    accept: 'accept', arrive: 'arrive', resolve: 'resolve', return: 'hand back',
    request_extension: 'request extension', approve_extension: 'approve extension',
    deny_extension: 'deny extension', verify: 'verify', rework: 'rework',
    fail_verification: 'verification failed', close: 'close', park: 'park', unpark: 'unpark',
    reject: 'reject', escalate: 'escalate', reopen: 'reopen',
  },
};

const LIGHTS = {
  zh: { green: '绿灯', yellow: '黄灯', red: '红灯' },
  en: { green: 'green', yellow: 'yellow', red: 'red' },
};

const SOURCES = {
  zh: { police: '110', citymgmt: '数字城管', emergency: '应急', fire: '119', cyberspace: '网信', hotline: '12345', patrol: '网格巡查' },
  en: { police: 'Police 110', citymgmt: 'City mgmt', emergency: 'Emergency', fire: 'Fire 119', cyberspace: 'Cyberspace', hotline: 'Hotline 12345', patrol: 'Patrol' },
};

const LEVELS = {
  zh: { community_lead: '社区', street_center: '街镇', district_center: '区中心' },
  en: { community_lead: 'community lead', street_center: 'street center', district_center: 'district center' },
};

const CLOCKS = {
  zh: { register: '立案派遣', accept: '签收', on_site: '到场', resolve: '处置', verify: '核查',
    running: '计时中', paused: '已暂停', stopped: '已停止' },
  en: { register: 'register', accept: 'accept', on_site: 'on site', resolve: 'resolve', verify: 'verify',
    running: 'running', paused: 'paused', stopped: 'stopped' },
};

export function lang() {
  const l = localStorage.getItem(LANG_KEY);
  return l === 'en' ? 'en' : 'zh';
}

export function t(key) {
  const dict = lang() === 'en' ? en : zh;
  return dict[key] ?? zh[key] ?? key;
}

const pick = (table, key) => (table[lang()] || table.zh)[key] ?? key;
export const stateName = (s) => pick(STATES, s);
export const actionName = (a) => pick(ACTIONS, a);
export const lightName = (l) => pick(LIGHTS, l);
export const sourceName = (s) => pick(SOURCES, s);
export const levelName = (l) => pick(LEVELS, l);
export const clockName = (c) => pick(CLOCKS, c);
export const STATE_CODES = Object.keys(STATES.zh);
export const SOURCE_CODES = Object.keys(SOURCES.zh);

export function categoryName(categories, code) {
  const c = categories && categories[code];
  if (!c) return code;
  return lang() === 'en' ? c.en : c.zh;
}

export function apply(root = document) {
  document.documentElement.lang = lang() === 'en' ? 'en' : 'zh-CN';
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
}

export function toggle() {
  localStorage.setItem(LANG_KEY, lang() === 'en' ? 'zh' : 'en');
}

export function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return d.toLocaleString(lang() === 'en' ? 'en-GB' : 'zh-CN', {
    timeZone: 'Asia/Shanghai', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
  });
}
