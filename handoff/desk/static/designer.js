/*
 * Hilo agent desk: the designer's loop (designers, supervisors and admins).
 *
 * An ES module that desk.js imports only when the page is opened. It lists the messages the
 * bot did not understand, grouped with their near-duplicates (GET /api/nlu/candidates,
 * docs/designer-loop.md), largest group first: the words, how many times, why they were
 * kept (fell back, scored low, rephrased, ended in a handoff) and the suggested label. The
 * designer accepts a group with an intent or FAQ key of the domain (a select of the labels
 * the API gives, the suggestion first) or rejects it; the group leaves the list. Customer
 * text only ever reaches the page as text.
 *
 * The root's data-state is "loading", "ready" once drawn, "error" with a visible message.
 */

import { ApiError, api, el, text, translator } from './common.js';

const TEXTS = {
  es: {
    'title': 'Entrenamiento: lo que el bot no entendió',
    'intro': 'Cada grupo junta mensajes casi iguales. Acéptalo con la intención o la pregunta frecuente que quería decir, o recházalo. Lo aceptado se exporta con «hilo nlu candidates --export».',
    'loading': 'Cargando…',
    'empty': 'No hay mensajes por revisar.',
    'failed': 'No se pudieron cargar los mensajes: {error}',
    'forbidden': 'Solo diseño de conversaciones, supervisión y administración pueden revisar estos mensajes.',
    'col.text': 'Mensaje',
    'col.count': 'Veces',
    'col.why': 'Por qué',
    'col.label': 'Etiqueta',
    'accept': 'Aceptar',
    'reject': 'Rechazar',
    'accepted': 'Aceptado como {label} ({n} mensajes).',
    'rejected': 'Rechazado ({n} mensajes).',
    'why.fallback': 'no lo entendió',
    'why.low_confidence': 'poca confianza',
    'why.rephrased': 'el cliente lo dijo de otra forma',
    'why.handoff': 'terminó con una persona',
    'suggested': 'sugerida',
  },
  en: {
    'title': 'Training: what the bot did not understand',
    'intro': 'Each group gathers near-identical messages. Accept it with the intent or FAQ it meant, or reject it. What is accepted is exported with "hilo nlu candidates --export".',
    'loading': 'Loading…',
    'empty': 'Nothing to review.',
    'failed': 'The messages could not be loaded: {error}',
    'forbidden': 'Only designers, supervisors and admins can review these messages.',
    'col.text': 'Message',
    'col.count': 'Times',
    'col.why': 'Why',
    'col.label': 'Label',
    'accept': 'Accept',
    'reject': 'Reject',
    'accepted': 'Accepted as {label} ({n} messages).',
    'rejected': 'Rejected ({n} messages).',
    'why.fallback': 'not understood',
    'why.low_confidence': 'low confidence',
    'why.rephrased': 'the customer rephrased it',
    'why.handoff': 'ended with a person',
    'suggested': 'suggested',
  },
};

const t = translator(TEXTS);

const view = {
  root: null,
  data: null, // the last answer drawn
  status: '', // what the last review did, kept across the redraw that follows it
  seq: 0, // answers to an older request are dropped
};

/** Show the page in `root` and load the candidates. */
export async function open(root) {
  view.root = root;
  await load();
}

/** The page was left: an answer still in flight is not drawn. */
export function close() {
  view.seq += 1;
}

/** The desk's language changed: draw the same list again in it. */
export function relabel() {
  if (view.root && !view.root.hidden && view.data) draw(view.data);
}

/** The session ended: forget what was shown. */
export function reset() {
  view.seq += 1;
  view.data = null;
  view.status = '';
  if (view.root) {
    view.root.replaceChildren();
    view.root.dataset.state = 'idle';
  }
}

async function load() {
  const seq = ++view.seq;
  const root = view.root;
  root.dataset.state = 'loading';
  root.replaceChildren(el('p', { class: 'muted', role: 'status', text: t('loading') }));
  try {
    const data = await api('GET', '/api/nlu/candidates');
    if (seq !== view.seq) return;
    view.data = data;
    draw(data);
    root.dataset.state = 'ready';
  } catch (error) {
    if (seq !== view.seq) return;
    const message = error instanceof ApiError && error.status === 403
      ? t('forbidden') : t('failed', { error: error instanceof Error ? error.message : String(error) });
    root.replaceChildren(el('p', { class: 'form-error', role: 'alert', testid: 'designer-error', text: message }));
    root.dataset.state = 'error';
  }
}

function draw(data) {
  const groups = Array.isArray(data.groups) ? data.groups : [];
  const labels = Array.isArray(data.labels) ? data.labels.map(text) : [];
  const rows = groups.length
    ? groups.map((group) => row(group, labels))
    : [el('tr', {}, el('td', { colspan: '4', class: 'muted', text: t('empty') }))];
  view.root.replaceChildren(
    el('h2', { class: 'reports-title', id: 'designer-title', text: t('title') }),
    el('p', { class: 'muted small', text: t('intro') }),
    el('p', { class: 'muted small', id: 'designer-status', testid: 'designer-status', role: 'status', text: view.status }),
    el('table', { class: 'agents-table reports-table', testid: 'designer-groups' },
      el('caption', { class: 'visually-hidden', text: t('title') }),
      el('thead', {}, el('tr', {}, ['col.text', 'col.count', 'col.why', 'col.label']
        .map((key) => el('th', { scope: 'col', text: t(key) })))),
      el('tbody', {}, rows)));
}

/** One group: its words, how often, why, and the controls to label it. */
function row(group, labels) {
  const suggested = labels.includes(group.suggested) ? group.suggested : null;
  const ordered = suggested ? [suggested, ...labels.filter((label) => label !== suggested)] : labels;
  const select = el('select', { testid: 'designer-label', 'aria-label': t('col.label') },
    ordered.map((label) => el('option', {
      value: label, text: label === suggested ? label + ' (' + t('suggested') + ')' : label,
    })));
  const why = Object.entries(group.why || {})
    .map(([reason, n]) => t('why.' + reason) + (n > 1 ? ' ×' + n : '')).join(', ');
  const decide = (label) => async (event) => {
    const buttons = event.target.closest('tr').querySelectorAll('button, select');
    buttons.forEach((node) => { node.disabled = true; });
    try {
      const answer = await api('POST', '/api/nlu/candidates/' + encodeURIComponent(group.id) + '/review',
        label ? { label } : { reject: true });
      view.status = label
        ? t('accepted', { label: text(answer.label), n: answer.reviewed })
        : t('rejected', { n: answer.reviewed });
      await load();
    } catch (error) {
      buttons.forEach((node) => { node.disabled = false; });
      document.getElementById('designer-status').textContent = error instanceof Error ? error.message : String(error);
    }
  };
  return el('tr', { testid: 'designer-group', dataset: { id: group.id, count: group.count } },
    el('th', { scope: 'row', class: 'pre', text: text(group.text) }),
    el('td', { text: String(group.count) }),
    el('td', { text: why }),
    el('td', {},
      select,
      el('button', {
        type: 'button', class: 'btn', testid: 'designer-accept', text: t('accept'),
        onclick: (event) => decide(select.value)(event),
      }),
      el('button', {
        type: 'button', class: 'btn btn-ghost', testid: 'designer-reject', text: t('reject'),
        onclick: (event) => decide(null)(event),
      })));
}
