/*
 * Hilo agent desk: the reports page (supervisors and admins).
 *
 * An ES module that desk.js imports only when a supervisor opens the page, so agents and
 * the queue's first paint never download it. It draws GET /api/reports/overview
 * (docs/desk-api.md, definitions in docs/analytics.md) as headline numbers, SVG charts
 * (charts.js) and a table per channel and per team, with date, channel and team filters and
 * a CSV download that carries the same filters.
 *
 * The root element's data-state says where the page is: "loading", "ready" once the data is
 * drawn (the benchmark's time to interactive waits for it), "error" with a visible message.
 * data-query is the query of the figures on screen, so a test can wait for a filter's
 * figures rather than for whatever was there before.
 */

import {
  ApiError, api, channelName, el, fmtDuration, currentLang, setUrl, show, text, translator,
} from './common.js';
import { barChart, lineChart } from './charts.js';

const TEXTS = {
  es: {
    'title': 'Informes',
    'from': 'Desde',
    'to': 'Hasta',
    'channel': 'Canal',
    'team': 'Equipo',
    'all': 'Todos',
    'csv': 'Descargar CSV',
    'csvTitle': 'Las cifras por día del periodo y los filtros elegidos, en CSV',
    'timezone': 'Días en la zona horaria del negocio ({tz}).',
    'provisional': '{n} de las resueltas por el bot son recientes: dejan de contar si el cliente vuelve a escribir antes de 72 h.',
    'loading': 'Cargando informes…',
    'badRange': 'Elige un periodo válido: «desde» no puede ser posterior a «hasta» y el periodo no puede pasar de 366 días.',
    'forbidden': 'Solo supervisión y administración pueden ver los informes.',
    'unavailable': 'Los informes no están disponibles en este servidor.',
    'failed': 'No se pudieron cargar los informes: {error}',
    'retry': 'Reintentar',
    'headline': 'Cifras del periodo',
    'kpi.conversations': 'Conversaciones',
    'kpi.containment': 'Contención',
    'kpi.containmentSub': '{n} resueltas por el bot',
    'kpi.handoffRate': 'Traspasos',
    'kpi.handoffSub': '{n} pasaron a una persona',
    'kpi.firstP50': '1.ª respuesta p50',
    'kpi.firstP90': '1.ª respuesta p90',
    'kpi.firstSub': '{n} casos con respuesta',
    'kpi.sla': 'SLA cumplido',
    'kpi.slaSub': '{met} a tiempo, {missed} tarde, {pending} pendientes',
    'kpi.csat': 'Satisfacción (CSAT)',
    'kpi.csatSub': '{n} respuestas',
    'none': '—',
    'empty': 'Sin datos en este periodo.',
    'axis.day': 'Día',
    'axis.hour': 'Hora del día',
    'axis.weekday': 'Día de la semana',
    'axis.agent': 'Agente',
    'axis.reason': 'Motivo',
    'axis.count': 'Conversaciones',
    'axis.handoffs': 'Traspasos',
    'axis.rate': 'Porcentaje',
    'axis.csat': 'CSAT medio (1–5)',
    'axis.minutes': 'Minutos',
    'axis.hours': 'Horas',
    'axis.days': 'Días',
    'unit.minutes': 'min',
    'unit.hours': 'h',
    'unit.days': 'd',
    'series.conversations': 'Conversaciones',
    'series.handoffs': 'Traspasos',
    'series.containment': 'Contención',
    'series.p50': 'p50',
    'series.p90': 'p90',
    'series.sla': 'SLA cumplido',
    'series.csat': 'CSAT medio',
    'chart.volume': 'Volumen por día',
    'chart.hours': 'Conversaciones por hora del día',
    'chart.weekdays': 'Conversaciones por día de la semana',
    'chart.containment': 'Contención por día',
    'chart.waits': 'Primera respuesta por día (p50 y p90)',
    'chart.sla': 'SLA cumplido por día',
    'chart.csat': 'CSAT por agente',
    'chart.reasons': 'Traspasos por motivo',
    'sum.volume': '{conversations} conversaciones y {handoffs} traspasos del {from} al {to}; el día con más conversaciones fue el {day} ({max}).',
    'sum.hours': 'La hora con más conversaciones es las {hour}:00 ({n}).',
    'sum.weekdays': 'El día de la semana con más conversaciones es {day} ({n}).',
    'sum.rate': '{what} del periodo: {rate}; por día entre {min} y {max}.',
    'sum.waits': 'Primera respuesta del periodo: p50 {p50}, p90 {p90}.',
    'sum.csat': '{agents} agentes con respuestas; media general {mean} de {n} respuestas.',
    'sum.reasons': '{list}.',
    'point': '{label} · {series}: {value}',
    'pointCsat': '{label} · {series}: {value} ({n} respuestas)',
    'table.channels': 'Por canal',
    'table.teams': 'Por equipo',
    'col.channel': 'Canal',
    'col.team': 'Equipo',
    'col.conversations': 'Conversaciones',
    'col.containment': 'Contención',
    'col.handoffs': 'Traspasos',
    'col.handoffRate': 'Tasa de traspaso',
    'col.firstP50': '1.ª resp. p50',
    'col.firstP90': '1.ª resp. p90',
    'col.resolutionP50': 'Resolución p50',
    'col.sla': 'SLA cumplido',
    'col.csat': 'CSAT (n)',
    'noTeam': 'sin equipo',
    'trends.title': 'Tendencias: últimos 7 días contra las 4 semanas anteriores',
    'trends.rule': 'Sube de forma inusual lo que tiene al menos {min} mensajes y {rise}× el promedio semanal de las 4 semanas anteriores.',
    'trends.none': 'Nada sube de forma inusual esta semana.',
    'trends.col.label': 'Intención o tema',
    'trends.col.week': 'Últimos 7 días',
    'trends.col.baseline': 'Promedio semanal antes',
    'trends.col.ratio': 'Veces',
    'trends.col.mostly': 'Sobre todo en',
    'named.title': 'Lo más nombrado en quejas y conversaciones fallidas (5 semanas)',
    'named.complaints': 'En quejas',
    'named.failed': 'En conversaciones fallidas',
    'named.cities': 'Ciudades',
    'named.products': 'Productos',
    'risk.title': 'Clientes en riesgo (últimos 30 días)',
    'risk.none': 'Ningún cliente llega a 4 puntos.',
    'risk.col.customer': 'Cliente',
    'risk.col.score': 'Puntos',
    'risk.col.reasons': 'Por qué',
    'risk.noCase': 'sin caso',
    'risk.reason': '{text} ×{n} (+{points})',
    'weekdays': 'lun,mar,mié,jue,vie,sáb,dom',
    'weekdaysLong': 'lunes,martes,miércoles,jueves,viernes,sábado,domingo',
  },
  en: {
    'title': 'Reports',
    'from': 'From',
    'to': 'To',
    'channel': 'Channel',
    'team': 'Team',
    'all': 'All',
    'csv': 'Download CSV',
    'csvTitle': 'The period’s figures per day, with the chosen filters, as CSV',
    'timezone': 'Days in the business time zone ({tz}).',
    'provisional': '{n} of the contained conversations are recent: they stop counting if the customer writes again within 72 h.',
    'loading': 'Loading reports…',
    'badRange': 'Choose a valid period: “from” cannot be after “to” and the period cannot exceed 366 days.',
    'forbidden': 'Only supervisors and admins can see reports.',
    'unavailable': 'Reports are not available on this server.',
    'failed': 'The reports could not be loaded: {error}',
    'retry': 'Retry',
    'headline': 'The period’s figures',
    'kpi.conversations': 'Conversations',
    'kpi.containment': 'Containment',
    'kpi.containmentSub': '{n} settled by the bot',
    'kpi.handoffRate': 'Handoffs',
    'kpi.handoffSub': '{n} went to a person',
    'kpi.firstP50': 'First response p50',
    'kpi.firstP90': 'First response p90',
    'kpi.firstSub': '{n} cases answered',
    'kpi.sla': 'SLA met',
    'kpi.slaSub': '{met} on time, {missed} late, {pending} pending',
    'kpi.csat': 'Satisfaction (CSAT)',
    'kpi.csatSub': '{n} answers',
    'empty': 'No data in this period.',
    'axis.day': 'Day',
    'axis.hour': 'Hour of day',
    'axis.weekday': 'Weekday',
    'axis.agent': 'Agent',
    'axis.reason': 'Reason',
    'axis.count': 'Conversations',
    'axis.handoffs': 'Handoffs',
    'axis.rate': 'Percent',
    'axis.csat': 'Mean CSAT (1–5)',
    'axis.minutes': 'Minutes',
    'axis.hours': 'Hours',
    'axis.days': 'Days',
    'series.conversations': 'Conversations',
    'series.handoffs': 'Handoffs',
    'series.containment': 'Containment',
    'series.sla': 'SLA met',
    'series.csat': 'Mean CSAT',
    'chart.volume': 'Volume per day',
    'chart.hours': 'Conversations by hour of day',
    'chart.weekdays': 'Conversations by weekday',
    'chart.containment': 'Containment per day',
    'chart.waits': 'First response per day (p50 and p90)',
    'chart.sla': 'SLA met per day',
    'chart.csat': 'CSAT by agent',
    'chart.reasons': 'Handoffs by reason',
    'sum.volume': '{conversations} conversations and {handoffs} handoffs from {from} to {to}; the busiest day was {day} ({max}).',
    'sum.hours': 'The busiest hour is {hour}:00 ({n}).',
    'sum.weekdays': 'The busiest weekday is {day} ({n}).',
    'sum.rate': '{what} over the period: {rate}; per day between {min} and {max}.',
    'sum.waits': 'First response over the period: p50 {p50}, p90 {p90}.',
    'sum.csat': '{agents} agents with answers; overall mean {mean} from {n} answers.',
    'pointCsat': '{label} · {series}: {value} ({n} answers)',
    'table.channels': 'By channel',
    'table.teams': 'By team',
    'col.channel': 'Channel',
    'col.team': 'Team',
    'col.conversations': 'Conversations',
    'col.containment': 'Containment',
    'col.handoffs': 'Handoffs',
    'col.handoffRate': 'Handoff rate',
    'col.firstP50': '1st resp. p50',
    'col.firstP90': '1st resp. p90',
    'col.resolutionP50': 'Resolution p50',
    'col.sla': 'SLA met',
    'col.csat': 'CSAT (n)',
    'noTeam': 'no team',
    'trends.title': 'Trends: the last 7 days against the 4 weeks before',
    'trends.rule': 'A label rises unusually with at least {min} messages and {rise}× the weekly average of the 4 weeks before.',
    'trends.none': 'Nothing rises unusually this week.',
    'trends.col.label': 'Intent or topic',
    'trends.col.week': 'Last 7 days',
    'trends.col.baseline': 'Weekly average before',
    'trends.col.ratio': 'Times',
    'trends.col.mostly': 'Mostly in',
    'named.title': 'Most named in complaints and failed conversations (5 weeks)',
    'named.complaints': 'In complaints',
    'named.failed': 'In failed conversations',
    'named.cities': 'Cities',
    'named.products': 'Products',
    'risk.title': 'Customers at risk (last 30 days)',
    'risk.none': 'No customer reaches 4 points.',
    'risk.col.customer': 'Customer',
    'risk.col.score': 'Points',
    'risk.col.reasons': 'Why',
    'risk.noCase': 'no case',
    'risk.reason': '{text} ×{n} (+{points})',
    'weekdays': 'Mon,Tue,Wed,Thu,Fri,Sat,Sun',
    'weekdaysLong': 'Monday,Tuesday,Wednesday,Thursday,Friday,Saturday,Sunday',
  },
};

const t = translator(TEXTS);

const DEFAULT_DAYS = 28; // four whole weeks: every weekday counts the same
const MAX_DAYS = 366; // the API refuses longer periods
const STYLESHEET = '/static/reports.css';
const DAY = /^\d{4}-\d{2}-\d{2}$/;

const view = {
  root: null,
  data: null, // the last answer drawn
  trends: null, // GET /api/reports/trends, drawn with it
  risk: null, // GET /api/reports/at-risk, drawn with it
  seq: 0, // answers to an older request are dropped
  filters: null, // {from, to, channel, team}
  timezone: null, // the business time zone, from the first answer
  styles: null, // the stylesheet's load, once
};

// ---------------------------------------------------------------------------------------
// What desk.js calls
// ---------------------------------------------------------------------------------------

/** Show the page in `root` and load the figures (the last filters, else the last 28 days). */
export async function open(root) {
  view.root = root;
  if (!view.filters) view.filters = { ...defaultPeriod(), channel: '', team: '' };
  root.dataset.state = 'loading';
  await loadStyles();
  build();
  await load();
}

/** The page was left: an answer still in flight is not drawn. */
export function close() {
  view.seq += 1;
}

/** The desk's language changed: draw the same figures again in it. */
export function relabel() {
  if (!view.root || view.root.hidden) return;
  build();
  if (view.data) draw(view.data);
}

/** The session ended: forget the figures and the filters. */
export function reset() {
  view.seq += 1;
  view.data = null;
  view.trends = null;
  view.risk = null;
  view.filters = null;
  if (view.root) {
    view.root.replaceChildren();
    view.root.dataset.state = 'idle';
    delete view.root.dataset.query;
  }
}

// ---------------------------------------------------------------------------------------
// Dates (days are 'YYYY-MM-DD' in the business time zone, as the API takes them)
// ---------------------------------------------------------------------------------------

/** Today in the business time zone once it is known, else in the browser's. */
function today() {
  if (view.timezone) {
    try {
      // en-CA writes dates as YYYY-MM-DD.
      return new Intl.DateTimeFormat('en-CA', {
        timeZone: view.timezone, year: 'numeric', month: '2-digit', day: '2-digit',
      }).format(new Date());
    } catch {
      // An unknown zone name: fall through to the browser's day.
    }
  }
  const now = new Date();
  return [now.getFullYear(), now.getMonth() + 1, now.getDate()]
    .map((part, index) => String(part).padStart(index ? 2 : 4, '0')).join('-');
}

/** Day arithmetic in UTC, where no day is 23 or 25 hours long. */
function addDays(day, days) {
  const [year, month, date] = day.split('-').map(Number);
  return new Date(Date.UTC(year, month - 1, date + days)).toISOString().slice(0, 10);
}

function daysBetween(from, to) {
  const ms = (day) => Date.parse(day + 'T00:00:00Z');
  return Math.round((ms(to) - ms(from)) / 86400000);
}

function defaultPeriod() {
  const to = today();
  return { from: addDays(to, -(DEFAULT_DAYS - 1)), to };
}

function validPeriod({ from, to }) {
  if (!DAY.test(from) || !DAY.test(to)) return false;
  const span = daysBetween(from, to);
  return Number.isFinite(span) && span >= 0 && span < MAX_DAYS;
}

// ---------------------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------------------

function locale() {
  return currentLang() === 'en' ? 'en-US' : 'es-MX';
}

function fmtCount(value) {
  return typeof value === 'number' ? new Intl.NumberFormat(locale()).format(value) : t('none');
}

function fmtRate(value) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return t('none');
  return new Intl.NumberFormat(locale(), { style: 'percent', maximumFractionDigits: 1 }).format(value);
}

function fmtSeconds(value) {
  return typeof value === 'number' && Number.isFinite(value) ? fmtDuration(value) : t('none');
}

function fmtScore(value) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return t('none');
  return new Intl.NumberFormat(locale(), { minimumFractionDigits: 1, maximumFractionDigits: 2 }).format(value);
}

/** "1 nov" for '2026-11-01' (formatted in UTC so the day never shifts). */
function fmtDay(day) {
  const [year, month, date] = day.split('-').map(Number);
  return new Intl.DateTimeFormat(locale(), { day: 'numeric', month: 'short', timeZone: 'UTC' })
    .format(new Date(Date.UTC(year, month - 1, date)));
}

/** Waits drawn in the unit their largest value reads best in. */
function durationUnit(values) {
  const max = Math.max(0, ...values.filter((v) => typeof v === 'number' && Number.isFinite(v)));
  if (max >= 72 * 3600) return { seconds: 86400, axis: t('axis.days'), unit: t('unit.days') };
  if (max >= 3 * 3600) return { seconds: 3600, axis: t('axis.hours'), unit: t('unit.hours') };
  return { seconds: 60, axis: t('axis.minutes'), unit: t('unit.minutes') };
}

function number(value, digits = 1) {
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(value);
}

// ---------------------------------------------------------------------------------------
// The page's frame: title, filters, CSV link, messages
// ---------------------------------------------------------------------------------------

function loadStyles() {
  // The page's own stylesheet, fetched the first time a supervisor opens it (the queue
  // never needs it). Waiting for it keeps the charts from flashing unstyled.
  if (!view.styles) {
    view.styles = new Promise((resolve) => {
      const link = document.createElement('link');
      link.rel = 'stylesheet';
      link.href = STYLESHEET;
      link.addEventListener('load', resolve);
      link.addEventListener('error', resolve); // unstyled beats no figures at all
      document.head.append(link);
    });
  }
  return view.styles;
}

function build() {
  const filters = view.filters;
  const onDate = (key) => (event) => {
    filters[key] = event.target.value;
    load();
  };
  const onSelect = (key) => (event) => {
    filters[key] = event.target.value;
    load();
  };
  const choice = (key, testid, label, options) => el('label', { class: 'field reports-field' },
    el('span', { class: 'field-label', text: label }),
    el('select', { id: 'reports-' + key, testid, onchange: onSelect(key) }, selectOptions(options, filters[key])));
  const csv = el('a', {
    class: 'btn reports-csv', id: 'reports-csv', testid: 'reports-csv', download: '', title: t('csvTitle'),
    text: t('csv'),
  });
  view.root.replaceChildren(
    el('header', { class: 'reports-head' },
      el('h2', { class: 'reports-title', id: 'reports-title', text: t('title') }),
      el('form', { class: 'reports-filters', testid: 'reports-filters', onsubmit: (event) => event.preventDefault() },
        el('label', { class: 'field reports-field' },
          el('span', { class: 'field-label', text: t('from') }),
          el('input', { type: 'date', id: 'reports-from', testid: 'reports-from', value: filters.from, required: true,
            onchange: onDate('from') })),
        el('label', { class: 'field reports-field' },
          el('span', { class: 'field-label', text: t('to') }),
          el('input', { type: 'date', id: 'reports-to', testid: 'reports-to', value: filters.to, required: true,
            onchange: onDate('to') })),
        choice('channel', 'reports-channel', t('channel'), channelOptions(view.data)),
        choice('team', 'reports-team', t('team'), teamOptions(view.data)),
        csv)),
    el('p', {
      class: 'form-error reports-error', id: 'reports-error', testid: 'reports-error', role: 'alert', hidden: true,
    }),
    el('p', { class: 'muted small reports-status', id: 'reports-status', role: 'status' }),
    el('div', { class: 'reports-body', id: 'reports-body', testid: 'reports-body' }));
  setCsvLink();
}

function selectOptions(options, selected) {
  // The filter in force stays a choice even when the period has no data for it.
  const values = options.map(([value]) => value);
  const all = selected && !values.includes(selected) ? [...options, [selected, selected]] : options;
  return [['', t('all')], ...all]
    .map(([value, label]) => el('option', { value, selected: value === selected, text: label }));
}

function channelOptions(data) {
  const channels = Array.isArray(data?.channels) ? data.channels : [];
  return channels.filter((c) => typeof c === 'string').map((c) => [c, channelName(c)]);
}

function teamOptions(data) {
  const teams = Array.isArray(data?.teams) ? data.teams : [];
  return teams.filter((team) => typeof team === 'string').map((team) => [team, team]);
}

function refreshOptions(data) {
  const refill = (id, options, selected) => {
    const select = document.getElementById(id);
    if (select) select.replaceChildren(...selectOptions(options, selected));
  };
  refill('reports-channel', channelOptions(data), view.filters.channel);
  refill('reports-team', teamOptions(data), view.filters.team);
}

function query() {
  const { from, to, channel, team } = view.filters;
  const params = new URLSearchParams({ from, to });
  if (channel) params.set('channel', channel);
  if (team) params.set('team', team);
  return params.toString();
}

/** The CSV link always carries the filters on screen (a plain GET: the cookie is enough). */
function setCsvLink() {
  const link = document.getElementById('reports-csv');
  if (!link) return;
  // No href while the period is impossible: the link greys out instead of a 400 download.
  link.removeAttribute('href');
  if (validPeriod(view.filters)) setUrl(link, 'href', '/api/reports/overview.csv?' + query());
}

function showMessage(message) {
  const node = document.getElementById('reports-error');
  if (!node) return;
  node.textContent = message || '';
  show(node, Boolean(message));
}

function setStatus(message) {
  const node = document.getElementById('reports-status');
  if (node) node.textContent = message || '';
}

// ---------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------

async function load() {
  const root = view.root;
  const seq = ++view.seq;
  setCsvLink();
  if (!validPeriod(view.filters)) {
    // Nothing is asked: the figures on screen stay, with the reason they were not changed.
    showMessage(t('badRange'));
    root.dataset.state = 'error';
    return;
  }
  const q = query();
  root.dataset.state = 'loading';
  root.setAttribute('aria-busy', 'true');
  setStatus(t('loading'));
  try {
    delete root.dataset.extras;
    const data = await api('GET', '/api/reports/overview?' + q);
    if (seq !== view.seq) return;
    view.data = data;
    if (typeof data.timezone === 'string') view.timezone = data.timezone;
    showMessage('');
    draw(data);
    root.dataset.query = q;
    root.dataset.state = 'ready';
    // The trends and the customers at risk are asked once the figures are drawn, not beside
    // them: the desk answers requests on one interpreter, so asking all three at once made
    // the figures wait for the slowest (docs/reports-benchmark.md). data-extras says when
    // they are drawn.
    const channel = view.filters.channel ? '?channel=' + encodeURIComponent(view.filters.channel) : '';
    loadExtras(Promise.all([api('GET', '/api/reports/trends' + channel), api('GET', '/api/reports/at-risk')]), seq);
  } catch (error) {
    if (seq !== view.seq) return;
    showMessage(failure(error));
    setStatus('');
    root.dataset.state = 'error';
  } finally {
    if (seq === view.seq) root.removeAttribute('aria-busy');
  }
}

/** The trends and the customers at risk, drawn under the figures when they arrive. */
async function loadExtras(extras, seq) {
  try {
    const [trends, risk] = await extras;
    if (seq !== view.seq) return;
    view.trends = trends;
    view.risk = risk;
    drawExtras();
    view.root.dataset.extras = 'ready';
  } catch (error) {
    if (seq !== view.seq) return;
    const slot = document.getElementById('reports-extras');
    if (slot) slot.replaceChildren(el('p', { class: 'form-error', role: 'alert', text: failure(error) }));
    view.root.dataset.extras = 'error';
  }
}

function drawExtras() {
  const slot = document.getElementById('reports-extras');
  if (!slot || !view.trends || !view.risk) return;
  slot.replaceChildren(trendsSection(view.trends), namedSection(view.trends), riskSection(view.risk));
}

function failure(error) {
  if (error instanceof ApiError && error.status === 403) return t('forbidden');
  if (error instanceof ApiError && error.status === 404) return t('unavailable');
  if (error instanceof ApiError && error.status === 400) return error.message;
  const message = error instanceof Error ? error.message : String(error);
  if (!(error instanceof ApiError)) console.error(error); // eslint-disable-line no-console
  return t('failed', { error: message });
}

// ---------------------------------------------------------------------------------------
// Drawing
// ---------------------------------------------------------------------------------------

function draw(data) {
  refreshOptions(data);
  const notes = [];
  if (typeof data.timezone === 'string') notes.push(t('timezone', { tz: data.timezone }));
  if (data.provisional > 0) notes.push(t('provisional', { n: fmtCount(data.provisional) }));
  setStatus(notes.join(' '));
  const days = Array.isArray(data.series?.days) ? data.series.days : [];
  document.getElementById('reports-body').replaceChildren(
    el('section', { class: 'reports-section', 'aria-label': t('headline') }, headline(data)),
    el('div', { class: 'reports-grid' },
      volumeChart(data, days),
      rateChart(days, 'containment_rate', 'chart.containment', 'series.containment', 'chart-containment',
        data.containment_rate),
      hoursChart(data),
      weekdaysChart(data),
      waitsChart(data, days),
      rateChart(days, 'sla_met_rate', 'chart.sla', 'series.sla', 'chart-sla', data.sla_met_rate),
      csatChart(data),
      reasonsChart(data)),
    breakdown(data.by_channel, 'table.channels', 'col.channel', 'reports-by-channel', channelName),
    breakdown(data.by_team, 'table.teams', 'col.team', 'reports-by-team', (team) => text(team) || t('noTeam')),
    el('div', { id: 'reports-extras', class: 'reports-extras', testid: 'reports-extras' }));
  drawExtras();
}

/** Labels that rise unusually, with the rule's numbers (docs/analytics.md, Trends). */
function trendsSection(trends) {
  const rule = trends?.rule || {};
  const rising = Array.isArray(trends?.rising) ? trends.rising : [];
  const rows = rising.length
    ? rising.map((trend) => el('tr', { testid: 'trend-row', dataset: { label: trend.label } },
      el('th', { scope: 'row', text: text(trend.label) }),
      el('td', { text: fmtCount(trend.this_week) }),
      el('td', { text: number(trend.baseline, 1) }),
      el('td', { text: typeof trend.ratio === 'number' ? '×' + number(trend.ratio, 1) : t('none') }),
      el('td', { text: trend.mostly ? text(trend.mostly.city) + ' (' + fmtCount(trend.mostly.count) + ')' : t('none') })))
    : [el('tr', {}, el('td', { colspan: '5', class: 'muted', text: t('trends.none') }))];
  return el('section', { class: 'reports-section reports-table-wrap', testid: 'reports-trends' },
    el('h3', { class: 'section-title', text: t('trends.title') }),
    el('p', { class: 'muted small', text: t('trends.rule', { min: rule.min_count ?? 5, rise: rule.rise ?? 2 }) }),
    el('table', { class: 'agents-table reports-table' },
      el('caption', { class: 'visually-hidden', text: t('trends.title') }),
      el('thead', {}, el('tr', {}, ['trends.col.label', 'trends.col.week', 'trends.col.baseline', 'trends.col.ratio',
        'trends.col.mostly'].map((key) => el('th', { scope: 'col', text: t(key) })))),
      el('tbody', {}, rows)));
}

/** Cities and products most named in complaints and failed conversations. */
function namedSection(trends) {
  const named = trends?.named || {};
  const list = (items) => (Array.isArray(items) && items.length
    ? el('ol', { class: 'reports-named' }, items.map((item) => el('li', {
      text: text(item.name) + ' (' + fmtCount(item.count) + ')',
    })))
    : el('p', { class: 'muted small', text: t('empty') }));
  const column = (key, titleKey) => el('div', { class: 'reports-named-group', testid: 'named-' + key },
    el('h4', { text: t(titleKey) }),
    el('h5', { class: 'muted small', text: t('named.cities') }), list(named[key]?.cities),
    el('h5', { class: 'muted small', text: t('named.products') }), list(named[key]?.products));
  return el('section', { class: 'reports-section', testid: 'reports-named' },
    el('h3', { class: 'section-title', text: t('named.title') }),
    el('div', { class: 'reports-grid' }, column('complaints', 'named.complaints'), column('failed', 'named.failed')));
}

/** Customers at risk: every point with its reason, a link to their latest case. */
function riskSection(risk) {
  const lang = currentLang() === 'en' ? 'en' : 'es';
  const customers = Array.isArray(risk?.customers) ? risk.customers : [];
  const rows = customers.length
    ? customers.map((customer) => {
      const who = text(customer.name) || channelName(customer.channel) || t('none');
      // desk.js opens a case when the address says #case=ID (its hashchange listener).
      const link = typeof customer.case_id === 'number'
        ? el('button', {
          type: 'button', class: 'link-button', testid: 'risk-case', dataset: { case: customer.case_id },
          text: who + ' · #' + customer.case_id,
          onclick: () => { window.location.hash = 'case=' + customer.case_id; },
        })
        : el('span', { text: who + ' · ' + t('risk.noCase') });
      const reasons = (customer.reasons || []).map((reason) => t('risk.reason', {
        text: text(reason[lang]), n: fmtCount(reason.count), points: fmtCount(reason.points),
      })).join('; ');
      return el('tr', { testid: 'risk-row', dataset: { score: customer.score } },
        el('th', { scope: 'row' }, link),
        el('td', { text: fmtCount(customer.score) }),
        el('td', { text: reasons }));
    })
    : [el('tr', {}, el('td', { colspan: '3', class: 'muted', text: t('risk.none') }))];
  return el('section', { class: 'reports-section reports-table-wrap', testid: 'reports-risk' },
    el('h3', { class: 'section-title', text: t('risk.title') }),
    el('table', { class: 'agents-table reports-table' },
      el('caption', { class: 'visually-hidden', text: t('risk.title') }),
      el('thead', {}, el('tr', {}, ['risk.col.customer', 'risk.col.score', 'risk.col.reasons']
        .map((key) => el('th', { scope: 'col', text: t(key) })))),
      el('tbody', {}, rows)));
}

function kpi(key, label, value, shown, sub, extra) {
  return el('div', {
    class: 'kpi reports-kpi', testid: 'kpi-' + key, dataset: { value: value === undefined ? null : JSON.stringify(value), ...extra },
  },
  el('dt', { text: label }),
  el('dd', { class: 'reports-kpi-value', testid: 'kpi-value', text: shown }),
  sub ? el('dd', { class: 'reports-kpi-sub muted small', text: sub }) : null);
}

function headline(data) {
  const first = data.first_response_seconds || {};
  const sla = data.sla || {};
  const csat = data.csat || {};
  return el('dl', { class: 'kpis reports-kpis', testid: 'reports-kpis' },
    kpi('conversations', t('kpi.conversations'), data.conversations, fmtCount(data.conversations)),
    kpi('containment', t('kpi.containment'), data.containment_rate, fmtRate(data.containment_rate),
      t('kpi.containmentSub', { n: fmtCount(data.contained) }), { count: data.contained }),
    kpi('handoffs', t('kpi.handoffRate'), data.handoff_rate, fmtRate(data.handoff_rate),
      t('kpi.handoffSub', { n: fmtCount(data.handoffs) }), { count: data.handoffs }),
    kpi('first-p50', t('kpi.firstP50'), first.p50 ?? null, fmtSeconds(first.p50),
      t('kpi.firstSub', { n: fmtCount(first.count ?? 0) }), { count: first.count }),
    kpi('first-p90', t('kpi.firstP90'), first.p90 ?? null, fmtSeconds(first.p90)),
    kpi('sla', t('kpi.sla'), data.sla_met_rate, fmtRate(data.sla_met_rate),
      t('kpi.slaSub', {
        met: fmtCount(sla.met ?? 0), missed: fmtCount(sla.missed ?? 0), pending: fmtCount(sla.pending ?? 0),
      })),
    kpi('csat', t('kpi.csat'), csat.mean ?? null, fmtScore(csat.mean),
      t('kpi.csatSub', { n: fmtCount(csat.count ?? 0) }), { count: csat.count }));
}

function point(label, series, value) {
  return t('point', { label, series, value });
}

function values(days, key) {
  return days.map((day) => (typeof day[key] === 'number' ? day[key] : null));
}

/** The day with the most of `key`: [label, value], or null without days. */
function busiest(labels, counts) {
  let best = -1;
  counts.forEach((value, index) => {
    if (typeof value === 'number' && (best < 0 || value > counts[best])) best = index;
  });
  return best < 0 ? null : [labels[best], counts[best]];
}

function volumeChart(data, days) {
  const labels = days.map((day) => fmtDay(String(day.date)));
  const conversations = values(days, 'conversations');
  const top = busiest(labels, conversations);
  return lineChart({
    testid: 'chart-volume',
    title: t('chart.volume'),
    summary: t('sum.volume', {
      conversations: fmtCount(data.conversations), handoffs: fmtCount(data.handoffs),
      from: labels[0] || '',
      to: labels[labels.length - 1] || '',
      day: top ? top[0] : '',
      max: top ? fmtCount(top[1]) : '',
    }),
    emptyText: t('empty'),
    xTitle: t('axis.day'),
    yTitle: t('axis.count'),
    labels,
    series: [
      { name: t('series.conversations'), values: conversations },
      { name: t('series.handoffs'), values: values(days, 'handoffs') },
    ],
    emptyWhenZero: true,
    whole: true,
    yFormat: (v) => number(v, 0),
    pointLabel: point,
  });
}

function rateChart(days, key, titleKey, seriesKey, testid, overall) {
  const labels = days.map((day) => fmtDay(String(day.date)));
  const rates = values(days, key);
  const known = rates.filter((v) => v !== null);
  return lineChart({
    testid,
    title: t(titleKey),
    summary: t('sum.rate', {
      what: t(seriesKey), rate: fmtRate(overall),
      min: fmtRate(known.length ? Math.min(...known) : null), max: fmtRate(known.length ? Math.max(...known) : null),
    }),
    emptyText: t('empty'),
    xTitle: t('axis.day'),
    yTitle: t('axis.rate'),
    labels,
    series: [{ name: t(seriesKey), values: rates }],
    yMax: 1,
    yFormat: fmtRate,
    pointLabel: point,
  });
}

function countsOf(list, length) {
  return Array.from({ length }, (_, index) => (typeof list?.[index] === 'number' ? list[index] : 0));
}

function hoursChart(data) {
  const counts = countsOf(data.series?.hours, 24);
  const labels = counts.map((_, hour) => String(hour));
  const top = busiest(labels, counts);
  return barChart({
    testid: 'chart-hours',
    title: t('chart.hours'),
    summary: t('sum.hours', { hour: top ? top[0] : '', n: top ? fmtCount(top[1]) : '' }),
    emptyText: t('empty'),
    xTitle: t('axis.hour'),
    yTitle: t('axis.count'),
    labels,
    series: [{ name: t('series.conversations'), values: counts }],
    whole: true,
    yFormat: (v) => number(v, 0),
    pointLabel: (label, series, value) => point(label + ':00', series, value),
  });
}

function weekdaysChart(data) {
  const counts = countsOf(data.series?.weekdays, 7);
  const labels = t('weekdays').split(',');
  const long = t('weekdaysLong').split(',');
  const top = busiest(long, counts);
  return barChart({
    testid: 'chart-weekdays',
    title: t('chart.weekdays'),
    summary: t('sum.weekdays', { day: top ? top[0] : '', n: top ? fmtCount(top[1]) : '' }),
    emptyText: t('empty'),
    xTitle: t('axis.weekday'),
    yTitle: t('axis.count'),
    labels,
    series: [{ name: t('series.conversations'), values: counts }],
    whole: true,
    yFormat: (v) => number(v, 0),
    pointLabel: (label, series, value, index) => point(long[index], series, value),
  });
}

function waitsChart(data, days) {
  const p50 = values(days, 'first_response_p50');
  const p90 = values(days, 'first_response_p90');
  const unit = durationUnit([...p50, ...p90]);
  const scaled = (list) => list.map((v) => (v === null ? null : v / unit.seconds));
  const first = data.first_response_seconds || {};
  return lineChart({
    testid: 'chart-waits',
    title: t('chart.waits'),
    summary: t('sum.waits', { p50: fmtSeconds(first.p50), p90: fmtSeconds(first.p90) }),
    emptyText: t('empty'),
    xTitle: t('axis.day'),
    yTitle: unit.axis,
    labels: days.map((day) => fmtDay(String(day.date))),
    series: [
      { name: t('series.p50'), values: scaled(p50) },
      { name: t('series.p90'), values: scaled(p90) },
    ],
    yFormat: (v) => number(v) + ' ' + unit.unit,
    pointLabel: point,
  });
}

function csatChart(data) {
  const agents = (Array.isArray(data.csat_by_agent) ? data.csat_by_agent : [])
    .filter((row) => row && typeof row.mean === 'number');
  const csat = data.csat || {};
  return barChart({
    testid: 'chart-csat',
    title: t('chart.csat'),
    summary: t('sum.csat', { agents: fmtCount(agents.length), mean: fmtScore(csat.mean), n: fmtCount(csat.count ?? 0) }),
    emptyText: t('empty'),
    xTitle: t('axis.agent'),
    yTitle: t('axis.csat'),
    labels: agents.map((row) => text(row.name) || '#' + text(row.agent_id)),
    series: [{ name: t('series.csat'), values: agents.map((row) => row.mean) }],
    ticks: [0, 1, 2, 3, 4, 5], // the answer's own scale, whatever the data
    yFormat: fmtScore,
    pointLabel: (label, series, value, index) => t('pointCsat', { label, series, value, n: fmtCount(agents[index].count) }),
  });
}

function reasonsChart(data) {
  const entries = Object.entries(data.handoffs_by_reason || {})
    .filter(([, n]) => typeof n === 'number')
    .sort((a, b) => b[1] - a[1]);
  return barChart({
    testid: 'chart-reasons',
    title: t('chart.reasons'),
    summary: entries.map(([reason, n]) => reason + ': ' + fmtCount(n)).join(', ') + '.',
    emptyText: t('empty'),
    xTitle: t('axis.reason'),
    yTitle: t('axis.handoffs'),
    labels: entries.map(([reason]) => reason),
    series: [{ name: t('series.handoffs'), values: entries.map(([, n]) => n) }],
    whole: true,
    yFormat: (v) => number(v, 0),
    pointLabel: point,
  });
}

/** A table of the same figures per channel or per team. */
function breakdown(groups, titleKey, keyColumn, testid, nameOf) {
  const columns = [
    [keyColumn, null],
    ['col.conversations', (g) => fmtCount(g.conversations)],
    ['col.containment', (g) => fmtRate(g.containment_rate)],
    ['col.handoffs', (g) => fmtCount(g.handoffs)],
    ['col.handoffRate', (g) => fmtRate(g.handoff_rate)],
    ['col.firstP50', (g) => fmtSeconds(g.first_response_seconds?.p50)],
    ['col.firstP90', (g) => fmtSeconds(g.first_response_seconds?.p90)],
    ['col.resolutionP50', (g) => fmtSeconds(g.resolution_seconds?.p50)],
    ['col.sla', (g) => fmtRate(g.sla_met_rate)],
    ['col.csat', (g) => (g.csat && typeof g.csat.mean === 'number'
      ? fmtScore(g.csat.mean) + ' (' + fmtCount(g.csat.count) + ')' : t('none'))],
  ];
  const rows = Object.entries(groups && typeof groups === 'object' ? groups : {})
    .sort((a, b) => (b[1]?.conversations ?? 0) - (a[1]?.conversations ?? 0));
  const body = rows.length
    ? rows.map(([key, group]) => el('tr', {
      testid: 'reports-row', dataset: { key, conversations: group?.conversations },
    },
      el('th', { scope: 'row', text: nameOf(key) }),
      columns.slice(1).map(([, cell]) => el('td', { text: cell(group || {}) }))))
    : [el('tr', {}, el('td', { colspan: String(columns.length), class: 'muted', text: t('empty') }))];
  return el('section', { class: 'reports-section reports-table-wrap' },
    el('h3', { class: 'section-title', text: t(titleKey) }),
    el('table', { class: 'agents-table reports-table', testid },
      el('caption', { class: 'visually-hidden', text: t(titleKey) }),
      el('thead', {}, el('tr', {}, columns.map(([key]) => el('th', { scope: 'col', text: t(key) })))),
      el('tbody', {}, body)));
}
