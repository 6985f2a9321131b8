/*
 * Hilo agent desk: the admin pages (agents, teams, canned replies).
 *
 * An ES module that desk.js imports only when an admin opens the page (the same pattern as
 * reports.js), so agents, supervisors and the queue's first paint never download it. The
 * API is docs/desk-api.md: /api/agents (?all=true, and /{username}/{action}), /api/teams,
 * /api/canned (and /{id}). The server checks the admin role on every write (403 otherwise);
 * hiding the entry from others is only a convenience.
 *
 * The roles offered when creating an agent are the server's (`roles` in GET /api/agents),
 * so a role added there appears here without a change. Text from the API only reaches the
 * page through `el()` (text as text).
 *
 * The root element's data-state says where the page is: "loading", "ready" once drawn,
 * "error" with a visible message; each action's outcome is said in the status line.
 */

import { ApiError, api, el, translator } from './common.js';

const TEXTS = {
  es: {
    'title': 'Administración',
    'loading': 'Cargando…',
    'failed': 'No se pudo cargar la administración: {error}',
    'forbidden': 'Solo administración puede ver esta página.',
    'retry': 'Reintentar',
    'agents.title': 'Agentes',
    'agents.hint': 'Quien está desactivado no puede entrar; sus casos y notas siguen a su nombre.',
    'agents.col.name': 'Nombre',
    'agents.col.username': 'Usuario',
    'agents.col.role': 'Rol',
    'agents.col.team': 'Equipo',
    'agents.col.capacity': 'Capacidad',
    'agents.col.state': 'Estado',
    'agents.col.actions': 'Acciones',
    'agents.active': 'activo',
    'agents.inactive': 'desactivado',
    'agents.you': '(tú)',
    'agents.save': 'Guardar',
    'agents.deactivate': 'Desactivar',
    'agents.activate': 'Activar',
    'agents.revoke': 'Cerrar sesiones',
    'agents.password': 'Nueva contraseña',
    'agents.passwordSave': 'Cambiar',
    'agents.saved': 'Guardado: {name}.',
    'agents.deactivated': '{name} está desactivado y sus sesiones terminaron.',
    'agents.activated': '{name} puede volver a entrar.',
    'agents.revoked': 'Las sesiones de {name} terminaron.',
    'agents.passwordDone': 'La contraseña de {name} cambió y sus sesiones terminaron.',
    'agents.confirmDeactivate': '¿Desactivar a {name}? No podrá entrar hasta que lo actives.',
    'new.title': 'Nuevo agente',
    'new.username': 'Usuario',
    'new.name': 'Nombre visible',
    'new.password': 'Contraseña (8 caracteres o más)',
    'new.role': 'Rol',
    'new.team': 'Equipo',
    'new.capacity': 'Capacidad',
    'new.submit': 'Crear agente',
    'new.done': '{name} ya puede entrar.',
    'teams.title': 'Equipos',
    'teams.hint': 'Un equipo es el nombre de equipo de sus agentes y de los casos en su cola: para cambiarlo, cambia el equipo de los agentes arriba. Los casos se pasan a un equipo desde el caso («Transferir»).',
    'teams.hours': 'Horario: el mismo para todos los equipos (handoff/support.yml), zona {tz}; ahora {state}.',
    'teams.open': 'abierto',
    'teams.closed': 'cerrado',
    'teams.col.team': 'Equipo',
    'teams.col.members': 'Agentes',
    'teams.col.queued': 'En cola',
    'teams.col.assigned': 'Asignados',
    'teams.none': 'Sin equipo',
    'teams.empty': '—',
    'canned.title': 'Respuestas guardadas',
    'canned.hint': 'Pueden usar {nombre} (el nombre del cliente) y {pedido} (su número de pedido).',
    'canned.col.title': 'Título',
    'canned.col.language': 'Idioma',
    'canned.col.text': 'Texto',
    'canned.col.actions': 'Acciones',
    'canned.edit': 'Editar',
    'canned.delete': 'Borrar',
    'canned.save': 'Guardar',
    'canned.cancel': 'Cancelar',
    'canned.confirmDelete': '¿Borrar la respuesta «{title}»?',
    'canned.saved': 'Respuesta guardada.',
    'canned.deleted': 'Respuesta borrada.',
    'canned.new': 'Nueva respuesta',
    'canned.add': 'Añadir',
    'canned.empty': 'Todavía no hay respuestas guardadas.',
    'lang.es': 'Español',
    'lang.en': 'Inglés',
    'role.agent': 'Agente',
    'role.designer': 'Diseño',
    'role.supervisor': 'Supervisión',
    'role.admin': 'Admin',
  },
  en: {
    'title': 'Administration',
    'loading': 'Loading…',
    'failed': 'The administration could not be loaded: {error}',
    'forbidden': 'Only admins can see this page.',
    'retry': 'Retry',
    'agents.title': 'Agents',
    'agents.hint': 'Deactivated users cannot log in; their cases and notes keep their name.',
    'agents.col.name': 'Name',
    'agents.col.username': 'Username',
    'agents.col.role': 'Role',
    'agents.col.team': 'Team',
    'agents.col.capacity': 'Capacity',
    'agents.col.state': 'State',
    'agents.col.actions': 'Actions',
    'agents.active': 'active',
    'agents.inactive': 'deactivated',
    'agents.you': '(you)',
    'agents.save': 'Save',
    'agents.deactivate': 'Deactivate',
    'agents.activate': 'Activate',
    'agents.revoke': 'End sessions',
    'agents.password': 'New password',
    'agents.passwordSave': 'Change',
    'agents.saved': 'Saved: {name}.',
    'agents.deactivated': '{name} is deactivated and their sessions ended.',
    'agents.activated': '{name} can log in again.',
    'agents.revoked': "{name}'s sessions ended.",
    'agents.passwordDone': "{name}'s password changed and their sessions ended.",
    'agents.confirmDeactivate': 'Deactivate {name}? They cannot log in until you activate them.',
    'new.title': 'New agent',
    'new.username': 'Username',
    'new.name': 'Display name',
    'new.password': 'Password (8 characters or more)',
    'new.role': 'Role',
    'new.team': 'Team',
    'new.capacity': 'Capacity',
    'new.submit': 'Create agent',
    'new.done': '{name} can log in now.',
    'teams.title': 'Teams',
    'teams.hint': "A team is the team name on its agents and on the cases in its queue: to change one, change the agents' team above. Cases go to a team from the case (\"Transfer\").",
    'teams.hours': 'Hours: the same for every team (handoff/support.yml), time zone {tz}; now {state}.',
    'teams.open': 'open',
    'teams.closed': 'closed',
    'teams.col.team': 'Team',
    'teams.col.members': 'Agents',
    'teams.col.queued': 'Queued',
    'teams.col.assigned': 'Assigned',
    'teams.none': 'No team',
    'teams.empty': '—',
    'canned.title': 'Canned replies',
    'canned.hint': "They may use {nombre} (the customer's name) and {pedido} (their order number).",
    'canned.col.title': 'Title',
    'canned.col.language': 'Language',
    'canned.col.text': 'Text',
    'canned.col.actions': 'Actions',
    'canned.edit': 'Edit',
    'canned.delete': 'Delete',
    'canned.save': 'Save',
    'canned.cancel': 'Cancel',
    'canned.confirmDelete': 'Delete the reply "{title}"?',
    'canned.saved': 'Reply saved.',
    'canned.deleted': 'Reply deleted.',
    'canned.new': 'New reply',
    'canned.add': 'Add',
    'canned.empty': 'No canned replies yet.',
    'lang.es': 'Spanish',
    'lang.en': 'English',
    'role.agent': 'Agent',
    'role.designer': 'Designer',
    'role.supervisor': 'Supervisor',
    'role.admin': 'Admin',
  },
};

// A placeholder without a value stays as written: {nombre} and {pedido} in the hints.
const t = translator(TEXTS);

const STYLESHEET = '/static/admin.css';
const LANGUAGES = ['es', 'en'];

const view = {
  root: null,
  me: null, // the admin's own username: no "deactivate myself" button
  agents: null,
  roles: [],
  teams: null,
  hours: null,
  canned: null,
  editing: null, // the id of the canned reply being edited
  status: null, // {kind, text} of the last action
  seq: 0,
  styles: null,
};

// ---------------------------------------------------------------------------------------
// What desk.js calls
// ---------------------------------------------------------------------------------------

/** Show the page in `root` for the admin `me` (their username) and load it. */
export async function open(root, me) {
  view.root = root;
  view.me = me || null;
  root.dataset.state = 'loading';
  await loadStyles();
  await load();
}

/** The page was left: an answer still in flight is not drawn. */
export function close() {
  view.seq += 1;
}

/** The desk's language changed: draw the same data again in it. */
export function relabel() {
  if (!view.root || view.root.hidden || !view.agents) return;
  draw();
}

/** The session ended: forget everything shown. */
export function reset() {
  view.seq += 1;
  Object.assign(view, {
    me: null, agents: null, roles: [], teams: null, hours: null, canned: null, editing: null, status: null,
  });
  if (view.root) {
    view.root.replaceChildren();
    view.root.dataset.state = 'idle';
  }
}

// ---------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------

function loadStyles() {
  // The page's own stylesheet, fetched the first time an admin opens it.
  if (!view.styles) {
    view.styles = new Promise((resolve) => {
      const link = document.createElement('link');
      link.rel = 'stylesheet';
      link.href = STYLESHEET;
      link.addEventListener('load', resolve);
      link.addEventListener('error', resolve); // unstyled beats nothing
      document.head.append(link);
    });
  }
  return view.styles;
}

async function load() {
  const seq = ++view.seq;
  const root = view.root;
  if (!view.agents) {
    root.replaceChildren(el('p', { class: 'muted', role: 'status', text: t('loading') }));
  }
  root.dataset.state = 'loading';
  try {
    const [agents, teams, canned] = await Promise.all([
      api('GET', '/api/agents?all=true'),
      api('GET', '/api/teams'),
      api('GET', '/api/canned'),
    ]);
    if (seq !== view.seq) return;
    view.agents = Array.isArray(agents.agents) ? agents.agents : [];
    view.roles = Array.isArray(agents.roles) ? agents.roles.filter((r) => typeof r === 'string') : [];
    view.teams = Array.isArray(teams.teams) ? teams.teams : [];
    view.hours = teams.hours && typeof teams.hours === 'object' ? teams.hours : null;
    view.canned = Array.isArray(canned.canned) ? canned.canned : [];
  } catch (error) {
    if (seq !== view.seq) return;
    failed(error);
    return;
  }
  draw();
}

function failed(error) {
  const forbidden = error instanceof ApiError && error.status === 403;
  const message = forbidden ? t('forbidden') : t('failed', { error: error.message || String(error) });
  const retry = el('button', { type: 'button', class: 'btn', text: t('retry'), onclick: () => load() });
  view.root.replaceChildren(el('div', { class: 'admin-error' },
    el('p', { class: 'form-error', role: 'alert', testid: 'admin-error', text: message }),
    forbidden ? null : retry));
  view.root.dataset.state = 'error';
}

/** Do `call` (an API request), say `done` on success or the server's words on failure, reload. */
async function act(call, done) {
  try {
    await call();
  } catch (error) {
    view.status = { kind: 'error', text: error.message || String(error) };
    drawStatus();
    return false;
  }
  view.status = { kind: 'success', text: done };
  await load();
  return true;
}

// ---------------------------------------------------------------------------------------
// Drawing
// ---------------------------------------------------------------------------------------

function draw() {
  const root = view.root;
  root.replaceChildren(
    el('div', { class: 'admin-head' },
      el('h2', { class: 'admin-title', id: 'admin-title', text: t('title') }),
      el('p', { class: 'admin-status', role: 'status', testid: 'admin-status', 'aria-live': 'polite' })),
    agentsSection(),
    newAgentSection(),
    teamsSection(),
    cannedSection(),
  );
  drawStatus();
  root.dataset.state = 'ready';
}

function drawStatus() {
  const line = view.root && view.root.querySelector('[data-testid="admin-status"]');
  if (!line) return;
  line.textContent = view.status ? view.status.text : '';
  line.className = 'admin-status' + (view.status ? ' is-' + view.status.kind : '');
  line.dataset.kind = view.status ? view.status.kind : '';
}

function section(key, testid, ...children) {
  const id = 'admin-' + testid;
  return el('section', { class: 'admin-section', testid, 'aria-labelledby': id },
    el('h3', { class: 'admin-section-title', id, text: t(key) }), ...children);
}

function table(heads, rows) {
  return el('div', { class: 'admin-table-wrap' },
    el('table', { class: 'admin-table' },
      el('thead', null, el('tr', null, heads.map((key) => el('th', { scope: 'col', text: t(key) })))),
      el('tbody', null, rows)));
}

function field(labelKey, input) {
  return el('label', { class: 'admin-field' }, el('span', { text: t(labelKey) }), input);
}

function roleLabel(role) {
  const key = 'role.' + role;
  const label = t(key);
  return label === key ? String(role) : label;
}

function displayName(agent) {
  return String(agent.display_name || agent.username || '?');
}

// ----- agents ---------------------------------------------------------------------------

function agentsSection() {
  const rows = view.agents.map(agentRow);
  return section('agents.title', 'section-agents',
    el('p', { class: 'muted small', text: t('agents.hint') }),
    table(['agents.col.name', 'agents.col.username', 'agents.col.role', 'agents.col.team',
      'agents.col.capacity', 'agents.col.state', 'agents.col.actions'], rows));
}

function agentRow(agent) {
  const username = String(agent.username);
  const name = displayName(agent);
  const self = username === view.me;
  const path = (action) => '/api/agents/' + encodeURIComponent(username) + '/' + action;
  const team = el('input', {
    type: 'text', class: 'input', maxlength: '64', value: agent.team || '', testid: 'agent-team',
    'aria-label': t('agents.col.team') + ': ' + name,
  });
  const capacity = el('input', {
    type: 'number', class: 'input input-narrow', min: '0', max: '1000', step: '1',
    value: String(agent.capacity ?? ''), testid: 'agent-capacity',
    'aria-label': t('agents.col.capacity') + ': ' + name,
  });
  const save = el('button', {
    type: 'button', class: 'btn btn-small', testid: 'agent-save', text: t('agents.save'),
    onclick: () => act(() => api('POST', path('update'), {
      team: team.value.trim() || null,
      capacity: Number.parseInt(capacity.value, 10),
    }), t('agents.saved', { name })),
  });
  const active = agent.active !== false;
  const toggle = el('button', {
    type: 'button', class: 'btn btn-small' + (active ? ' btn-danger' : ''),
    testid: active ? 'agent-deactivate' : 'agent-activate',
    text: t(active ? 'agents.deactivate' : 'agents.activate'),
    onclick: () => {
      if (active && !window.confirm(t('agents.confirmDeactivate', { name }))) return;
      act(() => api('POST', path(active ? 'deactivate' : 'activate')),
        t(active ? 'agents.deactivated' : 'agents.activated', { name }));
    },
  });
  const revoke = el('button', {
    type: 'button', class: 'btn btn-small', testid: 'agent-revoke', text: t('agents.revoke'),
    onclick: () => act(() => api('POST', path('revoke')), t('agents.revoked', { name })),
  });
  const password = el('input', {
    type: 'password', class: 'input', autocomplete: 'new-password', minlength: '8',
    placeholder: t('agents.password'), 'aria-label': t('agents.password') + ': ' + name,
    testid: 'agent-password',
  });
  const passwordSave = el('button', {
    type: 'button', class: 'btn btn-small', testid: 'agent-password-save', text: t('agents.passwordSave'),
    onclick: () => act(() => api('POST', path('password'), { password: password.value }),
      t('agents.passwordDone', { name })),
  });
  return el('tr', { testid: 'admin-agent', dataset: { username, active: String(active) }, class: active ? '' : 'is-inactive' },
    el('td', null, name, self ? ' ' + t('agents.you') : ''),
    el('td', { class: 'mono', text: username }),
    el('td', { text: roleLabel(agent.role) }),
    el('td', null, team),
    el('td', null, capacity),
    el('td', { testid: 'agent-state', text: t(active ? 'agents.active' : 'agents.inactive') }),
    el('td', { class: 'admin-actions' }, save,
      // The server refuses to let an admin lock themselves out; no button offers it.
      self ? null : toggle, self ? null : revoke,
      el('span', { class: 'admin-inline' }, password, passwordSave)),
  );
}

function newAgentSection() {
  const username = el('input', { type: 'text', class: 'input', required: true, maxlength: '64', autocomplete: 'off', testid: 'new-agent-username' });
  const name = el('input', { type: 'text', class: 'input', maxlength: '120', autocomplete: 'off', testid: 'new-agent-name' });
  const password = el('input', { type: 'password', class: 'input', required: true, minlength: '8', autocomplete: 'new-password', testid: 'new-agent-password' });
  const role = el('select', { class: 'input', testid: 'new-agent-role' },
    view.roles.map((r) => el('option', { value: r, text: roleLabel(r) })));
  const team = el('input', { type: 'text', class: 'input', maxlength: '64', autocomplete: 'off', testid: 'new-agent-team' });
  const capacity = el('input', { type: 'number', class: 'input input-narrow', min: '0', max: '1000', step: '1', value: '5', testid: 'new-agent-capacity' });
  const form = el('form', {
    class: 'admin-form', testid: 'new-agent', novalidate: true,
    onsubmit: (event) => {
      event.preventDefault();
      const body = {
        username: username.value.trim(),
        password: password.value,
        role: role.value,
        capacity: Number.parseInt(capacity.value, 10),
      };
      if (name.value.trim()) body.display_name = name.value.trim();
      if (team.value.trim()) body.team = team.value.trim();
      act(() => api('POST', '/api/agents', body), t('new.done', { name: body.display_name || body.username }));
    },
  },
  field('new.username', username), field('new.name', name), field('new.password', password),
  field('new.role', role), field('new.team', team), field('new.capacity', capacity),
  el('button', { type: 'submit', class: 'btn btn-primary', testid: 'new-agent-submit', text: t('new.submit') }));
  return section('new.title', 'section-new-agent', form);
}

// ----- teams ----------------------------------------------------------------------------

function teamsSection() {
  const rows = view.teams.map((team) => {
    const members = Array.isArray(team.members) ? team.members.map(displayName) : [];
    const label = team.name === null || team.name === undefined ? t('teams.none') : String(team.name);
    return el('tr', { testid: 'admin-team', dataset: { team: team.name ?? '' } },
      el('td', { text: label }),
      el('td', { testid: 'team-members', text: members.length ? members.join(', ') : t('teams.empty') }),
      el('td', { class: 'num', testid: 'team-queued', text: String(Number(team.queued) || 0) }),
      el('td', { class: 'num', testid: 'team-assigned', text: String(Number(team.assigned) || 0) }));
  });
  const hours = view.hours
    ? el('p', { class: 'muted small', testid: 'teams-hours', text: t('teams.hours', {
      tz: String(view.hours.timezone || '?'), state: t(view.hours.open_now ? 'teams.open' : 'teams.closed'),
    }) })
    : null;
  return section('teams.title', 'section-teams',
    el('p', { class: 'muted small', text: t('teams.hint') }), hours,
    table(['teams.col.team', 'teams.col.members', 'teams.col.queued', 'teams.col.assigned'], rows));
}

// ----- canned replies -------------------------------------------------------------------

function languageSelect(current, testid) {
  return el('select', { class: 'input', testid, value: LANGUAGES.includes(current) ? current : 'es' },
    LANGUAGES.map((lang) => el('option', { value: lang, text: t('lang.' + lang) })));
}

function cannedSection() {
  const rows = view.canned.map((item) => (String(item.id) === String(view.editing) ? cannedEditor(item) : cannedRow(item)));
  const list = rows.length
    ? table(['canned.col.title', 'canned.col.language', 'canned.col.text', 'canned.col.actions'], rows)
    : el('p', { class: 'muted', text: t('canned.empty') });
  return section('canned.title', 'section-canned',
    el('p', { class: 'muted small', text: t('canned.hint') }), list, newCannedForm());
}

function cannedRow(item) {
  const title = String(item.title ?? '');
  return el('tr', { testid: 'admin-canned', dataset: { id: item.id } },
    el('td', { testid: 'canned-title-text', text: title }),
    el('td', { text: LANGUAGES.includes(item.language) ? t('lang.' + item.language) : String(item.language ?? '') }),
    el('td', { class: 'admin-canned-text', testid: 'canned-text-text', text: String(item.text ?? '') }),
    el('td', { class: 'admin-actions' },
      el('button', {
        type: 'button', class: 'btn btn-small', testid: 'canned-edit', text: t('canned.edit'),
        onclick: () => {
          view.editing = item.id;
          draw();
          const input = view.root.querySelector('[data-testid="canned-title"]');
          if (input) input.focus();
        },
      }),
      el('button', {
        type: 'button', class: 'btn btn-small btn-danger', testid: 'canned-delete', text: t('canned.delete'),
        onclick: () => {
          if (!window.confirm(t('canned.confirmDelete', { title }))) return;
          act(() => api('DELETE', '/api/canned/' + encodeURIComponent(item.id)), t('canned.deleted'));
        },
      })));
}

function cannedEditor(item) {
  const title = el('input', { type: 'text', class: 'input', maxlength: '120', value: item.title ?? '', testid: 'canned-title', 'aria-label': t('canned.col.title') });
  const language = languageSelect(item.language, 'canned-language');
  language.setAttribute('aria-label', t('canned.col.language'));
  const text = el('textarea', { class: 'input', rows: '3', value: item.text ?? '', testid: 'canned-text', 'aria-label': t('canned.col.text') });
  const save = el('button', {
    type: 'button', class: 'btn btn-small btn-primary', testid: 'canned-save', text: t('canned.save'),
    onclick: async () => {
      const saved = await act(() => api('PUT', '/api/canned/' + encodeURIComponent(item.id), {
        title: title.value, text: text.value, language: language.value,
      }), t('canned.saved'));
      if (saved) {
        view.editing = null;
        draw();
      }
    },
  });
  const cancel = el('button', {
    type: 'button', class: 'btn btn-small', testid: 'canned-cancel', text: t('canned.cancel'),
    onclick: () => {
      view.editing = null;
      draw();
    },
  });
  return el('tr', { testid: 'admin-canned', dataset: { id: item.id, editing: 'true' } },
    el('td', null, title), el('td', null, language), el('td', null, text),
    el('td', { class: 'admin-actions' }, save, cancel));
}

function newCannedForm() {
  const title = el('input', { type: 'text', class: 'input', maxlength: '120', testid: 'new-canned-title' });
  const language = languageSelect('es', 'new-canned-language');
  const text = el('textarea', { class: 'input', rows: '2', testid: 'new-canned-text' });
  const form = el('form', {
    class: 'admin-form', testid: 'new-canned', novalidate: true,
    onsubmit: (event) => {
      event.preventDefault();
      act(() => api('POST', '/api/canned', { title: title.value, text: text.value, language: language.value }),
        t('canned.saved'));
    },
  },
  field('canned.col.title', title), field('canned.col.language', language), field('canned.col.text', text),
  el('button', { type: 'submit', class: 'btn btn-primary', testid: 'new-canned-submit', text: t('canned.add') }));
  return el('div', { class: 'admin-subsection' }, el('h4', { text: t('canned.new') }), form);
}
