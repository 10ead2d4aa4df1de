// Chinese first, English on request: every visible string of the pages, in both languages.
// The choice is kept in localStorage; `apply(root)` fills elements marked data-i18n
// (text), data-i18n-placeholder and data-i18n-title.
const LANG_KEY = 'yiwang.lang';

const zh = {
  app: '一网统管',
  board_title: '指挥中心',
  kpi_title: '考核指标',
  worker_title: '我的任务',
  inbox_title: '督办收件箱',
  request_extension: '申请延期',
  queued: '离线，已排队，联网后自动提交',
  share_position: '在岗时共享我的位置（用于就近派单）',
  position_shared: '位置已共享',
  position_off: '已停止共享位置',
  extension_reason: '延期理由',
  extension_for: '延期时长',
  open_amap: '在高德地图打开',
  open_baidu: '在百度地图打开',
  contacts: '联系人',
  community_lead: '社区书记',
  street_center: '街道值班',
  offline: '离线：连接中断，正在重连，以下内容可能不是最新',
  reminder: '提醒：时限将到',
  new_task: '新任务',
  left: '剩余',
  no_notices: '暂无通知',
  receive: '签收',
  answer: '反馈',
  answer_what: '将如何处置',
  answer_by: '承诺完成时间',
  time_left: '签收剩余',
  overdue_by: '签收已超时',
  notices: '通知',
  notice_history: '记录',
  answered_promise: '承诺',
  desk: '部门',
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
  queues: '待办队列',
  network_error: '网络连接失败，请稍后重试',
  letter_id: '编号',
  crumbs_label: '区域导航',
  address: '地址',
  phone: '电话',
  on_shift: '在岗',
  off_shift: '不在岗',
  shift_unknown: '班次未知',
  force: '队伍',
  reveal: '显示号码（回拨）',
  revealed: '已显示，已记录',
  reporter: '上报人',
  anonymous: '匿名',
  time_left_clock: '剩余',
  time_over_clock: '已超时',
  pick_assignee: '改派给（在岗、有资格的人员）',
  router_choice: '由系统按规则派遣',
  open_tasks: '在办',
  metres: '米',
  no_one_on_shift: '暂无在岗的合格人员',
  merge_suggestions: '附近同类在办事件（可跨网格）',
  no_merge: '附近没有同类在办事件',
  routing_by: '派遣依据',
  system_actor: '系统',
  copy_link: '链接',
  queue_triage: '待立案',
  queue_new: '新上报',
  queue_verify: '待核查',
  queue_extension: '延期申请',
  queue_returned: '已回退',
  queue_overdue: '超期',
  queue_escalated: '已升级（社区以上）',
  step_yellow: '黄灯提醒',
  step_red: '红灯催办',
  step_street: '提级街镇',
  step_district: '区级督办',
  step_manual: '人工升级',
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
  grid_open: '在办',
  overdue_count: '超期',
  details: '详情',
  close_panel: '关闭',
  reports: '上报',
  events: '处置记录',
  tasks: '任务',
  deadlines: '时限',
  provisional: '暂定',
  provisional_why: '节假日安排尚未发布：按工作日和法定节日规则暂定，导入国务院通知后重算',
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
  nav_people: '人员与排班',
  nav_dlq: '异常数据',
  people_title: '人员与排班',
  dlq_title: '异常数据处理',
  import_roster: '导入名册',
  import_hint: 'Excel（.xlsx）或 CSV，列与导出一致；全部行检查通过才写入。',
  check_only: '只检查，不写入',
  do_import: '导入',
  import_refused: '未导入：以下各行有问题',
  imported: '已导入',
  added: '新增',
  changed: '变更',
  deactivated: '停用',
  pins_once: '新人员的 PIN 码只显示这一次，请分发后妥善保管。',
  sheet: '工作表',
  row: '行',
  column: '列',
  problem: '问题',
  export_roster: '导出名册',
  scope_hint: '社区或街镇编码（空：全区）',
  do_export: '导出',
  reset_pin: '重置 PIN',
  do_reset: '重置',
  new_pin: '新 PIN 码',
  exceptions: '调班与请假',
  kind: '类型',
  kind_swap: '换班',
  kind_take: '顶班',
  kind_leave: '请假',
  other_id: '对方编号',
  first_day: '开始日期',
  last_day: '结束日期',
  note: '备注',
  do_record: '登记',
  remove: '删除',
  on_duty: '当前在岗',
  grid_or_community: '网格或社区编码',
  do_lookup: '查询',
  roster: '班次',
  role: '角色',
  nobody: '无',
  dlq_counts: '按原因统计（未处理）',
  open_count: '未处理',
  field: '字段',
  example: '示例',
  source: '来源',
  stage: '环节',
  received: '接收时间',
  since: '起',
  until: '止',
  include_decided: '含已处理',
  search_reason: '原因或字段',
  replay: '重放',
  discard: '丢弃',
  discard_reason: '丢弃原因（必填）',
  raw_record: '原始记录',
  decision: '处理',
  replayed_ok: '已重放',
  replay_failed: '重放仍失败',
  discarded: '已丢弃',
  total_letters: '条',
  dlq_panel: '异常数据',
  volunteer_share: '志愿者办结占比',
  volunteer_on_time: '志愿者按时率',
  points_issued: '发放积分',
  points_redeemed: '兑换积分',
  satisfaction: '满意率',
  revisit_rate: '回访率',
  // finding and exporting cases (the KPI page; GET /search, /export/…)
  find_case: '查找案件',
  find_hint: '来源编号、报告编号、报告人电话或地址',
  do_find: '查找',
  found_none: '没有找到案件',
  found_by: '匹配',
  match_incident_id: '案件编号',
  match_report_id: '报告编号',
  match_source_ref: '来源编号',
  match_phone: '报告人电话',
  match_address: '地址',
  export_title: '导出',
  export_kpi: '指标表',
  export_cases: '案件清单',
  list_all: '本期全部案件',
  list_overdue: '超期案件',
  list_escalated: '已升级（社区以上）',
  exported: '已导出',
  export_failed: '导出失败',
  letter_district: '所属区',
  city_only: '城市',
  placement: '归属依据',
  all_districts: '全部区',
  city_only_letters: '仅城市（不属任何区）',
  desk_of_city: '城市运行管理中心：各区的异常数据，以及不属任何区的',
  desk_of_district: '{name}的异常数据：仅本区的（不属任何区的由城市运行管理中心处理）',
};

const en = {
  app: 'Yiwang',
  inbox_title: 'Notices inbox',
  request_extension: 'Request extension',
  queued: 'Offline: queued, sent when the link returns',
  share_position: 'Share my position while on shift (for nearest dispatch)',
  position_shared: 'Position shared',
  position_off: 'Stopped sharing the position',
  extension_reason: 'Reason for the extension',
  extension_for: 'Extend by',
  open_amap: 'Open in Amap',
  open_baidu: 'Open in Baidu Maps',
  contacts: 'Contacts',
  community_lead: 'Community lead',
  street_center: 'Street duty desk',
  offline: 'Offline: reconnecting; what you see may be out of date',
  reminder: 'Reminder: the deadline is near',
  new_task: 'New task',
  left: 'left',
  no_notices: 'No notices',
  receive: 'Receive',
  answer: 'Answer',
  answer_what: 'What the unit will do',
  answer_by: 'Done by',
  time_left: 'Receive within',
  overdue_by: 'Receive overdue by',
  notices: 'Notices',
  notice_history: 'History',
  answered_promise: 'Promised',
  desk: 'Desk',
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
  queues: 'Queues',
  network_error: 'The network is unreachable; try again shortly',
  letter_id: 'ID',
  crumbs_label: 'Drill-down',
  address: 'Address',
  phone: 'Phone',
  on_shift: 'on shift',
  off_shift: 'off shift',
  shift_unknown: 'shift unknown',
  force: 'Force',
  reveal: 'Show the number (call back)',
  revealed: 'shown, on record',
  reporter: 'Reporter',
  anonymous: 'anonymous',
  time_left_clock: 'left',
  time_over_clock: 'overdue by',
  pick_assignee: 'Reassign to (eligible, on shift)',
  router_choice: 'let the router pick',
  open_tasks: 'open',
  metres: 'm',
  no_one_on_shift: 'Nobody eligible is on shift',
  merge_suggestions: 'Open cases of the same problem nearby (any grid)',
  no_merge: 'No open case of the same problem nearby',
  routing_by: 'Routed by',
  system_actor: 'system',
  copy_link: 'Link',
  queue_triage: 'Triage',
  queue_new: 'New',
  queue_verify: 'To verify',
  queue_extension: 'Extension requests',
  queue_returned: 'Returned',
  queue_overdue: 'Overdue',
  queue_escalated: 'Escalated past the community',
  step_yellow: 'yellow reminder',
  step_red: 'red urge',
  step_street: 'to the street',
  step_district: 'district supervision',
  step_manual: 'by hand',
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
  grid_open: 'Open',
  overdue_count: 'Overdue',
  details: 'Details',
  close_panel: 'Close',
  reports: 'Reports',
  events: 'Timeline',
  tasks: 'Tasks',
  deadlines: 'Deadlines',
  provisional: 'provisional',
  provisional_why: 'The holiday notice is not out yet: computed from weekdays and the statutory holiday rules; recomputed when it is imported',
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
  nav_people: 'People & shifts',
  nav_dlq: 'Dead letters',
  people_title: 'People & shifts',
  dlq_title: 'Dead-letter desk',
  import_roster: 'Import a roster',
  import_hint: 'Excel (.xlsx) or CSV in the export\'s columns; written only when every row passes.',
  check_only: 'Check only, write nothing',
  do_import: 'Import',
  import_refused: 'Not imported: these rows have problems',
  imported: 'Imported',
  added: 'added',
  changed: 'changed',
  deactivated: 'deactivated',
  pins_once: 'New people\'s PINs are shown this once: hand them out and keep them safe.',
  sheet: 'Sheet',
  row: 'Row',
  column: 'Column',
  problem: 'Problem',
  export_roster: 'Export the roster',
  scope_hint: 'community or street code (empty: district)',
  do_export: 'Export',
  reset_pin: 'Reset a PIN',
  do_reset: 'Reset',
  new_pin: 'New PIN',
  exceptions: 'Swaps, takes and leave',
  kind: 'Kind',
  kind_swap: 'swap',
  kind_take: 'take',
  kind_leave: 'leave',
  other_id: 'Other person',
  first_day: 'From',
  last_day: 'To',
  note: 'Note',
  do_record: 'Record',
  remove: 'Remove',
  on_duty: 'On duty now',
  grid_or_community: 'grid or community code',
  do_lookup: 'Look up',
  roster: 'Roster',
  role: 'Role',
  nobody: 'nobody',
  dlq_counts: 'Open letters by reason',
  open_count: 'Open',
  field: 'Field',
  example: 'Example',
  source: 'Source',
  stage: 'Stage',
  received: 'Received',
  since: 'From',
  until: 'Until',
  include_decided: 'decided too',
  search_reason: 'reason or field',
  replay: 'Replay',
  discard: 'Discard',
  discard_reason: 'Why discard (required)',
  raw_record: 'Raw record',
  decision: 'Decision',
  replayed_ok: 'Replayed',
  replay_failed: 'Replay failed again',
  discarded: 'Discarded',
  total_letters: 'letters',
  dlq_panel: 'Dead letters',
  volunteer_share: "Volunteers' share",
  volunteer_on_time: 'Volunteers on time',
  points_issued: 'Points issued',
  points_redeemed: 'Points redeemed',
  satisfaction: 'Satisfaction',
  revisit_rate: 'Return-visit rate',
  // finding and exporting cases (the KPI page; GET /search, /export/…)
  find_case: 'Find a case',
  find_hint: "Source reference, report id, reporter's phone or address",
  do_find: 'Find',
  found_none: 'No case found',
  found_by: 'Matched',
  match_incident_id: 'case id',
  match_report_id: 'report id',
  match_source_ref: 'source reference',
  match_phone: "reporter's phone",
  match_address: 'address',
  export_title: 'Export',
  export_kpi: 'KPI table',
  export_cases: 'Case list',
  list_all: 'All cases of the period',
  list_overdue: 'Overdue cases',
  list_escalated: 'Escalated past the community',
  exported: 'Exported',
  export_failed: 'Export failed',
  letter_district: 'District',
  city_only: 'City only',
  placement: 'Whose it is',
  all_districts: 'Every district',
  city_only_letters: 'City only (no district holds them)',
  desk_of_city: 'City operations centre: every district\'s dead letters, and those no district holds',
  desk_of_district: 'Dead letters of {name} only (those no district holds go to the city operations centre)',
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
    escalate: '升级', reopen: '重新打开', deadline_revised: '时限重算（节假日安排）',
    void: '作废', raise_priority: '提级',
  },
  en: {
    report: 'report', register: 'register', dispatch: 'dispatch', reassign: 'reassign', merge: 'merge',
    accept: 'accept', arrive: 'arrive', resolve: 'resolve', return: 'hand back',
    request_extension: 'request extension', approve_extension: 'approve extension',
    deny_extension: 'deny extension', verify: 'verify', rework: 'rework',
    fail_verification: 'verification failed', close: 'close', park: 'park', unpark: 'unpark',
    reject: 'reject', escalate: 'escalate', reopen: 'reopen', deadline_revised: 'deadlines revised (holiday schedule)',
    void: 'void', raise_priority: 'raise priority',
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
  zh: { assignee: '责任人提醒', eligible_worker: '网格力量', unrouted: '无人可派', community_lead: '社区', street_center: '街镇', district_center: '区中心', department: '牵头部门' },
  en: { assignee: 'assignee reminder', eligible_worker: 'eligible worker', unrouted: 'unrouted', community_lead: 'community lead', street_center: 'street center', district_center: 'district center', department: 'lead department' },
};
const NOTICE_KINDS = {
  zh: { urge: '催办', escalate: '提级', supervise: '督办', manual: '人工提级', reassign: '改派', whistle: '吹哨报到' },
  en: { urge: 'urge', escalate: 'escalation', supervise: 'supervision', manual: 'manual escalation', reassign: 'reassignment', whistle: 'whistle' },
};
const NOTICE_STATES = {
  zh: { sent: '待签收', received: '已签收', answered: '已反馈', climbed: '超时提级', receive: '签收', answer: '反馈', climb: '提级' },
  en: { sent: 'to receive', received: 'received', answered: 'answered', climbed: 'climbed', receive: 'received', answer: 'answered', climb: 'climbed' },
};

const ROLES = {
  zh: { system: '系统', operator: '指挥中心', grid_worker: '网格员', agency: '来源单位', citizen: '群众', volunteer: '志愿者', desk: '部门' },
  en: { system: 'system', operator: 'operator', grid_worker: 'grid worker', agency: 'agency', citizen: 'citizen', volunteer: 'volunteer', desk: 'desk' },
};
const TASK_STATUS = {
  zh: { active: '办理中', done: '已完成', reassigned: '已改派', returned: '已回退', cancelled: '已取消', merged: '已合并', closed: '已结束' },
  en: { active: 'active', done: 'done', reassigned: 'reassigned', returned: 'handed back', cancelled: 'cancelled', merged: 'merged', closed: 'ended' },
};
const FIELDS = {
  zh: { assignee: '责任人', reason: '理由', merged_into: '并入事件', extension: '延期时长', level: '升级至', note: '处置说明',
    photo: '照片', photos: '照片', report_id: '上报', pin: 'PIN 码', worker_id: '网格员编号', what: '处置措施', by: '承诺时间',
    warning: '预警', until: '结束时间', starts_at: '开始时间', area: '预警区域', title: '标题', address: '地址',
    location: '位置', lon: '经度', lat: '纬度', description: '描述', category: '类别', phone: '电话', name: '姓名',
    q: '查找内容', file: '文件', grid: '网格', community: '社区', street: '街道', at: '时间', 'Idempotency-Key': '提交',
    rating: '评价', comment: '意见', code: '查询码', source: '来源', state: '状态', priority: '优先级' },
  en: {},
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
export const noticeKind = (k) => pick(NOTICE_KINDS, k);
export const noticeState = (s) => pick(NOTICE_STATES, s);
export const roleName = (r) => pick(ROLES, r);
export const taskStatus = (s) => pick(TASK_STATUS, s);
export const fieldName = (f) => pick(FIELDS, f);

// An error for a person, in the page's language: the API's error bodies carry a stable `code`
// and the `field` (dispatch/api/errors.py), and the message is worded here from the code, never
// the API's English `detail` (kept in a data attribute for whoever debugs). A network failure
// reads as words instead of the browser's "Failed to fetch"; an error of the page's own (no
// HTTP status) is shown as it is.
const ERRORS = {
  zh: {
    required: '必须填写', too_short: '太短', too_long: '太长', unknown_field: '不是可填写的项',
    not_a_choice: '不是可选的值', bad_format: '格式不对', out_of_range: '超出允许的范围',
    needs_timezone: '须带时区', invalid: '填写的内容无效', unauthorized: '登录已失效，请重新登录',
    forbidden: '您的账号无权进行此操作', not_found: '未找到，或不在您的管辖范围内',
    refused: '按规则不能这样操作', key_reused: '同一提交的内容不一致，请刷新后重试',
    photo_too_large: '照片超过 5MB', photo_type: '照片须为 JPEG、PNG 或 WebP 格式',
    too_many: '提交过于频繁，请稍后再试', calendar_range: '工作日历缺少下一年的节假日安排，请先导入',
    database_refused: '数据库不接受这个值', unknown_worker: '不在人员名录中', already_holds: '已经在办理此事件',
    nobody_on_shift: '暂无在岗的合格人员，请指定一人', merge_into_itself: '不能并入事件自身',
    more_than_requested: '批准的时长超过了申请的时长', not_a_duration: '时长应写作 3d、4h 或 30min',
    no_policy: '该预警类型和级别没有处置策略', before_start: '须晚于开始时间', in_the_past: '已经过去',
    too_large: '文件过大', sheet_refused: '表格有问题，未写入任何内容',
    ambiguous: '几个区都有这个地址，请说明是哪个区',
  },
  en: {
    required: 'is required', too_short: 'is too short', too_long: 'is too long', unknown_field: 'is not a field you can fill in',
    not_a_choice: 'is not one of the choices', bad_format: 'is not in the right format', out_of_range: 'is out of range',
    needs_timezone: 'needs a time zone', invalid: 'is not valid', unauthorized: 'your session has expired: log in again',
    forbidden: 'your account may not do this', not_found: 'not found, or outside your area',
    refused: 'the rules do not allow this', key_reused: 'the same submission came with other content: reload and try again',
    photo_too_large: 'the photo is larger than 5 MB', photo_type: 'the photo must be a JPEG, PNG or WebP',
    too_many: 'too many submissions: try again later', calendar_range: "the working calendar lacks next year's holidays: import them first",
    database_refused: 'the database refuses this value', unknown_worker: 'is not in the workforce directory',
    already_holds: 'already holds this case', nobody_on_shift: 'nobody eligible is on shift: name someone',
    merge_into_itself: 'a case cannot be merged into itself', more_than_requested: 'the grant is longer than the request',
    not_a_duration: 'write a duration like 3d, 4h or 30min', no_policy: 'there is no policy for this warning and level',
    before_start: 'must be after the start', in_the_past: 'is already past',
    too_large: 'the file is too large', sheet_refused: 'the sheet has problems: nothing was written',
    ambiguous: 'several districts have this address: say which district',
  },
};
const BY_STATUS = {
  zh: { 400: '请求无法解析', 401: '登录已失效，请重新登录', 403: '您的账号无权进行此操作', 404: '未找到，或不在您的管辖范围内',
    409: '当前状态不允许此操作', 413: '内容过大', 415: '不支持的文件类型', 422: '填写的内容无效', 429: '提交过于频繁，请稍后再试',
    503: '服务暂不可用，请稍后再试', other: '操作失败' },
  en: { 400: 'the request cannot be read', 401: 'your session has expired: log in again', 403: 'your account may not do this',
    404: 'not found, or outside your area', 409: 'not allowed in the current state', 413: 'too large', 415: 'file type not supported',
    422: 'not valid', 429: 'too many submissions: try again later', 503: 'the service is unavailable: try again', other: 'failed' },
};

// the message of an API error body from its code (a refused transition names its state and action)
export function errorMessage(body, status) {
  const code = body && body.code;
  if (code === 'illegal_transition') {
    return lang() === 'en'
      ? `cannot ${actionName(body.action)} a case that is ${stateName(body.state)}`
      : `事件当前为“${stateName(body.state)}”，不能${actionName(body.action)}`;
  }
  const words = ERRORS[lang()] || ERRORS.zh;
  if (code && words[code]) return words[code];
  const fallback = BY_STATUS[lang()] || BY_STATUS.zh;
  return fallback[status] || fallback.other;
}

// a field's name in the page's language: `area.polygons[0]` is the area's, an unknown one "输入项"
function fieldLabel(field) {
  const table = FIELDS[lang()] || {};
  if (lang() === 'en') return field;
  return table[field] || table[String(field).split(/[.[]/)[0]] || '输入项';
}

function problemParts(e) {
  if (!e) return ['', ''];
  if (e instanceof TypeError || /Failed to fetch|NetworkError|Load failed/.test(String(e.message))) return [t('network_error'), ''];
  if (!e.status) return ['', String(e.message ?? e)]; // the page's own error
  const field = e.field || null;
  return [field ? `${fieldLabel(field)}${lang() === 'en' ? ': ' : '：'}` : '', errorMessage(e.body, e.status)];
}

export function problem(e) {
  return problemParts(e).join('');
}

// the same as a node (a toast): the API's English detail rides along in data-detail, unshown
export function problemNode(e) {
  const [label, message] = problemParts(e);
  const out = document.createDocumentFragment();
  const said = document.createElement('span');
  said.className = 'problem';
  if (e && e.body && e.body.code) said.dataset.code = e.body.code;
  if (e && e.body && typeof e.body.detail === 'string') said.dataset.detail = e.body.detail;
  said.textContent = message;
  out.append(label, said);
  return out;
}
export function deskName(desk) {
  const [level, code] = String(desk).split(':');
  return `${levelName(level)} ${code || ''}`.trim();
}
export function span(seconds) {
  const m = Math.round(Math.abs(seconds) / 60);
  if (m < 60) return lang() === 'en' ? `${m} min` : `${m} 分钟`;
  const hours = Math.floor(m / 60);
  return lang() === 'en' ? `${hours} h ${m % 60} min` : `${hours} 小时 ${m % 60} 分`;
}
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
  for (const el of root.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel));
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
