// Every visible string of the resident page, Chinese first (the language choice is the pages'
// shared one, common/i18n.js). The 不满意 reasons come from config/revisits.toml (GET /r/reasons).
import { lang } from '../common/i18n.js';

const zh = {
  title: '我要反映',
  lang_switch: 'English',
  what: '遇到了什么问题？',
  describe: '具体情况',
  describe_hint: '例如：楼下垃圾两天没人收',
  photos: '照片（最多 3 张，可不传）',
  place: '在哪里？',
  locate: '用手机定位',
  located: '已定位',
  locate_failed: '无法定位，请填写地址',
  address: '或填写地址、楼栋',
  address_hint: '例如：小龙坎正街 10 号',
  send: '提交',
  sending: '提交中…',
  too_many_photos: '最多 3 张照片',
  need_place: '请用手机定位或填写地址',
  follow: '查询进度',
  code: '查询码',
  your_code: '您的查询码（请保存，凭此码查询进度、评价）',
  new_report: '再反映一件事',
  joined: '附近已有人反映同一问题，已合并办理',
  received: '已受理', dispatched: '已派单', on_site: '已到场', resolved: '已处置', closed: '已办结', reopened: '重新办理',
  rate: '对处理结果满意吗？',
  satisfied: '满意', basically_satisfied: '基本满意', dissatisfied: '不满意',
  why: '不满意的原因',
  where: '位置',
  more: '补充说明（可不填）',
  rate_send: '提交评价',
  rated: '您的评价',
  find: '在地图上查看',
  not_placed: '未找到该位置：请填写道路和门牌号（如 小龙坎正街 10 号），或使用定位',
  not_reached: '未回访成功：评价期限已过，未收到您的评价',
  reopened_note: '已重新交办，我们会再次处理',
  thanks: '感谢您的评价',
  not_found: '没有这个查询码',
  district: '您所在的区',
  district_pick: '请选择',
  which_district: '这个地址在几个区都有：您在哪个区？',
  not_found_in: '在{name}没有找到这个地址：请填写道路和门牌号，或选择其他区',
};

const en = {
  title: 'Report a problem',
  lang_switch: '中文',
  what: 'What is the problem?',
  describe: 'What you see',
  describe_hint: 'e.g. the rubbish downstairs has not been collected for two days',
  photos: 'Photos (up to 3, optional)',
  place: 'Where?',
  locate: 'Use my location',
  located: 'Located',
  locate_failed: 'No location: please type the address',
  address: 'or type the address or building',
  address_hint: 'e.g. 10 Xiaolongkan Zhengjie',
  send: 'Send',
  sending: 'Sending…',
  too_many_photos: 'At most 3 photos',
  need_place: 'Use your location or type an address',
  follow: 'Follow a report',
  code: 'Tracking code',
  your_code: 'Your tracking code (keep it: it is how you follow and rate the report)',
  new_report: 'Report something else',
  joined: 'Someone nearby reported the same problem first: it is handled as one case',
  received: 'Received', dispatched: 'Dispatched', on_site: 'On site', resolved: 'Resolved', closed: 'Closed', reopened: 'Reopened',
  rate: 'Are you satisfied with the handling?',
  satisfied: 'Satisfied', basically_satisfied: 'Mostly satisfied', dissatisfied: 'Not satisfied',
  why: 'Why not?',
  where: 'Where',
  more: 'Anything to add (optional)',
  rate_send: 'Send my rating',
  rated: 'Your rating',
  find: 'Show on the map',
  not_placed: 'Place not found: give the road and house number (e.g. 小龙坎正街 10 号), or use your location',
  not_reached: 'Not reached: the time to rate is over without an answer',
  reopened_note: 'Sent back to be handled again',
  thanks: 'Thank you for your rating',
  not_found: 'No report with this code',
  district: 'Your district',
  district_pick: 'Choose',
  which_district: 'Several districts have this address: which district are you in?',
  not_found_in: 'This address is not in {name}: give the road and house number, or choose another district',
};

export function r(key) {
  const table = lang() === 'en' ? en : zh;
  return table[key] ?? zh[key] ?? key;
}

export function applyStrings(root = document) {
  for (const el of root.querySelectorAll('[data-r]')) el.textContent = r(el.dataset.r);
  document.documentElement.lang = lang() === 'en' ? 'en' : 'zh-CN';
}
