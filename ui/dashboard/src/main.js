// The reference dashboard (考核指标驾驶舱): the official evaluation indicators
// of the caller's jurisdiction, read only through the public GraphQL API
// with the caller's key, so the key's jurisdiction decides what it shows.
// Everything it needs is bundled (ECharts, write-excel-file): the page loads
// nothing from outside the hub.
import * as echarts from 'echarts/core';
import { BarChart, LineChart, MapChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent, VisualMapComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import writeExcelFile from 'write-excel-file/universal';
import './style.css';

echarts.use([MapChart, BarChart, LineChart, GridComponent, LegendComponent, TooltipComponent, VisualMapComponent, CanvasRenderer]);

const LEVELS = ['CITY', 'DISTRICT', 'STREET', 'COMMUNITY', 'GRID'];
const LEVEL_NAMES = { CITY: '市', DISTRICT: '区', STREET: '街道', COMMUNITY: '社区', GRID: '网格' };
const OPEN_STATUSES = ['REPORTED', 'ACCEPTED', 'FILED', 'DISPATCHED', 'IN_PROGRESS', 'RETURNED', 'DEFERRED', 'REOPENED'];
const STATUS_NAMES = {
  REPORTED: '上报', ACCEPTED: '受理', FILED: '立案', DISPATCHED: '派遣', IN_PROGRESS: '处置中', RESOLVED: '处置反馈',
  VERIFYING: '核查', CLOSED: '结案', REJECTED: '作废', RETURNED: '回退', DEFERRED: '延期', SUSPENDED: '挂账', REOPENED: '返工',
};
const METRICS = {
  onTimeClosingRate: { name: '按期结案率', rate: true, good: 'high' },
  closingRate: { name: '结案率', rate: true, good: 'high' },
  reworkRate: { name: '返工率', rate: true, good: 'low' },
  overdueUndisposed: { name: '超期未处置', rate: false, good: 'low' },
  reported: { name: '上报数', rate: false, good: 'none' },
};
const PRESET = 'CITY_MGMT';

const params = new URLSearchParams(location.search);
const state = {
  key: params.get('key') ?? localStorage.getItem('hub.dashboard.key') ?? '',
  root: null, // top of the jurisdiction {code, name, level}
  trail: [], // regions from the root to the one shown
  month: params.get('month'), // YYYY-MM
  metric: params.get('metric') && METRICS[params.get('metric')] ? params.get('metric') : 'onTimeClosingRate',
  data: null,
  loading: false,
};
if (params.has('key')) {
  // Kept for the next visit, not in the address bar.
  localStorage.setItem('hub.dashboard.key', state.key);
  params.delete('key');
  history.replaceState(null, '', `${location.pathname}${params.size ? `?${params}` : ''}`);
}
const refreshSeconds = Math.max(5, Number(params.get('refresh')) || 30);

const $ = (id) => document.getElementById(id);
const charts = {
  map: echarts.init($('map')),
  trend: echarts.init($('trend')),
  categories: echarts.init($('categories')),
};
window.addEventListener('resize', () => Object.values(charts).forEach((c) => c.resize()));
// For tests and for embedding: the state and the chart instances.
window.hubDashboard = { state, charts };

class APIError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

const ERROR_TEXT = {
  UNAUTHENTICATED: '访问密钥无效或已过期，请点击“访问密钥”重新输入。',
  FORBIDDEN: '当前密钥无权查看案件数据。',
  NOT_FOUND: '区划不存在，或不在您的辖区内。',
  QUERY_TOO_COMPLEX: '查询过于复杂，被服务拒绝。',
  SOURCE_UNAVAILABLE: '数据源暂不可用，请稍后再试。',
};

async function gql(query, variables = {}) {
  const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
  if (state.key) headers.Authorization = `Bearer ${state.key}`;
  let res;
  try {
    res = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  } catch {
    throw new APIError('无法连接数据中台，请检查网络。', 'NETWORK');
  }
  let body;
  try {
    body = await res.json();
  } catch {
    throw new APIError(`数据中台返回了 ${res.status}。`, 'HTTP');
  }
  if (body.errors?.length) {
    const code = body.errors[0].extensions?.code;
    throw new APIError(ERROR_TEXT[code] ?? body.errors[0].message, code);
  }
  if (!res.ok) throw new APIError(`数据中台返回了 ${res.status}。`, 'HTTP');
  return body.data;
}

// ---- time ----------------------------------------------------------------

const pad = (n) => String(n).padStart(2, '0');
// An instant of China time as RFC 3339 with its offset.
const cst = (y, m, d = 1) => `${y}-${pad(m)}-${pad(d)}T00:00:00+08:00`;
function monthParts(month) {
  const [y, m] = month.split('-').map(Number);
  return { y, m };
}
function addMonths({ y, m }, n) {
  const k = y * 12 + (m - 1) + n;
  return { y: Math.floor(k / 12), m: (k % 12) + 1 };
}
function chinaMonth(iso) {
  const t = new Date(new Date(iso).getTime() + 8 * 3600e3);
  return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}`;
}
function chinaTime(iso) {
  const t = new Date(new Date(iso).getTime() + 8 * 3600e3);
  return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())} ${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}`;
}
function overdueText(ms) {
  const h = Math.floor(ms / 3600e3);
  return h >= 24 ? `${Math.floor(h / 24)} 天 ${h % 24} 小时` : `${h} 小时`;
}

// ---- formatting ----------------------------------------------------------

const num = (v) => (v == null ? '—' : Number(v).toLocaleString('zh-CN'));
const pct = (v) => (v == null ? '—' : `${(v * 100).toFixed(2)}%`);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// ---- queries -------------------------------------------------------------

const ROOT_QUERY = `query Root {
  city: regions(level: CITY, first: 2) { edges { node { code name level } } }
  district: regions(level: DISTRICT, first: 2) { edges { node { code name level } } }
  street: regions(level: STREET, first: 2) { edges { node { code name level } } }
  community: regions(level: COMMUNITY, first: 2) { edges { node { code name level } } }
  grid: regions(level: GRID, first: 2) { edges { node { code name level } } }
  latest: cases(first: 1, orderBy: {field: REPORTED_AT, direction: DESC}) { edges { node { reportedAt } } }
}`;

const TRAIL_QUERY = `query Trail($code: String!) { region(code: $code) { code name level ancestors { code name level } } }`;

const FIELDS = `reported filed accurateFiled dueForClosing closed closedOnTime closedLate unclosed disposed
  reworked deferred suspended overdueUndisposed closingRate onTimeClosingRate disposalRate onTimeDisposalRate
  reworkRate deferralRate avgWorkHoursToClose score(preset: "${PRESET}")`;

const PAGE_QUERY = `query Page($code: String!, $at: Time!, $trendFrom: Time!, $to: Time!) {
  region(code: $code) {
    code name level
    indicators(period: MONTH, at: $at) {
      period { label from to } previousPeriod { label } asOf
      current { ${FIELDS} }
      previous { ${FIELDS} }
      categories: breakdown(by: [CATEGORY]) { key { value label } indicators { reported closed closingRate } }
      departments: breakdown(by: [ASSIGNEE_DEPT], rankBy: "${PRESET}") {
        key { value label } rank
        indicators { reported dueForClosing closed onTimeClosingRate closingRate reworkRate score(preset: "${PRESET}") }
      }
    }
  }
  trend: caseIndicators(filter: {regionCode: $code, reportedFrom: $trendFrom, reportedTo: $to}, groupBy: [MONTH]) {
    key { value } indicators { reported closed closingRate onTimeClosingRate }
  }
  overdue: cases(filter: {regionCode: $code, overdue: true, status: [${OPEN_STATUSES.join(', ')}]},
      orderBy: {field: DUE_AT, direction: ASC}, first: 20) {
    totalCount
    edges { node { id sourceId title status dueAt reportedAt assignee grid { name } category { name } } }
  }
  scorePresets { name description }
}`;

const MAP_QUERY = `query Map($code: String!, $at: Time!) { regionMap(parent: $code, period: MONTH, at: $at) }`;

// ---- loading -------------------------------------------------------------

function setStatus(text) {
  $('status').textContent = text;
}

function showError(err) {
  document.body.dataset.state = 'error';
  const box = $('error');
  box.textContent = err instanceof APIError ? err.message : `页面出错：${err.message}`;
  box.hidden = false;
  setStatus('');
}

async function findRoot() {
  const d = await gql(ROOT_QUERY);
  for (const level of ['city', 'district', 'street', 'community', 'grid']) {
    const edges = d[level].edges;
    if (edges.length === 1) return { root: edges[0].node, latest: d.latest.edges[0]?.node.reportedAt };
    if (edges.length > 1) break;
  }
  throw new APIError('当前密钥的辖区内没有区划数据。', 'EMPTY');
}

async function trailTo(code) {
  const { region } = await gql(TRAIL_QUERY, { code });
  if (!region) throw new APIError(ERROR_TEXT.NOT_FOUND, 'NOT_FOUND');
  const depth = LEVELS.indexOf(state.root.level);
  const trail = region.ancestors.filter((a) => LEVELS.indexOf(a.level) >= depth);
  if (LEVELS.indexOf(region.level) < depth) throw new APIError(ERROR_TEXT.NOT_FOUND, 'NOT_FOUND');
  return [...trail, { code: region.code, name: region.name, level: region.level }];
}

async function start() {
  document.body.dataset.state = 'loading';
  $('error').hidden = true;
  setStatus('加载中…');
  try {
    const { root, latest } = await findRoot();
    state.root = root;
    state.month ??= latest ? chinaMonth(latest) : chinaMonth(new Date().toISOString());
    $('month').value = state.month;
    $('metric').value = state.metric;
    const wanted = params.get('region');
    state.trail = wanted && wanted !== root.code ? await trailTo(wanted) : [root];
    await load();
  } catch (err) {
    showError(err);
  }
}

async function load({ quiet = false } = {}) {
  if (state.loading) return;
  state.loading = true;
  if (!quiet) {
    document.body.dataset.state = 'loading';
    setStatus('加载中…');
  }
  const region = state.trail[state.trail.length - 1];
  const { y, m } = monthParts(state.month);
  const next = addMonths({ y, m }, 1);
  const first = addMonths({ y, m }, -11);
  const vars = { code: region.code, at: cst(y, m, 15), trendFrom: cst(first.y, first.m), to: cst(next.y, next.m) };
  try {
    const leaf = region.level === 'GRID';
    const [page, map] = await Promise.all([
      gql(PAGE_QUERY, vars),
      leaf ? Promise.resolve(null) : gql(MAP_QUERY, { code: region.code, at: vars.at }),
    ]);
    state.data = { region, page, map: map?.regionMap ?? null, month: state.month };
    $('error').hidden = true;
    render();
    document.body.dataset.state = 'ready';
    setStatus(`更新于 ${new Date().toLocaleTimeString('zh-CN', { hour12: false })}`);
  } catch (err) {
    showError(err);
  } finally {
    state.loading = false;
  }
}

function drill(code) {
  const d = state.data;
  const f = d?.map?.features.find((x) => x.properties.code === code);
  if (!f || state.loading) return;
  state.trail = [...state.trail, { code, name: f.properties.name, level: f.properties.level }];
  syncURL();
  load();
}

function syncURL() {
  const p = new URLSearchParams(location.search);
  const region = state.trail[state.trail.length - 1];
  if (region.code === state.root.code) p.delete('region');
  else p.set('region', region.code);
  p.set('month', state.month);
  history.replaceState(null, '', `${location.pathname}?${p}`);
}

// ---- rendering -----------------------------------------------------------

function render() {
  const { page, region } = state.data;
  renderCrumbs();
  const ind = page.region.indicators;
  renderKPIs(ind.current, ind.previous, ind.period.label, ind.previousPeriod.label);
  renderMap(region);
  renderOverdue(page.overdue);
  renderTrend(page.trend);
  renderCategories(ind.categories);
  renderDepartments(ind.departments, page.scorePresets);
}

function renderCrumbs() {
  const nav = $('crumbs');
  nav.innerHTML = state.trail
    .map((r, i) => (i === state.trail.length - 1
      ? `<span class="here">${esc(r.name)}<small>${LEVEL_NAMES[r.level]}</small></span>`
      : `<a href="#" data-depth="${i}">${esc(r.name)}</a>`))
    .join('<span class="sep">›</span>');
}

const KPIS = [
  { key: 'reported', name: '上报数', rate: false },
  { key: 'filed', name: '立案数', rate: false },
  { key: 'closed', name: '结案数', rate: false },
  { key: 'closingRate', name: '结案率', rate: true, good: 'high' },
  { key: 'onTimeClosingRate', name: '按期结案率', rate: true, good: 'high' },
  { key: 'reworkRate', name: '返工率', rate: true, good: 'low' },
  { key: 'overdueUndisposed', name: '超期未处置', rate: false, good: 'low', light: true },
];

function change(k, cur, prev) {
  const a = cur[k.key];
  const b = prev[k.key];
  if (a == null || b == null) return '<span class="delta">环比 —</span>';
  if (k.rate) {
    const d = (a - b) * 100;
    const cls = k.good && d !== 0 ? ((d > 0) === (k.good === 'high') ? 'up' : 'down') : '';
    return `<span class="delta ${cls}">环比 ${d >= 0 ? '+' : ''}${d.toFixed(2)} 个百分点</span>`;
  }
  const d = a - b;
  const rel = b ? ` (${d >= 0 ? '+' : ''}${((d / b) * 100).toFixed(1)}%)` : '';
  const cls = k.good && d !== 0 ? ((d > 0) === (k.good === 'high') ? 'up' : 'down') : '';
  return `<span class="delta ${cls}">环比 ${d >= 0 ? '+' : ''}${num(d)}${rel}</span>`;
}

function renderKPIs(cur, prev, label, prevLabel) {
  $('kpis').innerHTML = KPIS.map((k) => {
    const v = cur[k.key];
    const light = k.light ? `<span class="light ${v > 0 ? 'red' : 'green'}" title="${v > 0 ? '有超期未处置案件' : '无超期未处置案件'}"></span>` : '';
    return `<div class="kpi${k.light && v > 0 ? ' alarm' : ''}" data-kpi="${k.key}" data-value="${v ?? ''}">
      <div class="kpi-name">${light}${k.name}</div>
      <div class="kpi-value">${k.rate ? pct(v) : num(v)}</div>
      ${change(k, cur, prev)}
    </div>`;
  }).join('') + `<div class="kpi meta"><div class="kpi-name">统计期</div><div class="kpi-value small">${esc(label)}</div>
    <span class="delta">对比 ${esc(prevLabel)} · 平均处置 ${cur.avgWorkHoursToClose == null ? '—' : `${cur.avgWorkHoursToClose.toFixed(1)} 工作小时`}</span></div>`;
}

function renderMap(region) {
  const { map } = state.data;
  const metric = METRICS[state.metric];
  $('map-title').textContent = `下级区划 · ${metric.name}`;
  const empty = !map || map.features.every((f) => !f.geometry);
  $('map-empty').hidden = !empty;
  $('map-empty').textContent = region.level === 'GRID' ? '网格是最小管理单元，没有下级区划' : '本区划没有下级边界数据';
  $('map').style.visibility = empty ? 'hidden' : 'visible';
  if (empty) {
    charts.map.clear();
    return;
  }
  const name = `hub-${region.code}`;
  echarts.registerMap(name, { type: 'FeatureCollection', features: map.features.filter((f) => f.geometry) });
  const data = map.features.map((f) => {
    const v = f.properties.indicators?.[state.metric];
    return { name: f.properties.code, value: v == null ? NaN : metric.rate ? +(v * 100).toFixed(2) : v, label: f.properties.name, ind: f.properties.indicators };
  });
  const values = data.map((d) => d.value).filter((v) => !Number.isNaN(v));
  const max = metric.rate ? 100 : Math.max(1, ...values);
  const colors = metric.good === 'low' ? ['#2e9d5b', '#f2c94c', '#d64545'] : ['#d64545', '#f2c94c', '#2e9d5b'];
  charts.map.setOption({
    tooltip: {
      trigger: 'item',
      formatter: (p) => {
        const x = p.data?.ind;
        if (!x) return esc(p.data?.label ?? p.name);
        return `<b>${esc(p.data.label)}</b><br>上报 ${num(x.reported)} · 结案 ${num(x.closed)}<br>结案率 ${pct(x.closingRate)} · 按期结案率 ${pct(x.onTimeClosingRate)}<br>返工率 ${pct(x.reworkRate)} · 超期未处置 ${num(x.overdueUndisposed)}`;
      },
    },
    visualMap: { min: metric.rate ? Math.min(...values, 100) : 0, max, calculable: true, left: 8, bottom: 8, text: [metric.rate ? '%' : '', ''], inRange: { color: colors } },
    series: [{
      type: 'map', map: name, nameProperty: 'code', roam: true, selectedMode: false,
      label: { show: map.features.length <= 40, formatter: (p) => p.data?.label ?? '', fontSize: 12, color: '#fff', textBorderColor: '#0e1420', textBorderWidth: 2 },
      emphasis: { label: { show: true } },
      data,
    }],
  }, true);
}

function renderOverdue(overdue) {
  const now = Date.now();
  const rows = overdue.edges.map(({ node: c }) => {
    const late = now - new Date(c.dueAt).getTime();
    const timeline = `/?query=${encodeURIComponent(`{\n  node(id: "${c.id}") {\n    ... on Case { sourceId title status dueAt assignee timeline { at status tier actor note } }\n  }\n}`)}`;
    return `<tr data-overdue-ms="${late}">
      <td><a href="${timeline}" target="_blank" rel="noopener" title="查看办理过程">${esc(c.sourceId)}</a></td>
      <td>${esc(c.title)}</td><td>${esc(c.grid?.name ?? '—')}</td><td>${esc(c.category?.name ?? '—')}</td>
      <td>${esc(c.assignee || '—')}</td><td>${esc(STATUS_NAMES[c.status] ?? c.status)}</td>
      <td>${chinaTime(c.dueAt)}</td><td class="late">${overdueText(late)}</td></tr>`;
  });
  $('overdue').innerHTML = rows.length
    ? `<p class="note">共 ${num(overdue.totalCount)} 件，显示超期最久的 ${rows.length} 件</p>
      <div class="scroll"><table><thead><tr><th>案件编号</th><th>标题</th><th>网格</th><th>类别</th><th>承办部门</th><th>状态</th><th>处置时限</th><th>已超期</th></tr></thead>
      <tbody>${rows.join('')}</tbody></table></div>`
    : '<p class="empty">没有超期未处置的案件</p>';
}

function renderTrend(trend) {
  const months = trend.map((b) => b.key[0].value);
  const empty = !trend.length;
  charts.trend.setOption({
    title: empty ? { text: '近 12 个月没有案件', left: 'center', top: 'middle', textStyle: { color: '#8a94a6', fontSize: 14 } } : undefined,
    tooltip: { trigger: 'axis' },
    legend: { top: 0, textStyle: { color: '#c9d1e0' } },
    grid: { left: 48, right: 48, top: 32, bottom: 28 },
    xAxis: { type: 'category', data: months, axisLabel: { color: '#c9d1e0' } },
    yAxis: [
      { type: 'value', name: '件', axisLabel: { color: '#c9d1e0' }, splitLine: { lineStyle: { color: '#2a3346' } } },
      { type: 'value', name: '%', min: 0, max: 100, axisLabel: { color: '#c9d1e0' }, splitLine: { show: false } },
    ],
    series: [
      { name: '上报数', type: 'bar', data: trend.map((b) => b.indicators.reported), itemStyle: { color: '#4c7bd9' } },
      { name: '结案数', type: 'bar', data: trend.map((b) => b.indicators.closed), itemStyle: { color: '#36a3a3' } },
      { name: '结案率', type: 'line', yAxisIndex: 1, data: trend.map((b) => rate(b.indicators.closingRate)), itemStyle: { color: '#f2c94c' } },
      { name: '按期结案率', type: 'line', yAxisIndex: 1, data: trend.map((b) => rate(b.indicators.onTimeClosingRate)), itemStyle: { color: '#e8795a' } },
    ],
  }, true);
}

const rate = (v) => (v == null ? null : +(v * 100).toFixed(2));

function renderCategories(categories) {
  const top = [...categories].sort((a, b) => b.indicators.reported - a.indicators.reported).slice(0, 10).reverse();
  charts.categories.setOption({
    title: top.length ? undefined : { text: '本期没有案件', left: 'center', top: 'middle', textStyle: { color: '#8a94a6', fontSize: 14 } },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    grid: { left: 110, right: 24, top: 8, bottom: 24 },
    xAxis: { type: 'value', axisLabel: { color: '#c9d1e0' }, splitLine: { lineStyle: { color: '#2a3346' } } },
    yAxis: { type: 'category', data: top.map((b) => b.key[0].label ?? b.key[0].value ?? '未分类'), axisLabel: { color: '#c9d1e0' } },
    series: [
      { name: '上报数', type: 'bar', data: top.map((b) => b.indicators.reported), itemStyle: { color: '#4c7bd9' } },
      { name: '结案数', type: 'bar', data: top.map((b) => b.indicators.closed), itemStyle: { color: '#36a3a3' } },
    ],
  }, true);
}

function renderDepartments(depts, presets) {
  const preset = presets.find((p) => p.name === PRESET);
  $('preset').textContent = preset ? `综合指标值 = ${preset.description.split('：')[1] ?? preset.description}` : '';
  $('depts').innerHTML = depts.length
    ? `<div class="scroll"><table><thead><tr><th>排名</th><th>承办部门</th><th>应结案</th><th>结案</th><th>结案率</th><th>按期结案率</th><th>返工率</th><th>综合指标值</th></tr></thead><tbody>
      ${depts.map((b) => `<tr><td>${b.rank ?? '—'}</td><td>${esc(b.key[0].label ?? '未指派')}</td><td>${num(b.indicators.dueForClosing)}</td>
        <td>${num(b.indicators.closed)}</td><td>${pct(b.indicators.closingRate)}</td><td>${pct(b.indicators.onTimeClosingRate)}</td>
        <td>${pct(b.indicators.reworkRate)}</td><td class="score">${b.indicators.score == null ? '—' : b.indicators.score.toFixed(2)}</td></tr>`).join('')}
      </tbody></table></div>`
    : '<p class="empty">本期没有承办部门的数据</p>';
}

// ---- export --------------------------------------------------------------

const head = (s) => ({ value: s, fontWeight: 'bold' });

async function exportXlsx() {
  const d = state.data;
  if (!d) return;
  const { page, region, month } = d;
  const ind = page.region.indicators;
  const kpiRows = [[head('指标'), head(ind.period.label), head(ind.previousPeriod.label)]];
  const ALL = [['reported', '上报数'], ['filed', '立案数'], ['accurateFiled', '准确立案数'], ['dueForClosing', '应结案数'],
    ['closed', '结案数'], ['closedOnTime', '按期结案数'], ['closedLate', '超期结案数'], ['unclosed', '未结案数'],
    ['disposed', '处置数'], ['reworked', '返工数'], ['deferred', '延期数'], ['suspended', '挂账数'],
    ['overdueUndisposed', '超期未处置数'], ['closingRate', '结案率'], ['onTimeClosingRate', '按期结案率'],
    ['disposalRate', '处置率'], ['onTimeDisposalRate', '按期处置率'], ['reworkRate', '返工率'], ['deferralRate', '延期率'],
    ['avgWorkHoursToClose', '平均处置时长（工作小时）'], ['score', '综合指标值']];
  for (const [k, name] of ALL) {
    const isRate = k.endsWith('Rate');
    const cell = (v) => (v == null ? { value: null } : isRate ? { value: v, format: '0.00%' } : { value: v });
    kpiRows.push([{ value: name }, cell(ind.current[k]), cell(ind.previous[k])]);
  }
  const now = Date.now();
  const overdueRows = [[head('案件编号'), head('标题'), head('网格'), head('类别'), head('承办部门'), head('状态'), head('处置时限'), head('超期小时')]];
  for (const { node: c } of page.overdue.edges) {
    overdueRows.push([{ value: c.sourceId }, { value: c.title }, { value: c.grid?.name ?? '' }, { value: c.category?.name ?? '' },
      { value: c.assignee ?? '' }, { value: STATUS_NAMES[c.status] ?? c.status }, { value: chinaTime(c.dueAt) },
      { value: Math.floor((now - new Date(c.dueAt).getTime()) / 3600e3) }]);
  }
  const catRows = [[head('类别'), head('上报数'), head('结案数'), head('结案率')]];
  for (const b of ind.categories) {
    catRows.push([{ value: b.key[0].label ?? b.key[0].value ?? '未分类' }, { value: b.indicators.reported }, { value: b.indicators.closed },
      b.indicators.closingRate == null ? { value: null } : { value: b.indicators.closingRate, format: '0.00%' }]);
  }
  const deptRows = [[head('排名'), head('承办部门'), head('应结案数'), head('结案数'), head('结案率'), head('按期结案率'), head('返工率'), head('综合指标值')]];
  const r = (v) => (v == null ? { value: null } : { value: v, format: '0.00%' });
  for (const b of ind.departments) {
    deptRows.push([{ value: b.rank ?? null }, { value: b.key[0].label ?? '未指派' }, { value: b.indicators.dueForClosing }, { value: b.indicators.closed },
      r(b.indicators.closingRate), r(b.indicators.onTimeClosingRate), r(b.indicators.reworkRate), { value: b.indicators.score }]);
  }
  const trendRows = [[head('月份'), head('上报数'), head('结案数'), head('结案率'), head('按期结案率')]];
  for (const b of page.trend) {
    trendRows.push([{ value: b.key[0].value }, { value: b.indicators.reported }, { value: b.indicators.closed }, r(b.indicators.closingRate), r(b.indicators.onTimeClosingRate)]);
  }
  const blob = await writeExcelFile([
    { data: kpiRows, sheet: '核心指标', columns: [{ width: 26 }, { width: 14 }, { width: 14 }] },
    { data: overdueRows, sheet: '超期未处置', columns: [{ width: 22 }, { width: 30 }, { width: 14 }, { width: 14 }, { width: 16 }, { width: 10 }, { width: 18 }, { width: 10 }] },
    { data: catRows, sheet: '问题类别' },
    { data: deptRows, sheet: '部门排名', columns: [{ width: 6 }, { width: 18 }] },
    { data: trendRows, sheet: '月度趋势' },
  ]).toBlob();
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `考核指标_${region.name}_${month}.xlsx`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

// ---- events --------------------------------------------------------------

charts.map.on('click', (p) => {
  const level = state.data?.map?.features.find((f) => f.properties.code === p.name)?.properties.level;
  if (level) drill(p.name);
});
$('crumbs').addEventListener('click', (e) => {
  const a = e.target.closest('a[data-depth]');
  if (!a) return;
  e.preventDefault();
  state.trail = state.trail.slice(0, Number(a.dataset.depth) + 1);
  syncURL();
  load();
});
$('month').addEventListener('change', (e) => {
  if (!e.target.value) return;
  state.month = e.target.value;
  syncURL();
  load();
});
$('metric').addEventListener('change', (e) => {
  state.metric = e.target.value;
  if (state.data) renderMap(state.data.region);
});
$('export').addEventListener('click', () => exportXlsx().catch(showError));
$('key').addEventListener('click', () => {
  const k = prompt('请输入访问密钥（API key 或 JWT）；留空则以匿名身份访问。', state.key);
  if (k === null) return;
  state.key = k.trim();
  if (state.key) localStorage.setItem('hub.dashboard.key', state.key);
  else localStorage.removeItem('hub.dashboard.key');
  start();
});
// Live refresh: poll while the page is visible.
setInterval(() => {
  if (!document.hidden && state.data && document.body.dataset.state === 'ready') load({ quiet: true });
}, refreshSeconds * 1000);

start();
