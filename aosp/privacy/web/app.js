// Privacy Center: the pages that show the person what apps did with
// their permissions (CAC draft Art. 30-32). Every figure on a page is a
// value the daemon returned (ledger.summary, ledger.timeline,
// ledger.query, grants.list, indicator.get, rules.get, ledger.verify);
// this file only selects, adds up per category and draws them. No
// network access beyond the data source, no external resources, no
// absolute URLs: the same file runs behind `permctl ui`, inside a
// self-contained `permctl report --html` file and in a device WebView.
(function () {
  'use strict';

  // ---- labels -------------------------------------------------------
  // Both languages are complete; a test checks that switching changes
  // every label.
  var I18N = {
    en: {
      title: 'Privacy Center',
      nav_overview: 'Overview', nav_now: 'Now', nav_rules: 'Recording rules',
      lang_switch: '中文',
      lang_switch_label: 'Switch to Chinese',
      win_24h: 'Last 24 hours', win_7d: 'Last 7 days', win_report: 'Report window',
      window_from: 'Shown from', window_to: 'to',
      mode_live: 'Live from permd', mode_db: 'Read-only database file', mode_report: 'Report', mode_device: 'This device',
      role: 'Your role',
      loading: 'Loading…',
      error: 'Error',
      cat_heading: 'Permissions and sensitive data',
      cat_none: 'No use recorded in this window.',
      col_category: 'Category', col_events: 'Uses', col_apps: 'Apps', col_background: 'In background',
      col_denied: 'Denied', col_decoy: 'Empty or decoy data', col_rate_limited: 'Rate-limited', col_reduced: 'Reduced precision',
      col_app: 'App', col_uid: 'uid', col_time: 'Time', col_last: 'Last', col_count: 'Count', col_state: 'App state',
      col_result: 'Result', col_detail: 'Detail', col_kind: 'Kind',
      starts_heading: 'Background starts',
      self_starts: 'Self-starts', associated_starts: 'Associated starts (started by another app)',
      apps_heading: 'Apps',
      apps_none: 'No app used a permission or sensitive data in this window.',
      chart_all: 'All permission uses',
      chart_alt: '%s: uses per %s, from %s to %s; %d in total.',
      chart_table: 'Show as table',
      per_hour: 'hour', per_day: 'day (UTC)',
      bar_title: '%s: %d uses',
      app_heading: 'App',
      app_unknown: '(unknown package)',
      grants_heading: 'Grants',
      grants_none: 'No grants for this app.',
      grant_decision: 'Decision', grant_time: 'Time', grant_frequency: 'Frequency', grant_precision: 'Precision',
      grant_set: 'Set', grant_by: 'by',
      allow: 'Allow', deny: 'Deny',
      freq_none: 'No limit', freq_max: 'At most', freq_per: 'per',
      per_minute: 'minute', per_hour_f: 'hour', per_day_f: 'day', per_session: 'session',
      background_allowed: 'Also in the background',
      duration_for: 'For', window_between: 'Between (HH:MM-HH:MM)', until_date: 'Until',
      save: 'Save', revoke: 'Revoke', saved: 'Saved.', revoked: 'Revoked.',
      denied_role: 'Refused: your role may not change grants (%s).',
      risks_heading: 'What this app did, and why it matters',
      risks_none: 'Nothing in this window calls for a warning.',
      risk_bg_grant: 'Used or tried to use your %s %d times in the background (%s) while its grant is “%s”.',
      risk_bg: 'Used or tried to use your %s %d times in the background (%s).',
      risk_refused: 'Tried to use your %s %d times and was refused or given empty data (%s).',
      risk_no_grant: 'Used your %s %d times (%s) without a standing grant.',
      risk_self_start: 'Started itself %d times in the background (%s).',
      risk_assoc: 'Was started %d times by other apps in the background (%s).',
      risk_read: 'Read your %s %d times, %d of them in the background (%s).',
      access_heading: 'Permission uses',
      starts_app_heading: 'Starts',
      reads_heading: 'Sensitive reads',
      spans_heading: 'Indicator spans and uses in progress',
      latest: 'Latest %d of %d rows in this window.',
      no_rows: 'None in this window.',
      more: 'Show more',
      timeline_app: 'Permission uses of this app',
      now_heading: 'In use right now',
      now_none: 'No indicated resource is in use.',
      now_on: 'on', now_off: 'off',
      now_active: 'active uses', now_held: 'shown until', now_since: 'since', now_via: 'through',
      now_live: 'Live: updates as the status bar changes.',
      now_unavailable: 'The live indicator is not available here (%s).',
      rules_heading: 'Recording rules',
      rules_version: 'Version', rules_published: 'Published',
      rules_kinds: 'What is recorded', rules_fields: 'Fields of a record', rules_readers: 'Who may read the record',
      rules_retention: 'kept %d days',
      verify_heading: 'Integrity of the record',
      verify_ok: 'Verified: every sealed row matches its hash chain.',
      verify_bad: 'Integrity check FAILED at row %d (%s): %s',
      verify_rows: 'rows', verify_sealed: 'sealed', verify_open: 'open', verify_pruned: 'removed by retention', verify_chains: 'chains',
      export: 'Export shown records (NDJSON)',
      export_note: 'One JSON object per line: the records (as `permctl ledger export` writes them) or the per-app figures shown.',
      report_note: 'Report generated %s from %s. Figures are the daemon’s own; lists show the latest rows.',
      back: 'Back to overview',
      tz_note: 'Times are shown in this device’s time zone; daily bars are UTC days.'
    },
    'zh-CN': {
      title: '隐私中心',
      nav_overview: '概览', nav_now: '当前', nav_rules: '记录规则',
      lang_switch: 'English',
      lang_switch_label: '切换为英文',
      win_24h: '最近 24 小时', win_7d: '最近 7 天', win_report: '报告时段',
      window_from: '统计时段', window_to: '至',
      mode_live: '实时（permd）', mode_db: '只读数据库文件', mode_report: '报告', mode_device: '本机',
      role: '您的角色',
      loading: '正在加载…',
      error: '错误',
      cat_heading: '权限与敏感数据',
      cat_none: '此时段内没有使用记录。',
      col_category: '类别', col_events: '使用次数', col_apps: '应用数', col_background: '后台',
      col_denied: '被拒绝', col_decoy: '返回空数据或虚假数据', col_rate_limited: '被限频', col_reduced: '降低精度',
      col_app: '应用', col_uid: 'UID', col_time: '时间', col_last: '最后一次', col_count: '次数', col_state: '应用状态',
      col_result: '结果', col_detail: '详情', col_kind: '类型',
      starts_heading: '后台启动',
      self_starts: '自启动', associated_starts: '关联启动（由其他应用启动）',
      apps_heading: '应用',
      apps_none: '此时段内没有应用使用权限或敏感数据。',
      chart_all: '全部权限使用',
      chart_alt: '%s：每%s的使用次数，自 %s 至 %s；共 %d 次。',
      chart_table: '以表格显示',
      per_hour: '小时', per_day: '天（UTC）',
      bar_title: '%s：%d 次',
      app_heading: '应用',
      app_unknown: '（未知应用包）',
      grants_heading: '授权',
      grants_none: '此应用没有授权。',
      grant_decision: '决定', grant_time: '时间', grant_frequency: '频率', grant_precision: '精度',
      grant_set: '设置于', grant_by: '设置方',
      allow: '允许', deny: '拒绝',
      freq_none: '不限', freq_max: '最多', freq_per: '每',
      per_minute: '分钟', per_hour_f: '小时', per_day_f: '天', per_session: '次会话',
      background_allowed: '也允许在后台使用',
      duration_for: '时长', window_between: '时段（HH:MM-HH:MM）', until_date: '截至',
      save: '保存', revoke: '撤销', saved: '已保存。', revoked: '已撤销。',
      denied_role: '被拒绝：您的角色无权更改授权（%s）。',
      risks_heading: '此应用做了什么，有何风险',
      risks_none: '此时段内没有需要提醒的情况。',
      risk_bg_grant: '在后台使用或尝试使用您的%s %d 次（%s），而其授权为“%s”。',
      risk_bg: '在后台使用或尝试使用您的%s %d 次（%s）。',
      risk_refused: '尝试使用您的%s %d 次，被拒绝或只得到空数据（%s）。',
      risk_no_grant: '在没有有效授权的情况下使用了您的%s %d 次（%s）。',
      risk_self_start: '在后台自启动 %d 次（%s）。',
      risk_assoc: '在后台被其他应用启动 %d 次（%s）。',
      risk_read: '读取了您的%s %d 次，其中 %d 次在后台（%s）。',
      access_heading: '权限使用',
      starts_app_heading: '启动',
      reads_heading: '敏感数据读取',
      spans_heading: '指示器显示时段与使用时段',
      latest: '显示此时段内最新 %d 行，共 %d 行。',
      no_rows: '此时段内没有。',
      more: '显示更多',
      timeline_app: '此应用的权限使用',
      now_heading: '正在使用',
      now_none: '当前没有正在使用的受指示资源。',
      now_on: '开', now_off: '关',
      now_active: '进行中的使用', now_held: '显示至', now_since: '开始于', now_via: '经由',
      now_live: '实时：随状态栏变化更新。',
      now_unavailable: '此处无法显示实时指示器（%s）。',
      rules_heading: '记录规则',
      rules_version: '版本', rules_published: '发布日期',
      rules_kinds: '记录哪些内容', rules_fields: '记录的字段', rules_readers: '谁可以读取记录',
      rules_retention: '保留 %d 天',
      verify_heading: '记录完整性',
      verify_ok: '已验证：每一条已封存的记录都与其哈希链相符。',
      verify_bad: '完整性检查未通过：第 %d 行（%s）：%s',
      verify_rows: '行', verify_sealed: '已封存', verify_open: '未封存', verify_pruned: '按保留期删除', verify_chains: '条链',
      export: '导出所示记录（NDJSON）',
      export_note: '每行一个 JSON 对象：所示的记录（格式同 `permctl ledger export`）或各应用的统计数字。',
      report_note: '报告生成于 %s，来源：%s。数字均由 permd 计算；列表显示最新的记录。',
      back: '返回概览',
      tz_note: '时间按本机时区显示；按天统计的柱以 UTC 日划分。'
    }
  };

  // The categories of the overview: the ten of Art. 30 (kind access)
  // plus the sensitive reads of Art. 32, each with the kind that
  // records it.
  var ART30 = ['calendar', 'call_log', 'camera', 'contacts', 'location', 'microphone', 'phone', 'sms', 'storage', 'body_activity'];
  var READS = [['clipboard', 'clipboard_read'], ['device_id', 'device_id_read'], ['app_list', 'app_list_read']];
  var SUMMARY_KINDS = ['access', 'clipboard_read', 'device_id_read', 'app_list_read', 'self_start', 'associated_start'];
  var APP_KINDS = ['access', 'self_start', 'associated_start', 'clipboard_read', 'device_id_read', 'app_list_read', 'indicator', 'span'];
  var WINDOWS = { '24h': { ms: 24 * 3600 * 1000, bucket: 'hour' }, '7d': { ms: 7 * 24 * 3600 * 1000, bucket: 'day' } };
  var ROWS_PER_LIST = 10;

  // ---- data sources --------------------------------------------------
  // canon is the key of a call: method and params with sorted keys, the
  // same encoding the Go report writer uses (encoding/json sorts map
  // keys).
  function canon(v) {
    if (Array.isArray(v)) return '[' + v.map(canon).join(',') + ']';
    if (v && typeof v === 'object') {
      return '{' + Object.keys(v).sort().map(function (k) { return JSON.stringify(k) + ':' + canon(v[k]); }).join(',') + '}';
    }
    return JSON.stringify(v);
  }
  function callKey(method, params) { return method + ' ' + canon(params || {}); }

  function RPCError(e) {
    var err = new Error(e.message || 'error');
    err.code = e.code;
    return err;
  }

  // httpSource: `permctl ui` proxies each call to permd (paths are
  // relative to the page, which lives under the per-run token).
  function httpSource() {
    return {
      mode: 'live',
      call: function (method, params) {
        return fetch('api', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ method: method, params: params || {} }) })
          .then(function (r) { return r.json(); })
          .then(function (j) { if (j.error) throw RPCError(j.error); return j.result; });
      },
      subscribe: function (onSnap, onErr) {
        var es = new EventSource('events');
        es.onmessage = function (e) { onSnap(JSON.parse(e.data)); };
        es.addEventListener('fail', function (e) { es.close(); onErr(JSON.parse(e.data)); });
        return function () { es.close(); };
      },
      now: function () { return Date.now(); }
    };
  }

  // bridgeSource: a device WebView exposes window.permd (a Java object
  // added with addJavascriptInterface, calling permd through the Java
  // client as the settings role). call(method, paramsJSON) returns the
  // JSON-RPC reply object as a string: {"result":...} or {"error":...}.
  function bridgeSource(b) {
    return {
      mode: 'device',
      call: function (method, params) {
        return Promise.resolve().then(function () {
          var j = JSON.parse(b.call(method, JSON.stringify(params || {})));
          if (j.error) throw RPCError(j.error);
          return j.result;
        });
      },
      subscribe: null,
      now: function () { return Date.now(); }
    };
  }

  // snapshotSource: a report file carries the replies to exactly the
  // calls its pages make.
  function snapshotSource(data) {
    return {
      mode: 'report',
      call: function (method, params) {
        return Promise.resolve().then(function () {
          var k = callKey(method, params);
          if (!Object.prototype.hasOwnProperty.call(data.calls, k)) throw new Error('not in this report: ' + k);
          var v = data.calls[k];
          if (v.error) throw RPCError(v.error);
          return v.result;
        });
      },
      subscribe: null,
      now: function () { return data.now_ms; }
    };
  }

  function pickSource() {
    var rep = document.getElementById('permd-report');
    if (rep) return snapshotSource(JSON.parse(rep.textContent));
    if (window.permd && typeof window.permd.call === 'function') return bridgeSource(window.permd);
    return httpSource();
  }

  // ---- state ---------------------------------------------------------
  var S = {
    src: null,
    lang: 'en',
    win: '24h',
    now: 0,
    since: 0,
    report: null,
    rules: null,
    catalogue: null,
    role: '',
    cache: {},
    shown: [], // events on the page, for the export
    stopLive: null
  };

  function call(method, params) {
    var k = callKey(method, params);
    if (!S.cache[k]) {
      S.cache[k] = S.src.call(method, params).catch(function (e) { delete S.cache[k]; throw e; });
    }
    return S.cache[k];
  }

  function t(key) {
    var s = I18N[S.lang][key];
    if (s === undefined) throw new Error('missing label ' + key + ' in ' + S.lang);
    return s;
  }
  function fmt(s) {
    var args = Array.prototype.slice.call(arguments, 1), i = 0;
    return s.replace(/%[sd]/g, function () { var v = args[i++]; return v === undefined ? '' : String(v); });
  }
  function txt(m) { // a {"en":..,"zh-CN":..} text from rules or catalogue
    if (!m) return '';
    if (typeof m === 'string') return m;
    return m[S.lang] || m.en || '';
  }

  // ---- DOM helpers ---------------------------------------------------
  function h(tag, attrs) {
    var el = document.createElement(tag);
    for (var k in attrs || {}) {
      if (attrs[k] === undefined || attrs[k] === null || attrs[k] === false) continue;
      if (k === 'text') el.textContent = attrs[k];
      else if (k === 'on') for (var ev in attrs.on) el.addEventListener(ev, attrs.on[ev]);
      else el.setAttribute(k, attrs[k]);
    }
    for (var i = 2; i < arguments.length; i++) add(el, arguments[i]);
    return el;
  }
  function add(el, c) {
    if (c === undefined || c === null || c === false) return;
    if (Array.isArray(c)) { c.forEach(function (x) { add(el, x); }); return; }
    el.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
  }
  // L is a label element: data-l names its key, so the language test can
  // find every label.
  function L(tag, key, attrs) {
    var a = attrs || {};
    a['data-l'] = key;
    a.text = t(key);
    return h(tag, a);
  }
  var SVG = 'http://www.w3.org/2000/svg';
  function s(tag, attrs) {
    var el = document.createElementNS(SVG, tag);
    for (var k in attrs || {}) el.setAttribute(k, attrs[k]);
    for (var i = 2; i < arguments.length; i++) if (arguments[i]) el.appendChild(arguments[i]);
    return el;
  }

  function catName(code) {
    var c = (S.rules.categories || []).filter(function (x) { return x.code === code; })[0];
    return c ? txt(c.name) : code;
  }
  function kindName(code) {
    var c = (S.rules.kinds || []).filter(function (x) { return x.code === code; })[0];
    return c ? txt(c.name) : code;
  }
  function codeName(list, code) {
    var c = (S.rules[list] || []).filter(function (x) { return x.code === (code || ''); })[0];
    return c ? txt(c.name) : (code || '');
  }
  function catRisk(code) {
    var c = (S.catalogue.categories || []).filter(function (x) { return x.id === code; })[0];
    if (c && c.risk) return txt(c.risk);
    var r = (S.rules.categories || []).filter(function (x) { return x.code === code; })[0];
    return r ? txt(r.risk) : '';
  }
  function catalogueCat(code) {
    return (S.catalogue.categories || []).filter(function (x) { return x.id === code; })[0];
  }
  function locale() { return S.lang === 'zh-CN' ? 'zh-CN' : 'en-GB'; }
  // Formatters are made once per language: making one per call costs
  // more than drawing a whole chart.
  var FMT = {};
  function formatter(name) {
    var k = S.lang + ' ' + name;
    if (!FMT[k]) {
      FMT[k] = name === 'num' ? new Intl.NumberFormat(locale())
        : name === 'when' ? new Intl.DateTimeFormat(locale(), { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' })
          : new Intl.DateTimeFormat(locale(), { month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
    }
    return FMT[k];
  }
  function when(ms) { return formatter('when').format(new Date(ms)); }
  function num(n) { return formatter('num').format(Number(n || 0)); }
  function winLabel() { return S.report ? t('win_report') : t(S.win === '24h' ? 'win_24h' : 'win_7d'); }
  function appName(a) { return (a.packages && a.packages.length) ? a.packages.join(', ') : t('app_unknown') + ' uid ' + a.uid; }

  // ---- figures -------------------------------------------------------
  // Each function below selects rows the daemon returned and adds them
  // up per category: the figure for "location" is the sum of the
  // per-app rows of ledger.summary for location, nothing else.
  function totals(rows) {
    var out = {};
    rows.forEach(function (r) {
      var o = out[r.category] || (out[r.category] = { count: 0, apps: 0, background: 0, by_result: {} });
      o.count += r.count;
      o.apps += 1;
      o.background += r.background;
      for (var k in r.by_result) o.by_result[k] = (o.by_result[k] || 0) + r.by_result[k];
    });
    return out;
  }

  function windowParams() {
    return { since_ms: S.since };
  }
  function bucketName() { return S.report ? S.report.bucket : WINDOWS[S.win].bucket; }

  function summaries() {
    return Promise.all(SUMMARY_KINDS.map(function (k) {
      return call('ledger.summary', { kind: k, since_ms: S.since }).then(function (r) { return [k, r.apps]; });
    })).then(function (list) { var o = {}; list.forEach(function (x) { o[x[0]] = x[1]; }); return o; });
  }

  // ---- charts --------------------------------------------------------
  // timelineChart draws ledger.timeline buckets as bars, one slot per
  // hour or day of the window (empty slots drawn empty), with a text
  // alternative and an equivalent table.
  function timelineChart(title, res) {
    var step = res.bucket_ms;
    var first = Math.floor(S.since / step) * step;
    var slots = [];
    for (var x = first; x <= S.now; x += step) slots.push({ start: x, count: 0 });
    var total = 0;
    res.buckets.forEach(function (b) {
      var i = Math.round((b.start_ms - first) / step);
      if (i >= 0 && i < slots.length) slots[i].count = b.count;
      total += b.count;
    });
    var max = Math.max.apply(null, slots.map(function (z) { return z.count; }).concat([1]));
    var W = 600, H = 140, pad = 18, bw = (W - 2) / slots.length;
    var id = 'c' + Math.random().toString(36).slice(2);
    var unit = bucketName() === 'hour' ? t('per_hour') : t('per_day');
    var alt = fmt(t('chart_alt'), title, unit, when(S.since), when(S.now), total);
    var svg = s('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-labelledby': id + 't ' + id + 'd', class: 'chart', preserveAspectRatio: 'none' });
    var tt = s('title', { id: id + 't' }); tt.textContent = title; svg.appendChild(tt);
    var dd = s('desc', { id: id + 'd' }); dd.textContent = alt; svg.appendChild(dd);
    svg.appendChild(s('line', { x1: 0, y1: H - pad, x2: W, y2: H - pad, class: 'axis' }));
    slots.forEach(function (z, i) {
      var bh = Math.round((H - pad - 4) * z.count / max);
      var g = s('g', { tabindex: z.count ? '0' : '-1', class: 'bar', 'aria-label': fmt(t('bar_title'), slotLabel(z.start), z.count) });
      var bt = s('title'); bt.textContent = fmt(t('bar_title'), slotLabel(z.start), z.count); g.appendChild(bt);
      g.appendChild(s('rect', { x: (1 + i * bw).toFixed(2), y: H - pad - bh, width: Math.max(bw - 1, 1).toFixed(2), height: bh }));
      svg.appendChild(g);
    });
    var lab = s('text', { x: 2, y: H - 4, class: 'tick' }); lab.textContent = slotLabel(first); svg.appendChild(lab);
    var lab2 = s('text', { x: W - 2, y: H - 4, class: 'tick end' }); lab2.textContent = slotLabel(slots[slots.length - 1].start); svg.appendChild(lab2);
    var mx = s('text', { x: 2, y: 12, class: 'tick' }); mx.textContent = num(max); svg.appendChild(mx);
    var table = h('table', { class: 'data' },
      h('thead', null, h('tr', null, L('th', 'col_time'), L('th', 'col_events'))),
      h('tbody', null, res.buckets.map(function (b) { return h('tr', null, h('td', { text: slotLabel(b.start_ms) }), h('td', { class: 'n', text: num(b.count) })); })));
    return h('figure', { class: 'timeline', 'data-total': total },
      h('figcaption', null, h('span', { text: title })),
      svg,
      h('p', { class: 'alt', text: alt }),
      h('details', null, L('summary', 'chart_table'), h('div', { class: 'scroll' }, table)));
  }
  function slotLabel(ms) {
    if (bucketName() === 'hour') return formatter('hour').format(new Date(ms));
    return new Date(ms).toISOString().slice(0, 10);
  }

  // ---- pages ---------------------------------------------------------
  function page(title) {
    var main = document.getElementById('main');
    main.textContent = '';
    main.appendChild(h('h1', { text: title }));
    S.shown = [];
    return main;
  }

  function header() {
    var nav = h('nav', { 'aria-label': 'Privacy Center' },
      h('a', { href: '#/', 'data-l': 'nav_overview', text: t('nav_overview') }),
      S.src.mode === 'report' ? null : h('a', { href: '#/now', 'data-l': 'nav_now', text: t('nav_now') }),
      h('a', { href: '#/rules', 'data-l': 'nav_rules', text: t('nav_rules') }));
    var wins = null;
    if (!S.report) {
      wins = h('div', { class: 'wins', role: 'group' }, ['24h', '7d'].map(function (w) {
        return h('button', { type: 'button', 'data-l': 'win_' + w, 'aria-pressed': String(S.win === w), text: t('win_' + w), on: { click: function () { setWindow(w); } } });
      }));
    }
    var langBtn = h('button', { type: 'button', id: 'lang', 'data-l': 'lang_switch', 'aria-label': t('lang_switch_label'), text: t('lang_switch'),
      on: { click: function () { setLang(S.lang === 'en' ? 'zh-CN' : 'en'); } } });
    var modeKey = 'mode_' + (S.src.mode === 'live' && S.dbMode ? 'db' : S.src.mode);
    var hdr = h('header', null,
      h('div', { class: 'top' }, L('strong', 'title', { class: 'brand' }), langBtn),
      nav, wins,
      h('p', { class: 'meta' },
        L('span', modeKey), S.role ? [' · ', L('span', 'role'), ': ', h('code', { text: S.role })] : null, ' · ',
        L('span', 'window_from'), ' ', h('time', { id: 'since', 'data-ms': S.since, text: when(S.since) }), ' ', L('span', 'window_to'), ' ',
        h('time', { id: 'until', 'data-ms': S.now, text: when(S.now) })),
      S.report ? h('p', { class: 'meta', text: fmt(t('report_note'), when(S.report.now_ms), S.report.origin) }) : null);
    var old = document.querySelector('header');
    if (old) old.replaceWith(hdr); else document.body.insertBefore(hdr, document.body.firstChild);
  }

  function overview() {
    var main = page(t('nav_overview') + ' · ' + winLabel());
    // The overall timeline does not depend on the summaries: ask at once.
    var overall = call('ledger.timeline', { kind: 'access', since_ms: S.since, bucket: bucketName() });
    return summaries().then(function (sum) {
      SUMMARY_KINDS.forEach(function (k) {
        sum[k].forEach(function (r) { S.shown.push(Object.assign({ kind: k, since_ms: S.since, until_ms: S.now }, r)); });
      });
      var acc = totals(sum.access);
      var rows = ART30.map(function (c) { return [c, acc[c]]; });
      READS.forEach(function (r) { rows.push([r[0], totals(sum[r[1]])[r[0]]]); });
      var used = rows.filter(function (r) { return r[1] && r[1].count > 0; });
      var sec = h('section', { 'aria-labelledby': 'cats' }, L('h2', 'cat_heading', { id: 'cats' }));
      var tbl = h('table', { class: 'data', id: 'categories' },
        h('thead', null, h('tr', null, ['col_category', 'col_events', 'col_apps', 'col_background', 'col_denied', 'col_decoy', 'col_rate_limited', 'col_reduced'].map(function (k) { return L('th', k, { scope: 'col' }); }))),
        h('tbody', null, rows.map(function (r) {
          var v = r[1] || { count: 0, apps: 0, background: 0, by_result: {} };
          return h('tr', { 'data-category': r[0], class: v.count ? '' : 'zero' },
            h('th', { scope: 'row', text: catName(r[0]) }),
            h('td', { class: 'n', 'data-f': 'count', text: num(v.count) }),
            h('td', { class: 'n', 'data-f': 'apps', text: num(v.apps) }),
            h('td', { class: 'n', 'data-f': 'background', text: num(v.background) }),
            ['denied', 'decoy', 'rate_limited', 'reduced'].map(function (k) { return h('td', { class: 'n', 'data-f': k, text: num(v.by_result[k]) }); }));
        })));
      sec.appendChild(h('div', { class: 'scroll' }, tbl));
      main.appendChild(sec);

      var st = h('section', { 'aria-labelledby': 'starts' }, L('h2', 'starts_heading', { id: 'starts' }));
      [['self_start', 'self_starts'], ['associated_start', 'associated_starts']].forEach(function (p) {
        var tot = totals(sum[p[0]]).process || { count: 0, apps: 0, background: 0, by_result: {} };
        st.appendChild(h('p', { class: 'stat', 'data-kind': p[0] }, h('span', { class: 'big', 'data-f': 'count', text: num(tot.count) }), ' ', L('span', p[1]), ' · ',
          h('span', { 'data-f': 'apps', text: num(tot.apps) }), ' ', L('span', 'col_apps')));
      });
      main.appendChild(st);

      var charts = h('section', { class: 'charts' });
      main.appendChild(charts);
      var calls = [overall.then(function (r) {
        charts.insertBefore(timelineChart(t('chart_all'), r), charts.firstChild);
      })];
      used.forEach(function (r) {
        var kind = r[0] === 'clipboard' ? 'clipboard_read' : r[0] === 'device_id' ? 'device_id_read' : r[0] === 'app_list' ? 'app_list_read' : 'access';
        var slot = h('div', { 'data-category': r[0] });
        charts.appendChild(slot);
        calls.push(call('ledger.timeline', { kind: kind, category: r[0], since_ms: S.since, bucket: bucketName() }).then(function (res) {
          slot.appendChild(timelineChart(catName(r[0]), res));
        }));
      });

      // Apps: one line per app, its uses per category from the same
      // summaries.
      var apps = {};
      SUMMARY_KINDS.forEach(function (k) {
        sum[k].forEach(function (a) {
          var o = apps[a.uid] || (apps[a.uid] = { uid: a.uid, packages: a.packages, count: 0, cats: [] });
          o.count += a.count;
          if (o.cats.indexOf(a.category) < 0) o.cats.push(a.category);
        });
      });
      var list = Object.keys(apps).map(function (k) { return apps[k]; }).sort(function (a, b) { return b.count - a.count || a.uid - b.uid; });
      var as = h('section', { 'aria-labelledby': 'apps' }, L('h2', 'apps_heading', { id: 'apps' }));
      if (!list.length) as.appendChild(L('p', 'apps_none'));
      else as.appendChild(h('ul', { class: 'apps' }, list.map(function (a) {
        // A report carries the pages of the apps it was made for.
        var linked = !S.report || S.report.apps.indexOf(a.uid) >= 0;
        return h('li', { 'data-uid': a.uid }, linked ? h('a', { href: '#/app/' + a.uid, text: appName(a) }) : h('span', { text: appName(a) }), ' ',
          h('span', { class: 'muted', text: a.cats.map(catName).join(' · ') }));
      })));
      main.appendChild(as);
      if (!used.length) sec.appendChild(L('p', 'cat_none'));
      main.appendChild(exportButton());
      return Promise.all(calls);
    });
  }

  function eventTable(rows) {
    return h('div', { class: 'scroll' }, h('table', { class: 'data events' },
      h('thead', null, h('tr', null, ['col_time', 'col_kind', 'col_category', 'col_count', 'col_state', 'col_result', 'col_detail'].map(function (k) { return L('th', k, { scope: 'col' }); }))),
      h('tbody', null, rows.map(function (e) {
        S.shown.push(e);
        return h('tr', { 'data-seq': e.seq },
          h('td', null, h('time', { 'data-ms': e.time_ms, text: when(e.time_ms) })),
          h('td', { text: kindName(e.kind) }),
          h('td', { text: catName(e.category) }),
          h('td', { class: 'n', text: num(e.count) }),
          h('td', { text: codeName('app_states', e.app_state) }),
          h('td', { text: codeName('results', e.result) }),
          h('td', null, h('code', { text: e.detail ? JSON.stringify(e.detail) : '' })));
      }))));
  }

  function grantSummary(g) {
    if (g.decision === 'deny') return t('deny');
    var m = (S.catalogue.time_labels || {})[g.time && g.time.mode];
    return txt(m) || (g.time && g.time.mode) || '';
  }

  function grantEditor(g, uid) {
    var cat = catalogueCat(g.category) || { time_modes: [], levels: [] };
    var msg = h('p', { class: 'msg', role: 'status' });
    var dec = h('select', { name: 'decision', 'aria-label': t('grant_decision') },
      h('option', { value: 'allow', text: t('allow'), selected: g.decision === 'allow' ? 'selected' : null }),
      h('option', { value: 'deny', text: t('deny'), selected: g.decision === 'deny' ? 'selected' : null }));
    var tm = g.time || {};
    var mode = h('select', { name: 'mode', 'aria-label': t('grant_time') }, (cat.time_modes || []).map(function (m) {
      return h('option', { value: m, text: txt((S.catalogue.time_labels || {})[m]) || m, selected: tm.mode === m ? 'selected' : null });
    }));
    var bg = h('input', { type: 'checkbox', name: 'background', checked: tm.background ? 'checked' : null });
    var dur = h('select', { name: 'for', 'aria-label': t('duration_for') }, (S.catalogue.durations || []).map(function (d) { return h('option', { value: d, text: d, selected: tm['for'] === d ? 'selected' : null }); }));
    var win = h('input', { type: 'text', name: 'window', value: tm.window || '09:00-18:00', size: '11', 'aria-label': t('window_between') });
    var until = h('input', { type: 'datetime-local', name: 'until', 'aria-label': t('until_date'), value: tm.until ? tm.until.slice(0, 16) : '' });
    var fq = g.frequency || null;
    var fmax = h('input', { type: 'number', min: '0', name: 'max', value: fq ? fq.max : '', placeholder: t('freq_none'), 'aria-label': t('freq_max') });
    var fper = h('select', { name: 'per', 'aria-label': t('freq_per') }, ['minute', 'hour', 'day', 'session'].map(function (p) {
      return h('option', { value: p, text: t(p === 'session' ? 'per_session' : 'per_' + p + (p === 'minute' ? '' : '_f')), selected: fq && fq.per === p ? 'selected' : null });
    }));
    var lv = h('select', { name: 'level', 'aria-label': t('grant_precision') }, (cat.levels || []).map(function (l) {
      return h('option', { value: l.id, text: txt(l.label) || l.id, selected: g.precision && g.precision.level === l.id ? 'selected' : null });
    }));
    function params() {
      var p = { uid: uid, package: g.package, category: g.category, decision: dec.value };
      if (dec.value === 'deny') return p;
      var time = { mode: mode.value };
      if (mode.value === 'duration') time['for'] = dur.value;
      if (mode.value === 'window') time.window = win.value;
      if (mode.value === 'until' && until.value) time.until = new Date(until.value).toISOString();
      if (bg.checked && mode.value !== 'once' && mode.value !== 'while_in_use') time.background = true;
      p.time = time;
      if (fmax.value !== '' && Number(fmax.value) > 0) p.frequency = { max: Number(fmax.value), per: fper.value };
      if (lv.value) {
        p.precision = { level: lv.value };
        if (g.precision && g.precision.level === lv.value) {
          if (g.precision.radius_m) p.precision.radius_m = g.precision.radius_m;
          if (g.precision.items) p.precision.items = g.precision.items;
        }
      }
      return p;
    }
    function done(key) { return function () { msg.textContent = t(key); msg.className = 'msg ok'; delete S.cache[callKey('grants.list', { uid: uid })]; }; }
    function fail(e) {
      msg.className = 'msg bad';
      msg.textContent = e.code === -32000 ? fmt(t('denied_role'), e.message) : t('error') + ': ' + e.message;
    }
    var editable = S.src.mode !== 'report' && !S.dbMode;
    var form = h('form', { class: 'grant', 'data-category': g.category, 'data-package': g.package, on: { submit: function (ev) { ev.preventDefault(); S.src.call('grants.set', params()).then(done('saved'), fail); } } },
      h('label', null, L('span', 'grant_decision'), ' ', dec),
      h('label', null, L('span', 'grant_time'), ' ', mode),
      h('label', null, bg, ' ', L('span', 'background_allowed')),
      h('label', null, L('span', 'duration_for'), ' ', dur),
      h('label', null, L('span', 'window_between'), ' ', win),
      h('label', null, L('span', 'until_date'), ' ', until),
      h('label', null, L('span', 'freq_max'), ' ', fmax, ' ', L('span', 'freq_per'), ' ', fper),
      (cat.levels || []).length ? h('label', null, L('span', 'grant_precision'), ' ', lv) : null,
      editable ? h('div', { class: 'actions' },
        h('button', { type: 'submit', 'data-l': 'save', text: t('save') }),
        h('button', { type: 'button', 'data-l': 'revoke', text: t('revoke'), on: { click: function () { S.src.call('grants.revoke', { user: g.user, package: g.package, category: g.category }).then(done('revoked'), fail); } } })) : null,
      msg);
    if (!editable) Array.prototype.forEach.call(form.querySelectorAll('select,input'), function (x) { x.disabled = true; });
    // Show only the options that apply to the chosen decision and mode.
    function relevant() {
      var allow = dec.value === 'allow', m = mode.value;
      var show = function (el, on) { el.parentNode.hidden = !on; };
      show(mode, allow);
      show(bg, allow && cat.background !== 'never' && m !== 'once' && m !== 'while_in_use');
      show(dur, allow && m === 'duration');
      show(win, allow && m === 'window');
      show(until, allow && m === 'until');
      show(fmax, allow);
      if ((cat.levels || []).length) show(lv, allow);
    }
    dec.addEventListener('change', relevant);
    mode.addEventListener('change', relevant);
    relevant();
    return form;
  }

  function appPage(uid) {
    return summaries().then(function (sum) {
      var mine = {};
      var info = null;
      SUMMARY_KINDS.forEach(function (k) {
        mine[k] = sum[k].filter(function (a) { return a.uid === uid; });
        if (!info && mine[k].length) info = mine[k][0];
      });
      info = info || { uid: uid, packages: [] };
      var main = page(appName(info));
      main.appendChild(h('p', { class: 'meta' }, h('span', null, 'uid '), h('code', { text: String(uid) }), ' · ', h('a', { href: '#/', 'data-l': 'back', text: t('back') })));
      var grantsP = S.dbMode ? Promise.resolve({ grants: [] }) : call('grants.list', { uid: uid }).catch(function (e) { return { grants: [], error: e }; });
      return grantsP.then(function (gr) {
        var byCat = {};
        gr.grants.forEach(function (g) { byCat[g.category] = g; });
        // Risk prompts: each names the figure it rests on.
        var risks = h('section', { 'aria-labelledby': 'risks', id: 'risk-list' }, L('h2', 'risks_heading', { id: 'risks' }));
        var items = [];
        mine.access.forEach(function (r) {
          var g = byCat[r.category];
          var cname = catName(r.category);
          var bgBound = g && g.decision === 'allow' && g.time && (g.time.mode === 'once' || g.time.mode === 'while_in_use' || !g.time.background && g.time.mode !== 'always');
          if (r.background > 0 && bgBound) items.push([r.category, fmt(t('risk_bg_grant'), cname, r.background, winLabel(), grantSummary(g))]);
          else if (r.background > 0) items.push([r.category, fmt(t('risk_bg'), cname, r.background, winLabel())]);
          var refused = (r.by_result.denied || 0) + (r.by_result.rate_limited || 0) + (r.by_result.decoy || 0);
          if (refused > 0) items.push([r.category, fmt(t('risk_refused'), cname, refused, winLabel())]);
          if (!g && (r.by_result.allowed || 0) > 0) items.push([r.category, fmt(t('risk_no_grant'), cname, r.by_result.allowed, winLabel())]);
        });
        mine.self_start.forEach(function (r) { items.push(['process', fmt(t('risk_self_start'), r.count, winLabel())]); });
        mine.associated_start.forEach(function (r) { items.push(['process', fmt(t('risk_assoc'), r.count, winLabel())]); });
        READS.forEach(function (p) {
          mine[p[1]].forEach(function (r) { items.push([p[0], fmt(t('risk_read'), catName(p[0]), r.count, r.background, winLabel())]); });
        });
        if (!items.length) risks.appendChild(L('p', 'risks_none'));
        else {
          var told = {}; // the category's risk text once, after its first prompt
          risks.appendChild(h('ul', { class: 'risks' }, items.map(function (it) {
            var why = told[it[0]] ? null : h('span', { class: 'muted', text: catRisk(it[0]) });
            told[it[0]] = true;
            return h('li', { 'data-category': it[0] }, h('strong', { text: it[1] }), why ? ' ' : null, why);
          })));
        }
        main.appendChild(risks);

        var gs = h('section', { 'aria-labelledby': 'grants' }, L('h2', 'grants_heading', { id: 'grants' }));
        if (gr.error) gs.appendChild(h('p', { class: 'msg bad', text: t('error') + ': ' + gr.error.message }));
        if (!gr.grants.length && !gr.error) gs.appendChild(L('p', 'grants_none'));
        gr.grants.forEach(function (g) {
          gs.appendChild(h('article', { class: 'card' },
            h('h3', { text: catName(g.category) + ' · ' + g['package'] + ' · ' + grantSummary(g) }),
            h('p', { class: 'muted' }, L('span', 'grant_set'), ' ', h('time', { text: g.set ? when(Date.parse(g.set)) : '' }), ' · ', L('span', 'grant_by'), ' ', h('code', { text: g.by || '' })),
            grantEditor(g, uid)));
        });
        main.appendChild(gs);

        var tl = h('section', { class: 'charts' });
        main.appendChild(tl);
        var jobs = [call('ledger.timeline', { uid: uid, kind: 'access', since_ms: S.since, bucket: bucketName() }).then(function (r) { tl.appendChild(timelineChart(t('timeline_app'), r)); })];
        var sections = [['access_heading', ['access']], ['starts_app_heading', ['self_start', 'associated_start']], ['reads_heading', ['clipboard_read', 'device_id_read', 'app_list_read']], ['spans_heading', ['indicator', 'span']]];
        sections.forEach(function (sc) {
          var sec = h('section', { 'data-section': sc[0] }, L('h2', sc[0]));
          main.appendChild(sec);
          sc[1].forEach(function (k) {
            var per = S.report ? S.report.rows_per_list : ROWS_PER_LIST;
            jobs.push(call('ledger.query', { uid: uid, kind: k, since_ms: S.since, limit: per }).then(function (res) {
              var rows = (mine[k] || []).reduce(function (n, r) { return n + r.rows; }, 0);
              var box = h('div', { 'data-kind': k }, h('h3', { text: kindName(k) }));
              if (!res.events.length) box.appendChild(L('p', 'no_rows'));
              else {
                if (mine[k]) box.appendChild(h('p', { class: 'muted', text: fmt(t('latest'), res.events.length, rows) }));
                box.appendChild(eventTable(res.events));
                if (res.next && S.src.mode !== 'report') box.appendChild(moreButton(box, { uid: uid, kind: k, since_ms: S.since, limit: ROWS_PER_LIST }, res.next));
              }
              sec.appendChild(box);
            }));
          });
        });
        main.appendChild(exportButton());
        return Promise.all(jobs);
      });
    });
  }

  function moreButton(box, params, next) {
    var b = h('button', { type: 'button', 'data-l': 'more', text: t('more'), on: { click: function () {
      var p = JSON.parse(JSON.stringify(params)); p.cursor = next;
      S.src.call('ledger.query', p).then(function (res) {
        b.remove();
        box.appendChild(eventTable(res.events));
        if (res.next) box.appendChild(moreButton(box, params, res.next));
      }, showError);
    } } });
    return b;
  }

  function exportButton() {
    return h('section', { class: 'export' },
      h('button', { type: 'button', id: 'export', 'data-l': 'export', text: t('export'), on: { click: function () {
        var lines = S.shown.map(function (e) { return JSON.stringify(e); }).join('\n') + (S.shown.length ? '\n' : '');
        var a = h('a', { href: URL.createObjectURL(new Blob([lines], { type: 'application/x-ndjson' })), download: 'permd-records.ndjson' });
        document.body.appendChild(a); a.click(); a.remove();
      } } }),
      ' ', L('span', 'export_note', { class: 'muted' }));
  }

  function nowPage() {
    var main = page(t('now_heading'));
    var box = h('div', { id: 'now' });
    main.appendChild(box);
    var seq = -1;
    function draw(snap) {
      if (snap.seq <= seq) return;
      seq = snap.seq;
      box.textContent = '';
      var on = snap.resources.filter(function (r) { return r.on; });
      if (!on.length) box.appendChild(L('p', 'now_none'));
      box.appendChild(h('ul', { class: 'now' }, snap.resources.map(function (r) {
        return h('li', { 'data-resource': r.resource, class: r.on ? 'on' : 'off' },
          h('strong', { text: txt(r.labels) || r.resource }), ' ', L('span', r.on ? 'now_on' : 'now_off', { class: 'pill' }),
          h('ul', null, (r.apps || []).map(function (a) {
            return h('li', null, h('a', { href: '#/app/' + a.uid, text: a['package'] }), ' · ', L('span', 'now_since'), ' ', when(Date.parse(a.since)), ' · ',
              a.active ? [L('span', 'now_active'), ': ', String(a.active)] : [L('span', 'now_held'), ' ', when(Date.parse(a.held_until))],
              a.via && a.via.length ? [' · ', L('span', 'now_via'), ' ', a.via.map(function (v) { return v['package'] || v.uid; }).join(', ')] : null);
          })));
      })));
    }
    return call('indicator.get', {}).then(function (snap) {
      draw(snap);
      if (S.src.subscribe) {
        main.appendChild(L('p', 'now_live', { class: 'muted' }));
        S.stopLive = S.src.subscribe(draw, function (e) { box.appendChild(h('p', { class: 'msg bad', text: e.message })); });
      }
    }, function (e) {
      box.appendChild(h('p', { class: 'msg', text: fmt(t('now_unavailable'), e.message) }));
    });
  }

  function rulesPage() {
    var r = S.rules;
    var main = page(txt(r.title) || t('rules_heading'));
    main.appendChild(h('p', { class: 'meta' }, L('span', 'rules_version'), ' ', h('code', { id: 'rules-version', text: String(r.version) }), ' · ', L('span', 'rules_published'), ' ', h('time', { text: r.published || '' })));
    main.appendChild(h('p', { text: txt(r.intro) }));
    main.appendChild(h('p', { text: txt(r.coalesce_text) }));
    main.appendChild(h('p', { text: txt(r.commit_text) }));
    main.appendChild(L('h2', 'rules_kinds'));
    main.appendChild(h('dl', { class: 'kinds' }, (r.kinds || []).map(function (k) {
      return [h('dt', null, h('strong', { text: kindName(k.code) }), ' ', h('code', { text: k.code }), k.retention_days ? [' · ', fmt(t('rules_retention'), k.retention_days)] : null),
        h('dd', { text: txt(k.trigger) })];
    })));
    main.appendChild(L('h2', 'rules_fields'));
    main.appendChild(h('dl', null, (r.fields || []).map(function (f) { return [h('dt', null, h('code', { text: f.name })), h('dd', { text: txt(f.text) })]; })));
    main.appendChild(L('h2', 'rules_readers'));
    main.appendChild(h('dl', null, (r.readers || []).map(function (f) { return [h('dt', null, h('code', { text: f.role })), h('dd', { text: txt(f.text) })]; })));
    var v = h('section', { id: 'verify', 'aria-labelledby': 'vh' }, L('h2', 'verify_heading', { id: 'vh' }));
    main.appendChild(v);
    return call('ledger.verify', {}).then(function (rep) {
      v.setAttribute('data-ok', String(rep.ok));
      v.appendChild(rep.ok ? L('p', 'verify_ok', { class: 'msg ok' })
        : h('p', { class: 'msg bad', text: fmt(t('verify_bad'), rep.first_bad.seq, rep.first_bad.kind, rep.first_bad.problem) }));
      v.appendChild(h('p', { class: 'muted' }, ['rows', 'sealed', 'open', 'pruned', 'chains'].map(function (k) {
        return [num(rep[k]), ' ', L('span', 'verify_' + k), ' · '];
      })));
    }, function (e) { v.appendChild(h('p', { class: 'msg bad', text: t('error') + ': ' + e.message })); });
  }

  // ---- routing -------------------------------------------------------
  function showError(e) {
    console.error('privacy center:', e && e.message);
    var main = document.getElementById('main');
    main.appendChild(h('p', { class: 'msg bad', role: 'alert' }, L('span', 'error'), ': ' + (e && e.message)));
    document.body.setAttribute('data-state', 'error');
  }

  function route() {
    if (S.stopLive) { S.stopLive(); S.stopLive = null; }
    document.body.setAttribute('data-state', 'loading');
    document.documentElement.lang = S.lang;
    document.title = t('title');
    header();
    var hash = location.hash.replace(/^#/, '') || '/';
    var m = /^\/app\/(\d+)$/.exec(hash);
    var p;
    if (m) p = appPage(Number(m[1]));
    else if (hash === '/now' && S.src.mode !== 'report') p = nowPage();
    else if (hash === '/rules') p = rulesPage();
    else p = overview();
    return p.then(function () {
      S.readyAt = performance.now(); // for the render benchmark
      document.body.setAttribute('data-state', 'ready');
      document.body.setAttribute('data-page', m ? 'app' : hash);
    }, showError);
  }

  function setWindow(w) {
    S.windowAt = performance.now();
    S.win = w;
    S.now = S.src.now();
    S.since = S.now - WINDOWS[w].ms;
    route();
  }
  function setLang(l) {
    S.lang = l;
    try { localStorage.setItem('permd.lang', l); } catch (e) { /* file:// or private mode: keep it for this page only */ }
    route();
  }

  function start() {
    document.body.appendChild(h('main', { id: 'main' }));
    S.src = pickSource();
    var saved = null;
    try { saved = localStorage.getItem('permd.lang'); } catch (e) { /* unavailable */ }
    S.lang = saved && I18N[saved] ? saved : (/^zh\b/i.test(navigator.language || '') ? 'zh-CN' : 'en');
    var rep = document.getElementById('permd-report');
    if (rep) {
      S.report = JSON.parse(rep.textContent);
      S.now = S.report.now_ms;
      S.since = S.report.since_ms;
    } else {
      S.now = S.src.now();
      S.since = S.now - WINDOWS[S.win].ms;
    }
    Promise.all([call('rules.get', {}), call('grants.catalogue', {}), S.report ? Promise.resolve(null) : call('sys.health', {}).catch(function () { return null; })])
      .then(function (r) {
        S.rules = r[0];
        S.catalogue = r[1];
        if (r[2] && r[2].you) S.role = r[2].you.role;
        if (r[2] && r[2].source === 'db') S.dbMode = true;
        window.addEventListener('hashchange', route);
        if (S.report && S.report.start && !location.hash) { location.hash = S.report.start; return null; }
        return route();
      }).catch(showError);
  }

  // For tests and debugging: the state and the labels.
  window.privacyCenter = { state: S, labels: I18N, callKey: callKey, setLang: setLang, setWindow: setWindow };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
