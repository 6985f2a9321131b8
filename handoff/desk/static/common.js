/*
 * Hilo agent desk: what every page of the desk shares (desk.js, reports.js).
 *
 * An ES module served as it is (no build step, no dependencies). It holds the rules the
 * desk's pages must keep the same way:
 * - Text from customers, the bot or the API reaches the page only through textContent,
 *   createTextNode or element attributes (`el()`); nothing is parsed as HTML.
 * - href/src only take same-origin paths this module allows or the OpenStreetMap link.
 * - Requests that change something carry X-CSRF-Token; the token stays in desk.js's memory
 *   and reaches this module through `configure()`, never through storage.
 *
 * desk.js owns the session (login, logout, the CSRF token, the language) and tells this
 * module about it once with `configure()`; a page loaded later (reports.js) just imports.
 */

// What the session looks like to the shared code. desk.js replaces these at start-up; the
// defaults are what a page without a session would see.
const hooks = {
  lang: () => 'es',
  csrf: () => null,
  running: () => false,
  sessionLost: () => {},
};

/** Tell the shared code how to read the session (desk.js calls this once, at boot). */
export function configure(overrides) {
  Object.assign(hooks, overrides);
}

/** The page's language, 'es' or 'en' (the desk's default is Spanish). */
export function currentLang() {
  return hooks.lang() === 'en' ? 'en' : 'es';
}

// ---------------------------------------------------------------------------------------
// Texts shared by every page (each page keeps its own table for the rest)
// ---------------------------------------------------------------------------------------

const TEXTS = {
  es: {
    'login.expired': 'Tu sesión terminó. Vuelve a entrar.',
    'dur.lessMin': 'menos de 1 min',
    'dur.min': '{m} min',
    'dur.hmin': '{h} h {m} min',
    'dur.h': '{h} h',
    'dur.d': '{d} d',
    'dur.dh': '{d} d {h} h',
    'error.network': 'Sin conexión con la mesa. Reintenta en un momento.',
    'error.generic': 'Algo salió mal (error {status}).',
    'error.notFound': 'Ese caso ya no existe.',
  },
  en: {
    'login.expired': 'Your session ended. Please sign in again.',
    'dur.lessMin': 'under 1 min',
    'dur.min': '{m} min',
    'dur.hmin': '{h} h {m} min',
    'dur.h': '{h} h',
    'dur.d': '{d} d',
    'dur.dh': '{d} d {h} h',
    'error.network': 'No connection to the desk. Try again in a moment.',
    'error.generic': 'Something went wrong (error {status}).',
    'error.notFound': 'That case no longer exists.',
  },
};

/**
 * A `t(key, vars)` for a page's own table ({es: {...}, en: {...}}): the page's text in the
 * current language, else its Spanish text, else the shared one, else the key itself (a
 * missing text shows up in review instead of an empty label).
 */
export function translator(table) {
  return (key, vars) => {
    const lang = currentLang();
    const template = table[lang]?.[key] ?? table.es?.[key] ?? TEXTS[lang][key] ?? TEXTS.es[key] ?? key;
    if (!vars) return template;
    return template.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
  };
}

const t = translator({});

// ---------------------------------------------------------------------------------------
// Channels (the names customers know them by; connectors/registry.py has the rules)
// ---------------------------------------------------------------------------------------

export const CHANNELS = ['whatsapp', 'twilio', 'messenger', 'instagram', 'telegram', 'sandbox', 'rest'];
export const CHANNEL_NAMES = {
  whatsapp: 'WhatsApp',
  twilio: 'Twilio',
  messenger: 'Messenger',
  instagram: 'Instagram',
  telegram: 'Telegram',
  sandbox: 'Sandbox',
  rest: 'REST',
};

/** "WhatsApp" for `whatsapp`; an unknown channel as it came (it is only ever text). */
export function channelName(channel) {
  return CHANNEL_NAMES[channel] || text(channel) || '?';
}

// ---------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------

export const $ = (id) => document.getElementById(id);

export function isTime(value) {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

export function numberOrNull(value) {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' && value.trim() !== '') {
    const parsed = Number(value);
    return Number.isFinite(parsed) ? parsed : null;
  }
  return null;
}

export function text(value) {
  return value === null || value === undefined ? '' : String(value);
}

// ---------------------------------------------------------------------------------------
// DOM building (the only way the desk's scripts create HTML elements)
// ---------------------------------------------------------------------------------------

/**
 * An element with properties and children. Strings become text nodes; attribute names
 * come from the desk's own code only; href/src must pass `isAllowedUrl`.
 */
export function el(tag, props, ...children) {
  const node = document.createElement(tag);
  let value;
  for (const [key, v] of Object.entries(props || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (key === 'class') node.className = v;
    else if (key === 'text') node.textContent = String(v);
    else if (key === 'testid') node.dataset.testid = v;
    else if (key === 'dataset') setData(node, v);
    else if (key === 'value') value = v;
    else if (key.startsWith('on') && typeof v === 'function') node.addEventListener(key.slice(2), v);
    else if (key === 'href' || key === 'src') setUrl(node, key, v);
    else node.setAttribute(key, v === true ? '' : String(v));
  }
  append(node, children);
  if (value !== undefined) node.value = String(value);
  return node;
}

export function setData(node, values) {
  for (const [key, v] of Object.entries(values)) {
    if (v !== null && v !== undefined) node.dataset[key] = String(v);
  }
}

export function setUrl(node, key, url) {
  if (isAllowedUrl(url)) node.setAttribute(key, url);
}

export function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false || child === '') continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function show(node, visible) {
  node.hidden = !visible;
}

// ---------------------------------------------------------------------------------------
// URLs
// ---------------------------------------------------------------------------------------

export const OSM_ORIGIN = 'https://www.openstreetmap.org';
// Same-origin paths a link may point at: the case files, and the reports' CSV download
// (a GET the browser sends with the session cookie; nothing from the API's data).
const SAME_ORIGIN_PREFIXES = ['/media/', '/api/reports/'];

/** A same-origin path under one of `prefixes`, or null for anything else. */
function sameOriginPath(raw, prefixes) {
  if (typeof raw !== 'string' || raw === '') return null;
  if (!raw.startsWith('/') || raw.startsWith('//')) return null;
  if (/[\\\s\u0000-\u001f\u007f]/.test(raw)) return null;
  let url;
  try {
    url = new URL(raw, window.location.origin);
  } catch {
    return null;
  }
  if (url.origin !== window.location.origin) return null;
  if (!prefixes.some((prefix) => url.pathname.startsWith(prefix))) return null;
  return url.pathname + url.search;
}

/** A same-origin `/media/...` path, or null for anything else. */
export function safeMediaUrl(raw) {
  return sameOriginPath(raw, ['/media/']);
}

/** The OpenStreetMap link for a point, or null when the coordinates are not real. */
export function osmUrl(latitude, longitude) {
  const lat = numberOrNull(latitude);
  const lon = numberOrNull(longitude);
  if (lat === null || lon === null || Math.abs(lat) > 90 || Math.abs(lon) > 180) return null;
  const url = new URL(OSM_ORIGIN + '/');
  url.searchParams.set('mlat', String(lat));
  url.searchParams.set('mlon', String(lon));
  return url.href;
}

export function isAllowedUrl(value) {
  if (typeof value !== 'string') return false;
  if (sameOriginPath(value, SAME_ORIGIN_PREFIXES) === value) return true;
  try {
    const url = new URL(value);
    return url.origin === OSM_ORIGIN && url.protocol === 'https:';
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------------------

// The server's clock minus the browser's, when they differ by more than a few seconds.
let clockOffsetMs = 0;

export function nowSeconds() {
  return (Date.now() + clockOffsetMs) / 1000;
}

/** "menos de 1 min", "25 min", "1 h 5 min", "7 h", "2 d 3 h". */
export function fmtDuration(seconds) {
  const total = Math.max(0, Math.round(seconds));
  const minutes = Math.floor(total / 60);
  if (minutes < 1) return t('dur.lessMin');
  if (minutes < 60) return t('dur.min', { m: minutes });
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (hours < 3) return rest ? t('dur.hmin', { h: hours, m: rest }) : t('dur.h', { h: hours });
  if (hours < 48) return t('dur.h', { h: hours });
  const days = Math.floor(hours / 24);
  const restHours = hours % 24;
  return restHours ? t('dur.dh', { d: days, h: restHours }) : t('dur.d', { d: days });
}

// ---------------------------------------------------------------------------------------
// API
// ---------------------------------------------------------------------------------------

export class ApiError extends Error {
  constructor(status, message, data) {
    super(message);
    this.status = status;
    this.data = data;
  }
}

/** A JSON request to the desk's API; the answer's JSON, or an ApiError with its message. */
export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  const options = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    options.body = JSON.stringify(body);
  }
  const csrf = hooks.csrf();
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  let response;
  try {
    response = await fetch(path, options);
  } catch {
    throw new ApiError(0, t('error.network'), null);
  }
  noteServerClock(response);
  const data = await readJson(response);
  if (response.status === 401 && hooks.running()) {
    hooks.sessionLost();
    throw new ApiError(401, t('login.expired'), data);
  }
  if (!response.ok) throw new ApiError(response.status, errorMessage(response.status, data), data);
  return data || {};
}

export async function readJson(response) {
  try {
    return await response.json();
  } catch {
    return null;
  }
}

export function errorMessage(status, data) {
  if (data && typeof data.error === 'string' && data.error.trim()) return data.error;
  if (status === 404) return t('error.notFound');
  return t('error.generic', { status });
}

/** Countdowns use the server's clock when the browser's is off by more than a few seconds. */
function noteServerClock(response) {
  const header = response.headers.get('Date');
  const serverMs = header ? Date.parse(header) : NaN;
  if (!Number.isFinite(serverMs)) return;
  const offset = serverMs - Date.now();
  clockOffsetMs = Math.abs(offset) > 5000 ? offset : 0;
}
