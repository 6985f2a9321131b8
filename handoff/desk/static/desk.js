/*
 * Hilo agent desk: the page agents work in all day.
 *
 * Plain ES2020 served as ES modules, no build step, no dependencies. The contract is
 * docs/desk-api.md. What the desk's pages share (DOM building, the API call with CSRF,
 * URL and number rules, durations) is in common.js; the reports page is reports.js,
 * loaded only when a supervisor opens it.
 *
 * Security rules this file keeps (the backend also sends a strict CSP):
 * - Text from customers, the bot or the API only reaches the page through textContent,
 *   createTextNode or element attributes (see `el()`); nothing is parsed as HTML.
 * - href/src only take same-origin `/media/...` paths or the OpenStreetMap link built here.
 * - State-changing requests carry X-CSRF-Token; the token lives in memory only.
 */
import {
  $, ApiError, CHANNELS, CHANNEL_NAMES, api, append, configure, el, errorMessage, fmtDuration,
  isTime, nowSeconds, numberOrNull, osmUrl, readJson, safeMediaUrl, setData, show, text,
  translator,
} from './common.js';

// A module is strict and private already; the closure is kept so the diff stays small.
(() => {
  // ---------------------------------------------------------------------------------------
  // Constants
  // ---------------------------------------------------------------------------------------

  const LANG_KEY = 'hilo.desk.lang';
  const FILTER_KEY = 'hilo.desk.filter';
  const STATS_KEY = 'hilo.desk.stats';

  const URGENT_SECONDS = 15 * 60; // red under this
  const SOON_SECONDS = 60 * 60; // amber under this
  const TICK_MS = 15 * 1000; // countdowns
  const STATS_MS = 10 * 1000;
  const POLL_MS = 30 * 1000; // fallback while the live stream is down
  const NEW_HIGHLIGHT_MS = 12 * 1000;
  const RETRY_MAX_MS = 30 * 1000;
  const SEARCH_DELAY_MS = 300;
  const MAX_TOASTS = 4;

  const SOURCES = ['customer', 'bot', 'agent', 'handoff', 'system'];
  const PRIORITIES = ['urgent', 'high', 'normal', 'low'];
  const STATUSES = ['queued', 'assigned', 'resolved', 'closed', 'bot'];
  const DELIVERY = ['sending', 'sent', 'delivered', 'read', 'failed'];
  const DELIVERY_ICONS = { sending: '…', sent: '✓', delivered: '✓✓', read: '✓✓', failed: '!' };
  const MEDIA_KINDS = ['image', 'document', 'audio', 'video'];
  const MEDIA_TAGS = { image: 'IMG', document: 'DOC', audio: 'AUD', video: 'VID' };
  const FILTERS = ['open', 'mine', 'queued', 'closed'];
  const SUPERVISOR_ROLES = ['supervisor', 'admin'];
  const DESIGNER_ROLES = ['designer', ...SUPERVISOR_ROLES]; // handoff/models.py ROLES

  // What a user may do with a case (`allowed_actions`), the slots' labels and types
  // (`slots`, `addable_slots`) and the name of a channel's window (`window_name`) come from
  // the server with each case (handoff/desk/permissions.py, handoff/slots.py): no copies here.

  // ---------------------------------------------------------------------------------------
  // Texts
  // ---------------------------------------------------------------------------------------

  const TEXTS = {
    es: {
      'app.title': 'Hilo · Mesa de agentes',
      'app.brand': 'Hilo · Mesa',
      'app.loading': 'Cargando…',
      'app.newCount': '({n})',
      'lang.switch': 'Idioma',
      'login.title': 'Mesa de agentes',
      'login.subtitle': 'Entra con tu usuario de Hilo',
      'login.username': 'Usuario',
      'login.password': 'Contraseña',
      'login.submit': 'Entrar',
      'login.busy': 'Entrando…',
      'login.missing': 'Escribe tu usuario y tu contraseña.',
      'live.on': 'en vivo',
      'live.off': 'sin conexión',
      'live.connecting': 'conectando…',
      'live.onTitle': 'Los cambios llegan al momento.',
      'live.offTitle': 'Sin conexión en vivo: se reintenta solo y la cola se actualiza cada 30 s.',
      'header.available': 'Disponible',
      'header.unavailable': 'No disponible',
      'header.availableTitle': 'Recibes casos nuevos. Pulsa para pausar.',
      'header.unavailableTitle': 'No recibes casos nuevos. Pulsa para volver.',
      'header.stats': 'Supervisión',
      'header.reports': 'Informes',
      'reports.loadFailed': 'No se pudieron abrir los informes. Recarga la página.',
      'header.admin': 'Administración',
      'header.designer': 'Entrenamiento',
      'designer.loadFailed': 'No se pudo abrir el entrenamiento. Recarga la página.',
      'admin.loadFailed': 'No se pudo abrir la administración. Recarga la página.',
      'header.logout': 'Salir',
      'role.agent': 'Agente',
      'role.designer': 'Diseño de conversaciones',
      'role.supervisor': 'Supervisión',
      'role.admin': 'Admin',
      'queue.title': 'Conversaciones',
      'queue.filters': 'Filtros',
      'queue.takeNext': 'Tomar siguiente',
      'queue.search': 'Buscar cliente, teléfono, pedido o texto',
      'queue.searchLabel': 'Buscar',
      'queue.empty': 'No hay casos aquí.',
      'queue.emptySearch': 'Sin resultados para «{q}».',
      'queue.results': 'Resultados para «{q}»: {n}',
      'queue.count': '{n} casos',
      'queue.countOne': '1 caso',
      'queue.unassigned': 'Sin asignar',
      'queue.new': 'nuevo',
      'queue.nextNone': 'No hay casos en cola.',
      'queue.nextTaken': 'Caso tomado: {name}.',
      'tab.open': 'Abiertos',
      'tab.mine': 'Míos',
      'tab.queued': 'En cola',
      'tab.closed': 'Cerrados',
      'time.dueIn': 'vence en {d}',
      'time.overdue': 'venció hace {d}',
      'time.windowCloses': 'ventana de {ch} cierra en {d}',
      'time.windowClosed': 'ventana de {ch} cerrada',
      'time.ago': 'hace {d}',
      'priority.urgent': 'Urgente',
      'priority.high': 'Alta',
      'priority.normal': 'Normal',
      'priority.low': 'Baja',
      'status.queued': 'En cola',
      'status.assigned': 'Asignado',
      'status.resolved': 'Resuelto',
      'status.closed': 'Cerrado',
      'status.bot': 'Con el bot',
      'source.customer': 'Cliente',
      'source.bot': 'Bot',
      'source.agent': 'Agente',
      'source.handoff': 'Traspaso',
      'source.system': 'Sistema',
      'delivery.sending': 'enviando',
      'delivery.sent': 'enviado',
      'delivery.delivered': 'entregado',
      'delivery.read': 'leído',
      'delivery.failed': 'no entregado',
      'delivery.error': 'Error: ',
      'delivery.unknownError': 'el canal no dio el motivo',
      'media.image': 'imagen',
      'media.document': 'documento',
      'media.audio': 'audio',
      'media.video': 'vídeo',
      'media.unavailable': '{name} (adjunto no disponible)',
      'thread.none': 'Elige una conversación de la cola.',
      'thread.label': 'Historial de la conversación',
      'thread.empty': 'Todavía no hay mensajes.',
      'thread.loading': 'Cargando conversación…',
      'thread.buttons': 'Botones que ofreció el bot',
      'thread.openMap': 'ver en OpenStreetMap',
      'thread.location': 'Ubicación',
      'thread.assignedTo': 'asignado a {name}',
      'thread.team': 'equipo {team}',
      'actions.label': 'Acciones del caso',
      'actions.claim': 'Tomar',
      'actions.release': 'Liberar',
      'actions.transfer': 'Transferir',
      'actions.resolve': 'Resolver y devolver al bot',
      'actions.close': 'Cerrar',
      'actions.onlyAssignee': 'Solo quien lleva el caso puede hacerlo.',
      'actions.notAssigned': 'Primero hay que tomar el caso.',
      'reply.label': 'Respuesta al cliente',
      'reply.noteLabel': 'Nota interna',
      'reply.placeholder': 'Escribe una respuesta… (Enter envía, Shift+Enter nueva línea)',
      'reply.notePlaceholder': 'Nota interna: solo la ve el equipo… (Enter guarda)',
      'reply.send': 'Enviar',
      'reply.saveNote': 'Guardar nota',
      'reply.noteToggle': 'Nota interna',
      'reply.canned': 'Respuestas rápidas',
      'reply.cannedSearch': 'Filtrar respuestas',
      'reply.cannedEmpty': 'No hay respuestas rápidas.',
      'reply.missing': 'Falta {what} en la respuesta: complétalo antes de enviar.',
      'reply.missingName': 'el nombre del cliente',
      'reply.missingOrder': 'el número de pedido',
      'reply.claimFirst': 'Toma el caso para responder. Puedes dejar notas internas.',
      'reply.otherAgent': 'Este caso lo lleva {name}. Puedes dejar notas internas.',
      'reply.finished': 'Caso {status}: solo notas internas.',
      'reply.sent': 'Mensaje enviado.',
      'reply.templateSent': 'Se envió la plantilla de reactivación.',
      'reply.noteHint': 'Modo nota interna: el cliente no lo verá.',
      'window.closed': 'La ventana de 24 h de {ch} está cerrada: el mensaje no llegará; se enviará la plantilla de reactivación.',
      'window.closedNoTemplate': 'La ventana de 24 h de {ch} está cerrada y no hay plantilla de reactivación configurada: el mensaje no llegará.',
      'window.closesIn': 'La ventana de {ch} cierra en {d}.',
      'window.confirmTitle': 'La ventana de {ch} está cerrada',
      'window.confirmBody': 'El cliente no recibirá este texto ahora. Se enviará la plantilla de reactivación para que vuelva a escribir. ¿Enviar?',
      'window.confirmNoTemplate': 'No hay plantilla de reactivación configurada: es probable que el mensaje no llegue. ¿Intentar de todos modos?',
      'window.generic': 'del canal',
      'card.title': 'Ficha del caso',
      'card.none': 'La ficha del caso aparece al elegir una conversación.',
      'card.case': 'Caso',
      'card.reason': 'Motivo',
      'card.priority': 'Prioridad',
      'card.status': 'Estado',
      'card.assignee': 'Asignado a',
      'card.team': 'Equipo',
      'card.created': 'Abierto',
      'card.sla': 'SLA',
      'card.slaDue': 'responder antes de {t}',
      'card.firstReply': 'respondido a las {t}',
      'card.outcome': 'Resultado',
      'card.outcomeHint': 'Opcional: qué se resolvió. Se envía al resolver o cerrar; el bot lo usa al retomar.',
      'card.outcomePlaceholder': 'Ej.: reembolso aprobado, llega en 3 días',
      'card.csat': 'Satisfacción',
      'card.csatComment': 'Comentario del cliente',
      'card.csatAsked': 'encuesta enviada, sin respuesta',
      'card.csatSkipped': 'no se preguntó: {why}',
      'card.risk': 'Riesgo de perderlo',
      'card.riskValue': '{score} puntos en 30 días: {reasons}',
      'card.language': 'Idioma',
      'card.window': 'Ventana',
      'card.windowKind': 'Canal',
      'card.windowOpen': 'abierta',
      'card.windowClosed': 'cerrada',
      'card.windowNone': 'sin ventana: el canal acepta mensajes siempre',
      'card.windowUntil': 'hasta {t}',
      'card.template': 'Plantilla de reactivación',
      'card.yes': 'sí',
      'card.no': 'no',
      'card.collected': 'Datos recogidos',
      'card.collectedHint': 'Corrige lo que haga falta: se envía al resolver.',
      'card.collectedEmpty': 'El bot no recogió datos.',
      'card.collectedReadonly': 'Toma el caso para corregir los datos.',
      'card.modified': 'modificado',
      'card.undo': 'deshacer',
      'card.undoLabel': 'Deshacer el cambio de {field}',
      'card.addField': 'Añadir dato',
      'card.addFieldSlot': 'Dato que añadir',
      'card.add': 'Añadir',
      'card.boolUnset': '—',
      'card.customer': 'Cliente',
      'card.name': 'Nombre',
      'card.phone': 'Teléfono',
      'card.identities': 'Canales',
      'card.lastInbound': 'último mensaje {t}',
      'card.earlier': 'Casos anteriores',
      'card.earlierNone': 'Es el primer caso de esta persona.',
      'card.notes': 'Notas internas',
      'card.notesNone': 'Sin notas.',
      'card.noteText': 'Nueva nota interna',
      'card.notePlaceholder': 'Escribe una nota para el equipo…',
      'card.noteAdd': 'Añadir nota',
      'card.noteSaved': 'Nota guardada.',
      'card.summary': 'Resumen',
      'card.files': 'Archivos del caso',
      'card.audit': 'Registro de actividad',
      'card.auditNone': 'Sin actividad registrada.',
      'privacy.title': 'Datos personales',
      'privacy.hint': 'Solicitudes de acceso o de borrado de esta persona, en todos sus canales. Quedan registradas.',
      'privacy.export': 'Exportar datos',
      'privacy.erase': 'Borrar datos',
      'privacy.reason': 'Motivo (se guarda en el registro; no escribas datos personales)',
      'privacy.reasonPlaceholder': 'Ej.: solicitud ARCO n.º 17',
      'privacy.needReason': 'Escribe el motivo.',
      'privacy.needConfirm': 'Marca la casilla para confirmar.',
      'privacy.exportTitle': 'Exportar los datos de esta persona',
      'privacy.exportText': 'Se descargará un archivo ZIP con todo lo que Hilo guarda de esta persona en todos sus canales: mensajes, casos, pedidos, conversaciones con el bot y archivos.',
      'privacy.exportNotes': 'Incluir las notas internas de los agentes',
      'privacy.exportConfirm': 'Entiendo que el archivo contiene datos personales y lo entregaré solo a su titular.',
      'privacy.exportGo': 'Exportar',
      'privacy.exported': 'Archivo descargado.',
      'privacy.eraseTitle': 'Borrar los datos de esta persona',
      'privacy.eraseText': 'Se borrará todo lo que Hilo guarda de esta persona en todos sus canales: mensajes, perfil, conversaciones con el bot, archivos y datos de sus casos. Los pedidos se conservan sin sus datos personales. No se puede deshacer.',
      'privacy.eraseConfirm': 'Entiendo que el borrado es definitivo.',
      'privacy.eraseGo': 'Borrar definitivamente',
      'privacy.erased': 'Datos borrados: {n} registros y archivos.',
      'dialog.cancel': 'Cancelar',
      'resolve.corrections': 'Correcciones que se enviarán',
      'resolve.question': '¿Resolver el caso y devolver la conversación al bot?',
      'close.question': '¿Cerrar el caso sin devolver la conversación al bot? Si el cliente escribe de nuevo, el caso se abre otra vez.',
      'resolve.noCorrections': 'Sin correcciones en los datos.',
      'resolve.done': 'Caso resuelto: la conversación vuelve al bot.',
      'close.done': 'Caso cerrado.',
      'claim.done': 'Caso tomado.',
      'release.done': 'Caso devuelto a la cola.',
      'transfer.title': 'Transferir el caso',
      'transfer.toAgent': 'A una persona',
      'transfer.toTeam': 'A un equipo',
      'transfer.agent': 'Agente',
      'transfer.team': 'Equipo',
      'transfer.pickAgent': 'Elige a quién',
      'transfer.away': 'no disponible',
      'transfer.load': '{load}/{cap} casos',
      'transfer.confirm': 'Transferir',
      'transfer.needAgent': 'Elige un agente.',
      'transfer.needTeam': 'Escribe el nombre del equipo.',
      'transfer.done': 'Caso transferido.',
      'stats.title': 'Supervisión',
      'stats.queue': 'En cola',
      'stats.oldest': 'Espera más larga',
      'stats.median': 'Espera mediana',
      'stats.breaches': 'SLA vencidos',
      'stats.open': 'Casos abiertos',
      'stats.agents': 'Agentes',
      'stats.agent': 'Agente',
      'stats.team': 'Equipo',
      'stats.load': 'Carga',
      'stats.availability': 'Disponibilidad',
      'stats.updated': 'actualizado {t}',
      'stats.none': 'Sin agentes.',
      'availability.on': 'Ahora estás disponible.',
      'availability.off': 'Pausado: no recibirás casos nuevos.',
      'toast.dismiss': 'Cerrar aviso',
    },
    en: {
      'app.title': 'Hilo · Agent desk',
      'app.brand': 'Hilo · Desk',
      'app.loading': 'Loading…',
      'app.newCount': '({n})',
      'lang.switch': 'Language',
      'login.title': 'Agent desk',
      'login.subtitle': 'Sign in with your Hilo user',
      'login.username': 'Username',
      'login.password': 'Password',
      'login.submit': 'Sign in',
      'login.busy': 'Signing in…',
      'login.missing': 'Enter your username and password.',
      'live.on': 'live',
      'live.off': 'offline',
      'live.connecting': 'connecting…',
      'live.onTitle': 'Changes arrive as they happen.',
      'live.offTitle': 'Live updates are down: retrying, and the queue refreshes every 30 s.',
      'header.available': 'Available',
      'header.unavailable': 'Unavailable',
      'header.availableTitle': 'You get new cases. Click to pause.',
      'header.unavailableTitle': 'You get no new cases. Click to come back.',
      'header.stats': 'Supervision',
      'header.reports': 'Reports',
      'reports.loadFailed': 'The reports could not be opened. Reload the page.',
      'header.admin': 'Admin',
      'header.designer': 'Training',
      'designer.loadFailed': 'The training page could not be opened. Reload the page.',
      'admin.loadFailed': 'The admin pages could not be opened. Reload the page.',
      'header.logout': 'Sign out',
      'role.agent': 'Agent',
      'role.designer': 'Conversation designer',
      'role.supervisor': 'Supervisor',
      'role.admin': 'Admin',
      'queue.title': 'Conversations',
      'queue.filters': 'Filters',
      'queue.takeNext': 'Take next',
      'queue.search': 'Search customer, phone, order or text',
      'queue.searchLabel': 'Search',
      'queue.empty': 'No cases here.',
      'queue.emptySearch': 'No results for “{q}”.',
      'queue.results': 'Results for “{q}”: {n}',
      'queue.count': '{n} cases',
      'queue.countOne': '1 case',
      'queue.unassigned': 'Unassigned',
      'queue.new': 'new',
      'queue.nextNone': 'No cases in the queue.',
      'queue.nextTaken': 'Case taken: {name}.',
      'tab.open': 'Open',
      'tab.mine': 'Mine',
      'tab.queued': 'Queued',
      'tab.closed': 'Closed',
      'time.dueIn': 'due in {d}',
      'time.overdue': 'overdue by {d}',
      'time.windowCloses': '{ch} window closes in {d}',
      'time.windowClosed': '{ch} window closed',
      'time.ago': '{d} ago',
      'priority.urgent': 'Urgent',
      'priority.high': 'High',
      'priority.normal': 'Normal',
      'priority.low': 'Low',
      'status.queued': 'Queued',
      'status.assigned': 'Assigned',
      'status.resolved': 'Resolved',
      'status.closed': 'Closed',
      'status.bot': 'With the bot',
      'source.customer': 'Customer',
      'source.bot': 'Bot',
      'source.agent': 'Agent',
      'source.handoff': 'Handoff',
      'source.system': 'System',
      'delivery.sending': 'sending',
      'delivery.sent': 'sent',
      'delivery.delivered': 'delivered',
      'delivery.read': 'read',
      'delivery.failed': 'not delivered',
      'delivery.error': 'Error: ',
      'delivery.unknownError': 'the channel gave no reason',
      'media.image': 'image',
      'media.document': 'document',
      'media.audio': 'audio',
      'media.video': 'video',
      'media.unavailable': '{name} (attachment unavailable)',
      'thread.none': 'Pick a conversation from the queue.',
      'thread.label': 'Conversation history',
      'thread.empty': 'No messages yet.',
      'thread.loading': 'Loading conversation…',
      'thread.buttons': 'Buttons the bot offered',
      'thread.openMap': 'view on OpenStreetMap',
      'thread.location': 'Location',
      'thread.assignedTo': 'assigned to {name}',
      'thread.team': 'team {team}',
      'actions.label': 'Case actions',
      'actions.claim': 'Take',
      'actions.release': 'Release',
      'actions.transfer': 'Transfer',
      'actions.resolve': 'Resolve and return to bot',
      'actions.close': 'Close',
      'actions.onlyAssignee': 'Only the case’s assignee can do this.',
      'actions.notAssigned': 'The case has to be taken first.',
      'reply.label': 'Reply to the customer',
      'reply.noteLabel': 'Internal note',
      'reply.placeholder': 'Write a reply… (Enter sends, Shift+Enter new line)',
      'reply.notePlaceholder': 'Internal note: only the team sees it… (Enter saves)',
      'reply.send': 'Send',
      'reply.saveNote': 'Save note',
      'reply.noteToggle': 'Internal note',
      'reply.canned': 'Canned replies',
      'reply.cannedSearch': 'Filter replies',
      'reply.cannedEmpty': 'No canned replies.',
      'reply.missing': 'The reply is missing {what}: fill it in before sending.',
      'reply.missingName': 'the customer’s name',
      'reply.missingOrder': 'the order number',
      'reply.claimFirst': 'Take the case to reply. You can leave internal notes.',
      'reply.otherAgent': '{name} has this case. You can leave internal notes.',
      'reply.finished': 'Case {status}: internal notes only.',
      'reply.sent': 'Message sent.',
      'reply.templateSent': 'The re-engagement template was sent.',
      'reply.noteHint': 'Internal note mode: the customer will not see it.',
      'window.closed': 'The 24 h {ch} window is closed: the message will not arrive; the re-engagement template will be sent.',
      'window.closedNoTemplate': 'The 24 h {ch} window is closed and no re-engagement template is configured: the message will not arrive.',
      'window.closesIn': 'The {ch} window closes in {d}.',
      'window.confirmTitle': 'The {ch} window is closed',
      'window.confirmBody': 'The customer will not get this text now. The re-engagement template will be sent so they write again. Send?',
      'window.confirmNoTemplate': 'No re-engagement template is configured: the message will probably not arrive. Try anyway?',
      'window.generic': 'channel',
      'card.title': 'Case card',
      'card.none': 'The case card appears when you pick a conversation.',
      'card.case': 'Case',
      'card.reason': 'Reason',
      'card.priority': 'Priority',
      'card.status': 'Status',
      'card.assignee': 'Assignee',
      'card.team': 'Team',
      'card.created': 'Opened',
      'card.sla': 'SLA',
      'card.slaDue': 'reply by {t}',
      'card.firstReply': 'answered at {t}',
      'card.outcome': 'Outcome',
      'card.outcomeHint': 'Optional: what was settled. Sent on resolve or close; the bot uses it when it takes over.',
      'card.outcomePlaceholder': 'E.g.: refund approved, arrives in 3 days',
      'card.csat': 'Satisfaction',
      'card.csatComment': "Customer's comment",
      'card.csatAsked': 'survey sent, no answer',
      'card.csatSkipped': 'not asked: {why}',
      'card.risk': 'Risk of losing them',
      'card.riskValue': '{score} points in 30 days: {reasons}',
      'card.language': 'Language',
      'card.window': 'Window',
      'card.windowKind': 'Channel',
      'card.windowOpen': 'open',
      'card.windowClosed': 'closed',
      'card.windowNone': 'no window: the channel always accepts messages',
      'card.windowUntil': 'until {t}',
      'card.template': 'Re-engagement template',
      'card.yes': 'yes',
      'card.no': 'no',
      'card.collected': 'Collected data',
      'card.collectedHint': 'Correct what is needed: it is sent on resolve.',
      'card.collectedEmpty': 'The bot collected no data.',
      'card.collectedReadonly': 'Take the case to correct the data.',
      'card.modified': 'changed',
      'card.undo': 'undo',
      'card.undoLabel': 'Undo the change to {field}',
      'card.addField': 'Add data',
      'card.addFieldSlot': 'Data to add',
      'card.add': 'Add',
      'card.boolUnset': '—',
      'card.customer': 'Customer',
      'card.name': 'Name',
      'card.phone': 'Phone',
      'card.identities': 'Channels',
      'card.lastInbound': 'last message {t}',
      'card.earlier': 'Earlier cases',
      'card.earlierNone': 'This is the person’s first case.',
      'card.notes': 'Internal notes',
      'card.notesNone': 'No notes.',
      'card.noteText': 'New internal note',
      'card.notePlaceholder': 'Write a note for the team…',
      'card.noteAdd': 'Add note',
      'card.noteSaved': 'Note saved.',
      'card.summary': 'Summary',
      'card.files': 'Case files',
      'card.audit': 'Activity log',
      'card.auditNone': 'No activity recorded.',
      'privacy.title': 'Personal data',
      'privacy.hint': 'Access or erasure requests of this person, on all their channels. They are audited.',
      'privacy.export': 'Export data',
      'privacy.erase': 'Erase data',
      'privacy.reason': 'Reason (kept in the audit; do not write personal data)',
      'privacy.reasonPlaceholder': 'E.g.: access request #17',
      'privacy.needReason': 'Write the reason.',
      'privacy.needConfirm': 'Tick the box to confirm.',
      'privacy.exportTitle': "Export this person's data",
      'privacy.exportText': 'A ZIP file downloads with everything Hilo holds about this person on all their channels: messages, cases, orders, conversations with the bot and files.',
      'privacy.exportNotes': "Include the agents' internal notes",
      'privacy.exportConfirm': 'I understand the file holds personal data and will give it only to the person it is about.',
      'privacy.exportGo': 'Export',
      'privacy.exported': 'File downloaded.',
      'privacy.eraseTitle': "Erase this person's data",
      'privacy.eraseText': 'Everything Hilo holds about this person on all their channels is erased: messages, profile, conversations with the bot, files and the data of their cases. Orders are kept without their personal data. This cannot be undone.',
      'privacy.eraseConfirm': 'I understand the erasure is permanent.',
      'privacy.eraseGo': 'Erase permanently',
      'privacy.erased': 'Data erased: {n} records and files.',
      'dialog.cancel': 'Cancel',
      'resolve.corrections': 'Corrections to send',
      'resolve.question': 'Resolve the case and return the conversation to the bot?',
      'close.question': 'Close the case without returning the conversation to the bot? If the customer writes again, the case opens again.',
      'resolve.noCorrections': 'No corrections to the data.',
      'resolve.done': 'Case resolved: the conversation goes back to the bot.',
      'close.done': 'Case closed.',
      'claim.done': 'Case taken.',
      'release.done': 'Case returned to the queue.',
      'transfer.title': 'Transfer the case',
      'transfer.toAgent': 'To a person',
      'transfer.toTeam': 'To a team',
      'transfer.agent': 'Agent',
      'transfer.team': 'Team',
      'transfer.pickAgent': 'Choose who',
      'transfer.away': 'unavailable',
      'transfer.load': '{load}/{cap} cases',
      'transfer.confirm': 'Transfer',
      'transfer.needAgent': 'Choose an agent.',
      'transfer.needTeam': 'Type the team’s name.',
      'transfer.done': 'Case transferred.',
      'stats.title': 'Supervision',
      'stats.queue': 'Queued',
      'stats.oldest': 'Longest wait',
      'stats.median': 'Median wait',
      'stats.breaches': 'SLA breaches',
      'stats.open': 'Open cases',
      'stats.agents': 'Agents',
      'stats.agent': 'Agent',
      'stats.team': 'Team',
      'stats.load': 'Load',
      'stats.availability': 'Availability',
      'stats.updated': 'updated {t}',
      'stats.none': 'No agents.',
      'availability.on': 'You are available now.',
      'availability.off': 'Paused: you will get no new cases.',
      'toast.dismiss': 'Dismiss',
    },
  };

  // ---------------------------------------------------------------------------------------
  // State
  // ---------------------------------------------------------------------------------------

  const state = {
    lang: storedLang(),
    running: false,
    csrf: null,
    me: null,
    filter: storedFilter(),
    query: '',
    cases: [],
    queueLoaded: false,
    selectedId: null,
    detail: null,
    noteMode: false,
    sending: false,
    drafts: new Map(), // case id -> reply text not sent yet
    noteDrafts: new Map(), // case id -> note text in the card
    edits: new Map(), // case id -> {slot: text} corrections typed in the card
    outcomes: new Map(), // case id -> outcome typed in the card
    canned: new Map(), // language -> [canned]
    knownQueued: null, // ids seen queued (null until the first load)
    unseen: new Set(), // new queued cases nobody has opened yet
    fresh: new Set(), // rows to highlight briefly
    auditOpen: false,
    live: 'off',
    events: null,
    retryMs: 1000,
    everConnected: false,
    seq: { queue: 0, detail: 0, stats: 0 },
    timers: new Map(), // debounced jobs
    intervals: [],
    retryTimer: null,
    searchTimer: null,
    lastStats: null,
    view: 'queue', // or one of PAGES: 'reports', 'designer', 'admin'
    pages: {}, // each page's module, once imported
  };

  // ---------------------------------------------------------------------------------------
  // Small helpers
  // ---------------------------------------------------------------------------------------

  function storedLang() {
    try {
      const value = localStorage.getItem(LANG_KEY);
      return value === 'en' ? 'en' : 'es';
    } catch {
      return 'es';
    }
  }

  function storedFilter() {
    try {
      const value = localStorage.getItem(FILTER_KEY);
      return FILTERS.includes(value) ? value : 'open';
    } catch {
      return 'open';
    }
  }

  function store(key, value) {
    try {
      localStorage.setItem(key, value);
    } catch {
      // Private mode or storage full: the setting lasts for this page only.
    }
  }

  const t = translator(TEXTS); // the desk's texts, then common.js's shared ones

  function sameId(a, b) {
    return a !== null && a !== undefined && b !== null && b !== undefined && String(a) === String(b);
  }

  function isSupervisor() {
    return Boolean(state.me && SUPERVISOR_ROLES.includes(state.me.role));
  }

  function isDesigner() {
    return Boolean(state.me && DESIGNER_ROLES.includes(state.me.role));
  }

  function isAdmin() {
    return Boolean(state.me && state.me.role === 'admin');
  }

  // ---------------------------------------------------------------------------------------
  // Time formatting (browser locale, 24 h)
  // ---------------------------------------------------------------------------------------

  const formatters = new Map();

  function formatter(kind) {
    if (!formatters.has(kind)) {
      const options = {
        time: { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' },
        dayTime: { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' },
        full: {
          year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit',
          hourCycle: 'h23',
        },
        day: { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' },
      }[kind];
      formatters.set(kind, new Intl.DateTimeFormat(undefined, options));
    }
    return formatters.get(kind);
  }

  function toDate(seconds) {
    return new Date(seconds * 1000);
  }

  /** "14:05" today, "3 jun 14:05" this year, a full date otherwise. */
  function fmtWhen(seconds) {
    if (!isTime(seconds)) return '';
    const date = toDate(seconds);
    const now = new Date();
    if (date.toDateString() === now.toDateString()) return formatter('time').format(date);
    if (date.getFullYear() === now.getFullYear()) return formatter('dayTime').format(date);
    return formatter('full').format(date);
  }

  function fmtFull(seconds) {
    return isTime(seconds) ? formatter('full').format(toDate(seconds)) : '';
  }

  function fmtDay(seconds) {
    return isTime(seconds) ? formatter('day').format(toDate(seconds)) : '';
  }

  function fmtAgo(seconds) {
    return isTime(seconds) ? t('time.ago', { d: fmtDuration(nowSeconds() - seconds) }) : '';
  }

  /** The window's name as the server gives it ("WhatsApp"), for the case or its view. */
  function windowName(item, win) {
    return text((win && win.name) || (item && item.window_name)) || t('window.generic');
  }

  /** A live countdown to `at` (kind `due` or `window`), kept fresh by the tick. */
  function countdown(at, kind, label) {
    const node = el('span', {
      class: 'countdown',
      testid: kind === 'window' ? 'window-countdown' : 'countdown',
      dataset: { at, kind, label: label || '' },
    });
    updateCountdown(node);
    return node;
  }

  function updateCountdown(node) {
    const at = Number(node.dataset.at);
    const left = at - nowSeconds();
    const label = node.dataset.label;
    let message;
    if (node.dataset.kind === 'window') {
      message = left > 0 ? t('time.windowCloses', { ch: label, d: fmtDuration(left) })
        : t('time.windowClosed', { ch: label });
    } else {
      message = left > 0 ? t('time.dueIn', { d: fmtDuration(left) })
        : t('time.overdue', { d: fmtDuration(-left) });
    }
    node.textContent = message;
    node.title = fmtFull(at);
    node.classList.toggle('is-late', left <= URGENT_SECONDS);
    node.classList.toggle('is-soon', left > URGENT_SECONDS && left <= SOON_SECONDS);
  }

  function tick() {
    document.querySelectorAll('.countdown[data-at]').forEach(updateCountdown);
    const detail = state.detail;
    const win = detail && detail.window;
    if (win && win.open && isTime(win.closes_at) && win.closes_at <= nowSeconds()) {
      win.open = false; // the window just ran out: say so before the agent sends
      renderComposer();
      renderCard();
    }
  }

  // ---------------------------------------------------------------------------------------
  // API
  // ---------------------------------------------------------------------------------------

  function casePath(id, action) {
    const base = '/api/cases/' + encodeURIComponent(String(id));
    return action ? base + '/' + action : base;
  }

  /** Run an action: disable its button meanwhile, show any error. Returns the answer or null. */
  async function attempt(fn, button) {
    if (button) button.disabled = true;
    try {
      return await fn();
    } catch (error) {
      reportError(error);
      return null;
    } finally {
      if (button) button.disabled = false;
      if (state.detail) updateActions();
    }
  }

  function reportError(error) {
    if (error instanceof ApiError && error.status === 401) return; // already back at login
    toast(error instanceof Error ? error.message : String(error), 'error');
    if (!(error instanceof ApiError)) console.error(error); // eslint-disable-line no-console
  }

  // ---------------------------------------------------------------------------------------
  // Toasts
  // ---------------------------------------------------------------------------------------

  function toast(message, kind = 'info') {
    const box = $('toasts');
    const item = el('div', { class: 'toast toast-' + kind, testid: 'toast-item', dataset: { kind } });
    const close = () => item.remove();
    append(item, [
      el('span', { class: 'toast-text', text: message }),
      el('button', {
        type: 'button', class: 'toast-close', 'aria-label': t('toast.dismiss'), onclick: close,
      }, '×'),
    ]);
    box.append(item);
    while (box.children.length > MAX_TOASTS) box.firstElementChild.remove();
    window.setTimeout(close, kind === 'error' ? 12000 : kind === 'warning' ? 8000 : 3500);
  }

  // ---------------------------------------------------------------------------------------
  // Static texts and language
  // ---------------------------------------------------------------------------------------

  function applyStaticTexts() {
    document.documentElement.lang = state.lang;
    document.querySelectorAll('[data-i18n]').forEach((node) => {
      node.textContent = t(node.dataset.i18n);
    });
    document.querySelectorAll('[data-i18n-placeholder]').forEach((node) => {
      node.setAttribute('placeholder', t(node.dataset.i18nPlaceholder));
    });
    document.querySelectorAll('[data-i18n-aria-label]').forEach((node) => {
      node.setAttribute('aria-label', t(node.dataset.i18nAriaLabel));
    });
    document.querySelectorAll('.lang-btn').forEach((button) => {
      button.setAttribute('aria-pressed', String(button.dataset.lang === state.lang));
    });
    updateTitle();
  }

  function setLanguage(lang) {
    state.lang = lang === 'en' ? 'en' : 'es';
    store(LANG_KEY, state.lang);
    applyStaticTexts();
    if (!state.running) return;
    renderMe();
    setLive(state.live);
    renderQueue();
    renderDetail(false);
    if (state.lastStats) renderStats(state.lastStats);
    for (const page of Object.values(state.pages)) page.relabel();
  }

  function updateTitle() {
    const count = state.unseen.size;
    const base = t('app.title');
    document.title = count > 0 ? t('app.newCount', { n: count }) + ' ' + base : base;
  }

  // ---------------------------------------------------------------------------------------
  // Login and session
  // ---------------------------------------------------------------------------------------

  function showLogin(message) {
    show($('boot'), false);
    show($('app'), false);
    show($('login'), true);
    const error = $('login-error');
    error.textContent = message || '';
    show(error, Boolean(message));
    $('login-password').value = '';
    $('login-username').focus();
  }

  async function submitLogin(event) {
    event.preventDefault();
    const username = $('login-username').value.trim();
    const password = $('login-password').value;
    const error = $('login-error');
    if (!username || !password) {
      error.textContent = t('login.missing');
      show(error, true);
      return;
    }
    const button = $('login-submit');
    button.disabled = true;
    button.textContent = t('login.busy');
    try {
      const data = await api('POST', '/api/auth/login', { username, password });
      state.csrf = data.csrf_token || null;
      $('login-password').value = '';
      show(error, false);
      startApp(data.agent);
    } catch (failure) {
      error.textContent = failure.message;
      show(error, true);
      $('login-password').select();
    } finally {
      button.disabled = false;
      button.textContent = t('login.submit');
    }
  }

  async function logout() {
    try {
      await api('POST', '/api/auth/logout', {});
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401) reportError(error);
    }
    stopApp();
    showLogin('');
  }

  function sessionLost() {
    if (!state.running) return;
    stopApp();
    showLogin(t('login.expired'));
  }

  async function boot() {
    // common.js reads the session through these (its API calls need the CSRF token and
    // must send a lapsed session back to the login form).
    configure({
      lang: () => state.lang,
      csrf: () => state.csrf,
      running: () => state.running,
      sessionLost,
    });
    bindStatic();
    applyStaticTexts();
    try {
      const data = await api('GET', '/api/me');
      state.csrf = data.csrf_token || null;
      startApp(data.agent);
    } catch (error) {
      const quiet = error instanceof ApiError && (error.status === 401 || error.status === 403);
      showLogin(quiet ? '' : error.message);
    }
  }

  function startApp(agent) {
    state.me = agent || null;
    state.running = true;
    show($('boot'), false);
    show($('login'), false);
    show($('app'), true);
    renderMe();
    renderFilters();
    renderQueue();
    renderDetail(true);
    refreshQueue();
    seedQueued();
    connectEvents();
    setupStats();
    setupPages();
    state.intervals.push(window.setInterval(tick, TICK_MS));
    state.intervals.push(window.setInterval(pollWhenOffline, POLL_MS));
    const fromHash = caseIdFromHash();
    if (fromHash) selectCase(fromHash);
  }

  /** Forget everything about the session (and the customers' data) when it ends. */
  function stopApp() {
    state.running = false;
    closeEvents();
    for (const id of state.intervals) window.clearInterval(id);
    state.intervals = [];
    for (const id of state.timers.values()) window.clearTimeout(id);
    state.timers.clear();
    window.clearTimeout(state.retryTimer);
    window.clearTimeout(state.searchTimer);
    Object.assign(state, {
      csrf: null, me: null, query: '', cases: [], queueLoaded: false, selectedId: null,
      detail: null, noteMode: false, sending: false, knownQueued: null, lastStats: null,
      everConnected: false, retryMs: 1000,
    });
    for (const key of ['drafts', 'noteDrafts', 'edits', 'outcomes', 'canned', 'unseen', 'fresh']) state[key].clear();
    $('queue').replaceChildren();
    $('thread').replaceChildren();
    $('card-body').replaceChildren();
    $('reply-text').value = '';
    $('search').value = '';
    $('stats-kpis').replaceChildren();
    $('stats-agents').replaceChildren();
    closeCanned();
    const dialog = $('dialog');
    if (dialog.open) dialog.close('cancel');
    leavePages();
    setHash(null);
    updateTitle();
  }

  // ---------------------------------------------------------------------------------------
  // Header: me, availability, live indicator
  // ---------------------------------------------------------------------------------------

  function renderMe() {
    const me = state.me || {};
    $('me-name').textContent = me.display_name || me.username || '';
    $('me-role').textContent = me.role ? roleLabel(me.role) : '';
    const available = Boolean(me.available);
    const button = $('availability');
    button.setAttribute('aria-pressed', String(available));
    button.classList.toggle('is-on', available);
    button.title = t(available ? 'header.availableTitle' : 'header.unavailableTitle');
    $('availability-text').textContent = t(available ? 'header.available' : 'header.unavailable');
    show($('stats-toggle'), isSupervisor());
  }

  async function toggleAvailability() {
    const button = $('availability');
    const wanted = !(state.me && state.me.available);
    const data = await attempt(() => api('PUT', '/api/me/availability', { available: wanted }), button);
    if (!data) return;
    state.me = data.agent || { ...state.me, available: wanted };
    renderMe();
    toast(t(state.me.available ? 'availability.on' : 'availability.off'));
  }

  function setLive(mode) {
    state.live = mode;
    const node = $('live-indicator');
    node.dataset.state = mode;
    node.title = t(mode === 'on' ? 'live.onTitle' : 'live.offTitle');
    $('live-text').textContent = t('live.' + mode);
  }

  // ---------------------------------------------------------------------------------------
  // Live events
  // ---------------------------------------------------------------------------------------

  function connectEvents() {
    closeEvents();
    if (!state.running || typeof window.EventSource !== 'function') return;
    setLive('connecting');
    const source = new EventSource('/api/events');
    state.events = source;
    source.addEventListener('open', () => {
      if (state.events !== source) return;
      const reconnected = state.everConnected;
      state.everConnected = true;
      state.retryMs = 1000;
      setLive('on');
      if (reconnected) refreshAll(); // catch up on what happened while disconnected
    });
    source.addEventListener('error', () => {
      if (state.events !== source) return;
      setLive(source.readyState === EventSource.CONNECTING ? 'connecting' : 'off');
      if (source.readyState === EventSource.CLOSED) scheduleReconnect();
    });
    source.addEventListener('case', (event) => onCaseEvent(parseEvent(event)));
    source.addEventListener('message', (event) => onMessageEvent(parseEvent(event)));
    // The server ends the feed when the session ends (logout elsewhere, expiry, disabled).
    source.addEventListener('logout', () => {
      if (state.events !== source) return;
      closeEvents();
      if (state.running) sessionLost();
    });
  }

  function closeEvents() {
    if (state.events) state.events.close();
    state.events = null;
  }

  /** The browser gave up (an HTTP error): check the session, then try again, backing off. */
  function scheduleReconnect() {
    closeEvents();
    setLive('off');
    window.clearTimeout(state.retryTimer);
    const delay = state.retryMs;
    state.retryMs = Math.min(state.retryMs * 2, RETRY_MAX_MS);
    state.retryTimer = window.setTimeout(async () => {
      if (!state.running) return;
      try {
        const data = await api('GET', '/api/me');
        if (data.csrf_token) state.csrf = data.csrf_token;
        if (data.agent) state.me = data.agent;
        renderMe();
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) return;
      }
      connectEvents();
    }, delay);
  }

  function parseEvent(event) {
    try {
      return JSON.parse(event.data);
    } catch {
      return null;
    }
  }

  function onCaseEvent(data) {
    const item = data && data.case;
    if (!item) return;
    noteQueued([item], false);
    later('queue', refreshQueue, 250);
    if (sameId(item.id, state.selectedId)) later('detail', () => loadDetail(false), 250);
    if (statsVisible()) later('stats', refreshStats, 1000);
  }

  function onMessageEvent(data) {
    if (!data || !state.detail) return;
    const current = state.detail.case || {};
    const matches = sameId(data.case_id, current.id)
      || (data.conversation_id && data.conversation_id === current.conversation_id);
    if (matches) later('detail', () => loadDetail(false), 200);
  }

  /** Run `fn` once after `ms`, however many times this is called meanwhile. */
  function later(name, fn, ms) {
    window.clearTimeout(state.timers.get(name));
    state.timers.set(name, window.setTimeout(() => {
      state.timers.delete(name);
      if (state.running) fn();
    }, ms));
  }

  function pollWhenOffline() {
    if (state.live !== 'on') refreshAll();
  }

  function refreshAll() {
    refreshQueue();
    if (state.selectedId !== null) loadDetail(false);
    if (statsVisible()) refreshStats();
  }

  // ---------------------------------------------------------------------------------------
  // Queue
  // ---------------------------------------------------------------------------------------

  async function refreshQueue() {
    if (!state.running) return;
    const seq = ++state.seq.queue;
    const path = state.query
      ? '/api/search?q=' + encodeURIComponent(state.query)
      : '/api/cases?status=' + encodeURIComponent(state.filter);
    try {
      const data = await api('GET', path);
      if (seq !== state.seq.queue || !state.running) return;
      state.cases = Array.isArray(data.cases) ? data.cases : [];
      state.queueLoaded = true;
      const complete = !state.query && (state.filter === 'open' || state.filter === 'queued');
      noteQueued(state.cases, complete);
      renderQueue();
    } catch (error) {
      if (seq === state.seq.queue) reportError(error);
    }
  }

  /**
   * Track queued cases to flag the new ones. `complete` says the list holds every queued case,
   * so ids missing from it are no longer queued.
   */
  function noteQueued(cases, complete) {
    const queuedNow = cases.filter((c) => c.status === 'queued').map((c) => String(c.id));
    if (state.knownQueued === null) {
      if (!complete) return;
      state.knownQueued = new Set(queuedNow);
      return;
    }
    for (const id of queuedNow) {
      if (state.knownQueued.has(id)) continue;
      state.knownQueued.add(id);
      if (sameId(id, state.selectedId)) continue;
      state.unseen.add(id);
      markFresh(id);
    }
    for (const c of cases) {
      if (c.status !== 'queued') forgetQueued(String(c.id));
    }
    if (complete) {
      const present = new Set(queuedNow);
      for (const id of [...state.knownQueued]) if (!present.has(id)) forgetQueued(id);
    }
    updateTitle();
  }

  /** Learn which cases are queued now, so that later ones can be flagged as new. */
  async function seedQueued() {
    try {
      const data = await api('GET', '/api/cases?status=queued');
      if (state.running && Array.isArray(data.cases)) noteQueued(data.cases, true);
    } catch (error) {
      reportError(error);
    }
  }

  function forgetQueued(id) {
    if (state.knownQueued) state.knownQueued.delete(id);
    state.unseen.delete(id);
  }

  function markFresh(id) {
    state.fresh.add(id);
    window.setTimeout(() => {
      state.fresh.delete(id);
      const row = queueRow(id);
      if (row) row.classList.remove('is-fresh');
    }, NEW_HIGHLIGHT_MS);
  }

  function queueRow(id) {
    return [...$('queue').children].find((row) => sameId(row.dataset.caseId, id)) || null;
  }

  function renderFilters() {
    document.querySelectorAll('#filters .tab').forEach((tab) => {
      const active = !state.query && tab.dataset.filter === state.filter;
      tab.setAttribute('aria-selected', String(active));
      tab.tabIndex = active || (state.query && tab.dataset.filter === state.filter) ? 0 : -1;
    });
  }

  function renderQueue() {
    const list = $('queue');
    const active = document.activeElement;
    const focused = active && list.contains(active) ? active.closest('.queue-item').dataset.caseId : null;
    list.replaceChildren(...state.cases.map(queueItem));
    if (focused) {
      const row = queueRow(focused);
      if (row) row.querySelector('.queue-row').focus();
    }
    const meta = $('queue-meta');
    const n = state.cases.length;
    if (!state.queueLoaded) meta.textContent = t('app.loading');
    else if (state.query) meta.textContent = t(n ? 'queue.results' : 'queue.emptySearch', { q: state.query, n });
    else meta.textContent = n === 0 ? t('queue.empty') : n === 1 ? t('queue.countOne') : t('queue.count', { n });
    updateTitle();
  }

  function queueItem(item) {
    const id = String(item.id);
    const selected = sameId(id, state.selectedId);
    const classes = ['queue-item', 'priority-' + safeToken(item.priority, PRIORITIES, 'normal')];
    if (selected) classes.push('is-selected');
    if (state.fresh.has(id)) classes.push('is-fresh');
    if (state.unseen.has(id)) classes.push('is-unseen');
    const open = item.status === 'queued' || item.status === 'assigned';
    const row = el('li', {
      class: classes.join(' '),
      testid: 'queue-item',
      dataset: { caseId: id, status: item.status },
    });
    const button = el('button', {
      type: 'button',
      class: 'queue-row',
      'aria-current': selected ? 'true' : null,
      onclick: () => selectCase(id),
    },
    el('span', { class: 'row-line' },
      el('span', { class: 'row-name', text: displayName(item) }),
      state.unseen.has(id) ? el('span', { class: 'new-dot', text: t('queue.new') }) : null,
      channelBadge(item.channel)),
    el('span', { class: 'row-line' },
      el('span', { class: 'row-reason', text: reasonLabel(item) }),
      priorityBadge(item.priority),
      statusBadge(item.status)),
    el('span', { class: 'row-line row-foot' },
      el('span', { class: 'row-assignee', text: assigneeText(item) }),
      open && isTime(item.urgent_at) ? countdown(item.urgent_at, 'due') : null),
    open ? windowHint(item) : null);
    row.append(button);
    return row;
  }

  function assigneeText(item) {
    if (item.assignee_name) return item.assignee_name;
    return item.team ? t('thread.team', { team: item.team }) : t('queue.unassigned');
  }

  function windowHint(item) {
    if (!isTime(item.window_closes_at)) return null;
    const left = item.window_closes_at - nowSeconds();
    if (left > 48 * 3600) return null;
    return el('span', { class: 'row-line row-hint' },
      countdown(item.window_closes_at, 'window', windowName(item)));
  }

  function displayName(item) {
    return text(item.customer_name).trim() || text(item.conversation_id) || '#' + text(item.id);
  }

  function reasonLabel(item) {
    const labels = item.reason_label || {};
    return labels[state.lang] || labels.es || text(item.reason);
  }

  function safeToken(value, allowed, fallback) {
    return allowed.includes(value) ? value : fallback;
  }

  function channelBadge(channel) {
    const known = CHANNELS.includes(channel);
    return el('span', {
      class: 'badge badge-channel channel-' + (known ? channel : 'other'),
      testid: 'channel-badge',
      text: known ? CHANNEL_NAMES[channel] : text(channel) || '?',
    });
  }

  function priorityBadge(priority) {
    const known = safeToken(priority, PRIORITIES, null);
    return el('span', {
      class: 'badge badge-priority priority-' + (known || 'normal'),
      text: known ? t('priority.' + known) : text(priority),
    });
  }

  function statusBadge(status) {
    const known = safeToken(status, STATUSES, null);
    return el('span', {
      class: 'badge badge-status status-' + (known || 'other'),
      text: known ? t('status.' + known) : text(status),
    });
  }

  function setFilter(filter) {
    if (!FILTERS.includes(filter)) return;
    state.filter = filter;
    store(FILTER_KEY, filter);
    if (state.query) {
      state.query = '';
      $('search').value = '';
    }
    state.cases = [];
    state.queueLoaded = false;
    renderFilters();
    renderQueue();
    refreshQueue();
  }

  function onSearchInput() {
    window.clearTimeout(state.searchTimer);
    state.searchTimer = window.setTimeout(() => {
      const query = $('search').value.trim();
      if (query === state.query) return;
      state.query = query;
      state.queueLoaded = false;
      renderFilters();
      refreshQueue();
    }, SEARCH_DELAY_MS);
  }

  async function takeNext() {
    const button = $('take-next');
    button.disabled = true;
    try {
      const data = await api('POST', '/api/cases/next', {});
      if (data.case) {
        toast(t('queue.nextTaken', { name: displayName(data.case) }), 'success');
        await selectCase(data.case.id);
      }
      refreshQueue();
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) toast(t('queue.nextNone'));
      else reportError(error);
    } finally {
      button.disabled = false;
    }
  }

  // ---------------------------------------------------------------------------------------
  // Selecting and loading a case
  // ---------------------------------------------------------------------------------------

  function caseIdFromHash() {
    const match = /^#case=([\w-]+)$/.exec(window.location.hash);
    return match ? match[1] : null;
  }

  function setHash(id) {
    const url = window.location.pathname + window.location.search + (id ? '#case=' + encodeURIComponent(id) : '');
    window.history.replaceState(null, '', url);
  }

  async function selectCase(id) {
    const key = String(id);
    if (sameId(key, state.selectedId) && state.detail) {
      await loadDetail(false);
      return;
    }
    saveDraft();
    closeCanned();
    state.selectedId = key;
    state.detail = null;
    state.noteMode = false;
    state.auditOpen = false;
    state.unseen.delete(key);
    updateTitle();
    setHash(key);
    markSelectedRow();
    renderDetail(true);
    await loadDetail(true);
  }

  function markSelectedRow() {
    for (const row of $('queue').children) {
      const selected = sameId(row.dataset.caseId, state.selectedId);
      row.classList.toggle('is-selected', selected);
      row.classList.toggle('is-unseen', state.unseen.has(row.dataset.caseId));
      if (!state.unseen.has(row.dataset.caseId)) {
        const dot = row.querySelector('.new-dot');
        if (dot) dot.remove();
      }
      const button = row.querySelector('.queue-row');
      if (selected) button.setAttribute('aria-current', 'true');
      else button.removeAttribute('aria-current');
    }
  }

  async function loadDetail(switching) {
    const id = state.selectedId;
    if (id === null || !state.running) return;
    const seq = ++state.seq.detail;
    try {
      const data = await api('GET', casePath(id));
      if (seq !== state.seq.detail || !sameId(id, state.selectedId)) return;
      if (!data.case) throw new ApiError(500, t('error.generic', { status: 500 }), data);
      const first = state.detail === null;
      state.detail = normaliseDetail(data);
      renderDetail(switching || first);
    } catch (error) {
      if (seq !== state.seq.detail) return;
      reportError(error);
      if (error instanceof ApiError && error.status === 404) deselect();
    }
  }

  function normaliseDetail(data) {
    const list = (value) => (Array.isArray(value) ? value : []);
    return {
      case: data.case,
      customer: data.customer || {},
      history: list(data.history),
      notes: list(data.notes),
      earlier: list(data.earlier_cases),
      window: data.window || null,
      audit: list(data.audit),
      csat: data.csat || null,
      risk: data.risk || null,
    };
  }

  function deselect() {
    state.selectedId = null;
    state.detail = null;
    setHash(null);
    markSelectedRow();
    renderDetail(true);
  }

  // ---------------------------------------------------------------------------------------
  // Permissions
  // ---------------------------------------------------------------------------------------

  function currentCase() {
    return state.detail ? state.detail.case : null;
  }

  /**
   * Whether the server lists `action` for this user on this case (`allowed_actions`:
   * claim, reply, note, transfer, release, resolve, close). The server decides with the
   * rule its endpoints enforce (handoff/desk/permissions.py); the page only follows it.
   */
  function can(item, action) {
    return Boolean(item && Array.isArray(item.allowed_actions) && item.allowed_actions.includes(action));
  }

  // ---------------------------------------------------------------------------------------
  // Rendering the selected case
  // ---------------------------------------------------------------------------------------

  function renderDetail(switching) {
    const hasSelection = state.selectedId !== null;
    show($('thread-empty'), !hasSelection);
    show($('thread-wrap'), hasSelection);
    renderThreadHead();
    updateActions();
    renderThread(switching);
    if (switching) restoreDraft();
    renderComposer();
    renderCard();
  }

  function renderThreadHead() {
    const item = currentCase();
    const title = $('thread-title');
    const sub = $('thread-sub');
    if (!item) {
      title.textContent = state.selectedId !== null ? t('thread.loading') : '';
      sub.replaceChildren();
      return;
    }
    title.textContent = displayName(item);
    const parts = [channelBadge(item.channel), statusBadge(item.status)];
    if (item.customer_name && item.conversation_id) {
      parts.push(el('span', { class: 'mono', text: item.conversation_id }));
    }
    if (item.assignee_name) parts.push(el('span', { text: t('thread.assignedTo', { name: item.assignee_name }) }));
    else if (item.team) parts.push(el('span', { text: t('thread.team', { team: item.team }) }));
    sub.replaceChildren(...parts);
  }

  function updateActions() {
    const item = currentCase();
    const claimable = can(item, 'claim');
    show($('claim'), claimable);
    const reason = !item ? '' : item.status !== 'assigned' ? t('actions.notAssigned') : t('actions.onlyAssignee');
    const actions = { release: 'release', transfer: 'transfer', 'resolve-to-bot': 'resolve', 'close-case': 'close' };
    for (const [id, action] of Object.entries(actions)) {
      const allowed = can(item, action);
      const button = $(id);
      button.disabled = !allowed;
      button.title = allowed ? '' : reason;
    }
    $('claim').disabled = !claimable;
  }

  // ----- thread ---------------------------------------------------------------------------

  function renderThread(switching) {
    const box = $('thread');
    const detail = state.detail;
    if (!detail) {
      const loading = state.selectedId !== null;
      box.replaceChildren(loading ? el('p', { class: 'thread-note muted', text: t('thread.loading') }) : '');
      delete box.dataset.signature;
      return;
    }
    const signature = JSON.stringify([detail.case.id, state.lang, detail.history]);
    if (!switching && box.dataset.signature === signature) return;
    const nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 120;
    const previousTop = box.scrollTop;
    box.dataset.signature = signature;
    box.replaceChildren(...threadNodes(detail));
    if (switching || nearBottom) scrollToBottom(box);
    else box.scrollTop = previousTop;
  }

  function scrollToBottom(box) {
    box.scrollTop = box.scrollHeight;
    box.querySelectorAll('img').forEach((img) => {
      if (!img.complete) img.addEventListener('load', () => { box.scrollTop = box.scrollHeight; }, { once: true });
    });
  }

  function threadNodes(detail) {
    if (detail.history.length === 0) return [el('p', { class: 'thread-note muted', text: t('thread.empty') })];
    const nodes = [];
    let day = null;
    for (const message of detail.history) {
      const key = isTime(message.at) ? toDate(message.at).toDateString() : day;
      if (key && key !== day) {
        day = key;
        nodes.push(el('div', { class: 'day-sep', role: 'separator' }, el('span', { text: fmtDay(message.at) })));
      }
      nodes.push(messageNode(message, detail));
    }
    return nodes;
  }

  function messageNode(message, detail) {
    const source = safeToken(message.source, SOURCES, 'system');
    const direction = message.direction === 'out' ? 'out' : 'in';
    const failed = message.status === 'failed';
    const node = el('article', {
      class: ['msg', 'msg-' + source, 'msg-' + direction, failed ? 'is-failed' : ''].join(' ').trim(),
      testid: 'message',
      dataset: { source, direction, status: message.status, messageId: message.id },
    });
    append(node, [
      el('header', { class: 'msg-head' },
        el('span', { class: 'msg-author', text: authorOf(message, detail) }),
        el('time', { class: 'msg-time', title: fmtFull(message.at), text: fmtWhen(message.at) })),
      message.text ? el('p', { class: 'msg-text', text: message.text }) : null,
      mediaList(message.media, 'message-image'),
      message.location ? locationNode(message.location) : null,
      buttonChips(message.buttons),
      deliveryNode(message),
    ]);
    return node;
  }

  function authorOf(message, detail) {
    switch (message.source) {
      case 'customer':
        return text(detail.case.customer_name).trim() || text(detail.customer.name).trim() || t('source.customer');
      case 'bot':
        return t('source.bot');
      case 'agent':
        return text(message.author).trim() || t('source.agent');
      case 'handoff':
        return t('source.handoff');
      default:
        return text(message.author).trim() || t('source.system');
    }
  }

  function mediaList(media, imageTestid) {
    if (!Array.isArray(media) || media.length === 0) return null;
    return el('div', { class: 'msg-media' }, media.map((item) => mediaNode(item, imageTestid)));
  }

  function mediaKind(item) {
    if (MEDIA_KINDS.includes(item.kind)) return item.kind;
    const type = text(item.content_type).toLowerCase();
    if (type.startsWith('image/')) return 'image';
    if (type.startsWith('audio/')) return 'audio';
    if (type.startsWith('video/')) return 'video';
    return 'document';
  }

  function fileName(item, kind) {
    if (item.filename) return text(item.filename);
    const url = text(item.url);
    const last = url.split('?')[0].split('/').pop();
    if (last) {
      try {
        return decodeURIComponent(last);
      } catch {
        return last;
      }
    }
    return t('media.' + kind);
  }

  /** "PDF", "MP3"…: the file's extension, or the kind's tag when it has none. */
  function fileTag(name, kind) {
    const match = /\.([a-z0-9]{1,4})$/i.exec(name);
    return match ? match[1].toUpperCase() : MEDIA_TAGS[kind];
  }

  function mediaNode(item, imageTestid) {
    if (!item || typeof item !== 'object') return null;
    const kind = mediaKind(item);
    const name = fileName(item, kind);
    const url = safeMediaUrl(item.url);
    if (!url) {
      return el('span', { class: 'attachment is-blocked', text: t('media.unavailable', { name }) });
    }
    if (kind === 'image') {
      return el('a', { class: 'msg-image-link', href: url, target: '_blank', rel: 'noopener', title: name },
        el('img', {
          class: 'msg-image', src: url, alt: item.filename ? name : t('media.image'), loading: 'lazy', testid: imageTestid,
        }));
    }
    return el('a', {
      class: 'attachment attachment-' + kind,
      href: url,
      download: item.filename ? name : '',
      rel: 'noopener',
      testid: 'message-file',
    },
    el('span', { class: 'attachment-icon', 'aria-hidden': 'true', text: fileTag(name, kind) }),
    el('span', { class: 'attachment-name', text: name }),
    el('span', { class: 'attachment-kind', text: t('media.' + kind) }));
  }

  function locationNode(location) {
    const lat = numberOrNull(location.latitude);
    const lon = numberOrNull(location.longitude);
    const coords = lat !== null && lon !== null ? lat.toFixed(5) + ', ' + lon.toFixed(5) : '';
    const named = [location.name, location.address].map(text).filter(Boolean).join(' · ');
    const label = named || coords || t('thread.location');
    const url = osmUrl(lat, lon);
    const icon = el('span', { class: 'pin', 'aria-hidden': 'true' });
    if (!url) return el('span', { class: 'attachment location' }, icon, el('span', { text: label }));
    return el('a', {
      class: 'attachment location',
      href: url,
      target: '_blank',
      rel: 'noopener noreferrer',
      testid: 'message-location',
    },
    icon,
    el('span', { class: 'attachment-name', text: label }),
    el('span', { class: 'attachment-kind', text: t('thread.openMap') }));
  }

  function buttonChips(buttons) {
    if (!Array.isArray(buttons) || buttons.length === 0) return null;
    return el('ul', { class: 'chips', 'aria-label': t('thread.buttons') },
      buttons.map((button) => el('li', {
        class: 'chip',
        testid: 'bot-button',
        title: text(button && button.payload) || null,
        text: text(button && (button.title || button.payload)),
      })));
  }

  function deliveryNode(message) {
    const status = safeToken(message.status, DELIVERY, null);
    if (!status) return null;
    const footer = el('footer', { class: 'msg-foot' },
      el('span', { class: 'delivery delivery-' + status, testid: 'message-status', dataset: { status } },
        el('span', { class: 'delivery-icon', 'aria-hidden': 'true', text: DELIVERY_ICONS[status] }),
        t('delivery.' + status)));
    if (status === 'failed') {
      footer.append(el('p', { class: 'msg-error', testid: 'message-error' },
        t('delivery.error'), text(message.error) || t('delivery.unknownError')));
    }
    return footer;
  }

  // ----- composer -------------------------------------------------------------------------

  function saveDraft() {
    if (state.selectedId === null) return;
    const value = $('reply-text').value;
    if (value) state.drafts.set(state.selectedId, value);
    else state.drafts.delete(state.selectedId);
  }

  function restoreDraft() {
    $('reply-text').value = state.selectedId !== null ? state.drafts.get(state.selectedId) || '' : '';
  }

  function renderComposer() {
    const item = currentCase();
    const textarea = $('reply-text');
    const send = $('reply-send');
    const toggle = $('note-toggle');
    const banner = $('composer-banner');
    const hint = $('composer-hint');
    const composer = $('composer');
    const noteMode = state.noteMode;
    const workable = can(item, 'reply');

    composer.classList.toggle('is-note', noteMode);
    toggle.setAttribute('aria-pressed', String(noteMode));
    toggle.disabled = !item;
    $('canned-toggle').disabled = !item || (!noteMode && !workable);
    $('reply-label').textContent = t(noteMode ? 'reply.noteLabel' : 'reply.label');
    textarea.setAttribute('placeholder', t(noteMode ? 'reply.notePlaceholder' : 'reply.placeholder'));
    send.textContent = t(noteMode ? 'reply.saveNote' : 'reply.send');

    const enabled = Boolean(item) && (noteMode || workable) && !state.sending;
    textarea.disabled = !enabled;
    send.disabled = !enabled;

    const message = composerBanner(item, noteMode, workable);
    banner.replaceChildren();
    banner.className = 'composer-banner';
    if (message) {
      banner.textContent = message.text;
      banner.classList.add('is-' + message.kind);
    }
    show(banner, Boolean(message));
    hint.replaceChildren(composerHint(item, noteMode, workable) || '');
  }

  function composerBanner(item, noteMode, workable) {
    if (!item) return null;
    if (noteMode) return { kind: 'note', text: t('reply.noteHint') };
    if (!workable) {
      if (item.status === 'queued') return { kind: 'info', text: t('reply.claimFirst') };
      if (item.status === 'assigned') {
        return { kind: 'info', text: t('reply.otherAgent', { name: item.assignee_name || '?' }) };
      }
      const status = t('status.' + safeToken(item.status, STATUSES, 'closed')).toLowerCase();
      return { kind: 'info', text: t('reply.finished', { status }) };
    }
    const win = state.detail.window;
    if (win && win.open === false) {
      const ch = windowName(item, win);
      return { kind: 'danger', text: t(win.template === false ? 'window.closedNoTemplate' : 'window.closed', { ch }) };
    }
    return null;
  }

  function composerHint(item, noteMode, workable) {
    if (!item || noteMode || !workable) return null;
    const win = state.detail.window;
    if (!win || !win.open || !isTime(win.closes_at)) return null;
    if (win.closes_at - nowSeconds() > 3 * 3600) return null;
    return countdown(win.closes_at, 'window', windowName(item, win));
  }

  function toggleNoteMode(force) {
    state.noteMode = typeof force === 'boolean' ? force : !state.noteMode;
    renderComposer();
    $('reply-text').focus();
  }

  function onReplyKey(event) {
    const modified = event.shiftKey || event.altKey || event.ctrlKey || event.metaKey;
    if (event.key === 'Enter' && !modified && !event.isComposing) {
      event.preventDefault();
      submitComposer();
    } else if (event.key === 'Escape') {
      closeCanned();
    }
  }

  async function submitComposer(event) {
    if (event) event.preventDefault();
    const textarea = $('reply-text');
    const message = textarea.value.trim();
    const item = currentCase();
    if (!message || !item || state.sending) return;
    if (state.noteMode) {
      await postNote(message, () => {
        textarea.value = '';
        state.drafts.delete(String(item.id));
      });
      return;
    }
    if (!can(item, 'reply')) return;
    if (/\{(nombre|pedido)\}/.test(message)) {
      toast(t('reply.missing', { what: missingPlaceholders(message) }), 'error');
      return;
    }
    const win = state.detail.window;
    let sendTemplate = false;
    if (win && win.open === false) {
      const ch = windowName(item, win);
      const question = t('window.confirmTitle', { ch }) + '\n\n'
        + t(win.template === false ? 'window.confirmNoTemplate' : 'window.confirmBody');
      if (!window.confirm(question)) return;
      sendTemplate = true;
    }
    await sendReply(item, message, sendTemplate);
  }

  async function sendReply(item, message, sendTemplate) {
    const body = sendTemplate ? { text: message, send_template: true } : { text: message };
    state.sending = true;
    renderComposer();
    try {
      await api('POST', casePath(item.id, 'messages'), body);
      if (sameId(item.id, state.selectedId)) $('reply-text').value = '';
      state.drafts.delete(String(item.id));
      if (sendTemplate) toast(t('reply.templateSent'), 'success');
      loadDetail(false);
    } catch (error) {
      if (error instanceof ApiError && error.status === 409 && error.data && error.data.window && state.detail) {
        state.detail.window = error.data.window; // the window closed meanwhile: say so
      }
      reportError(error);
    } finally {
      state.sending = false;
      if (state.running) {
        renderComposer();
        $('reply-text').focus();
      }
    }
  }

  function missingPlaceholders(message) {
    const missing = [];
    if (message.includes('{nombre}')) missing.push(t('reply.missingName'));
    if (message.includes('{pedido}')) missing.push(t('reply.missingOrder'));
    return missing.join(', ');
  }

  // ----- canned replies -------------------------------------------------------------------

  async function toggleCanned() {
    const panel = $('canned');
    if (!panel.hidden) {
      closeCanned();
      return;
    }
    const item = currentCase();
    if (!item) return;
    const language = item.language || state.lang;
    show(panel, true);
    $('canned-toggle').setAttribute('aria-expanded', 'true');
    $('canned-filter').value = '';
    renderCannedList([], true);
    if (!state.canned.has(language)) {
      try {
        const data = await api('GET', '/api/canned?language=' + encodeURIComponent(language));
        state.canned.set(language, Array.isArray(data.canned) ? data.canned : []);
      } catch (error) {
        reportError(error);
        closeCanned();
        return;
      }
    }
    if (panel.hidden) return;
    panel.dataset.language = language;
    renderCannedList(state.canned.get(language), false);
    $('canned-filter').focus();
  }

  function closeCanned() {
    const panel = $('canned');
    if (panel.hidden) return;
    show(panel, false);
    $('canned-toggle').setAttribute('aria-expanded', 'false');
  }

  function renderCannedList(items, loading) {
    const list = $('canned-list');
    if (loading) {
      list.replaceChildren(el('li', { class: 'canned-empty muted', text: t('app.loading') }));
      return;
    }
    const query = $('canned-filter').value.trim().toLowerCase();
    const shown = items.filter((c) => !query
      || text(c.title).toLowerCase().includes(query) || text(c.text).toLowerCase().includes(query));
    if (shown.length === 0) {
      list.replaceChildren(el('li', { class: 'canned-empty muted', text: t('reply.cannedEmpty') }));
      return;
    }
    list.replaceChildren(...shown.map((c) => el('li', {},
      el('button', { type: 'button', class: 'canned-item', testid: 'canned-item', onclick: () => insertCanned(c) },
        el('span', { class: 'canned-title', text: c.title }),
        el('span', { class: 'canned-text', text: c.text })))));
  }

  function filterCanned() {
    const language = $('canned').dataset.language;
    if (language && state.canned.has(language)) renderCannedList(state.canned.get(language), false);
  }

  /** Fill `{nombre}` and `{pedido}` from the case and put the text at the cursor. */
  function insertCanned(canned) {
    const item = currentCase();
    if (!item) return;
    const filled = fillCanned(text(canned.text), item);
    const textarea = $('reply-text');
    closeCanned();
    const start = textarea.selectionStart ?? textarea.value.length;
    const end = textarea.selectionEnd ?? textarea.value.length;
    textarea.setRangeText(filled, start, end, 'end');
    textarea.focus();
    saveDraft();
    if (/\{(nombre|pedido)\}/.test(filled)) {
      toast(t('reply.missing', { what: missingPlaceholders(filled) }), 'warning');
    }
  }

  function fillCanned(template, item) {
    const name = text(item.customer_name).trim() || text(state.detail.customer.name).trim();
    const order = currentSlotText(item, 'order_id').trim();
    return template
      .replace(/\{nombre\}/g, name || '{nombre}')
      .replace(/\{pedido\}/g, order || '{pedido}');
  }

  // ----- confirmations and forms in a dialog ----------------------------------------------

  let dialogState = null;

  /**
   * Show the dialog. `onConfirm` may return false (stay open) or throw (the error is shown in
   * the dialog). Resolves to true when confirmed.
   */
  function openDialog({ title, content, confirm, danger, onConfirm }) {
    const dialog = $('dialog');
    if (dialog.open) dialog.close('cancel');
    $('dialog-title').textContent = title;
    $('dialog-body').replaceChildren(...content);
    const error = $('dialog-error');
    show(error, false);
    const button = $('dialog-confirm');
    button.textContent = confirm;
    button.className = 'btn ' + (danger ? 'btn-danger' : 'btn-primary');
    button.disabled = false;
    return new Promise((resolve) => {
      dialogState = { resolve, onConfirm };
      dialog.showModal();
      const first = $('dialog-body').querySelector('input, select, textarea');
      (first || button).focus();
    });
  }

  async function onDialogSubmit(event) {
    event.preventDefault();
    if (!dialogState) return;
    const button = $('dialog-confirm');
    const error = $('dialog-error');
    const current = dialogState;
    show(error, false);
    if (current.onConfirm) {
      button.disabled = true;
      try {
        const result = await current.onConfirm();
        if (result === false) return;
      } catch (failure) {
        if (failure instanceof ApiError && failure.status === 401) return;
        error.textContent = failure.message;
        show(error, true);
        return;
      } finally {
        button.disabled = false;
      }
    }
    if (dialogState !== current) return;
    dialogState = null;
    $('dialog').close('confirm');
    current.resolve(true);
  }

  function onDialogClose() {
    if (!dialogState) return;
    const current = dialogState;
    dialogState = null;
    current.resolve(false);
  }

  function dialogFail(message) {
    const error = $('dialog-error');
    error.textContent = message;
    show(error, true);
    return false;
  }

  // ----- actions --------------------------------------------------------------------------

  async function claimCase() {
    const item = currentCase();
    if (!item) return;
    const data = await attempt(() => api('POST', casePath(item.id, 'claim'), {}), $('claim'));
    if (!data) {
      loadDetail(false); // someone else may have it now: show who
      refreshQueue();
      return;
    }
    toast(t('claim.done'), 'success');
    forgetQueued(String(item.id));
    await loadDetail(false);
    refreshQueue();
    $('reply-text').focus();
  }

  async function releaseCase() {
    const item = currentCase();
    if (!item) return;
    const data = await attempt(() => api('POST', casePath(item.id, 'release'), {}), $('release'));
    if (!data) return;
    toast(t('release.done'), 'success');
    await loadDetail(false);
    refreshQueue();
  }

  async function transferCase() {
    const item = currentCase();
    if (!item) return;
    let agents = [];
    try {
      const data = await api('GET', '/api/agents');
      agents = Array.isArray(data.agents) ? data.agents : [];
    } catch (error) {
      reportError(error);
      return;
    }
    const form = transferForm(agents);
    const done = await openDialog({
      title: t('transfer.title'),
      content: [form.node],
      confirm: t('transfer.confirm'),
      onConfirm: async () => {
        const body = form.body();
        if (!body) return false;
        await api('POST', casePath(item.id, 'transfer'), body);
        return true;
      },
    });
    if (!done) return;
    toast(t('transfer.done'), 'success');
    await loadDetail(false);
    refreshQueue();
  }

  function transferForm(agents) {
    const name = 'transfer-mode-' + Date.now();
    const toAgent = el('input', { type: 'radio', name, value: 'agent', checked: true, testid: 'transfer-mode-agent' });
    const toTeam = el('input', { type: 'radio', name, value: 'team', testid: 'transfer-mode-team' });
    const others = agents.filter((a) => !(state.me && sameId(a.id, state.me.id)));
    const select = el('select', { class: 'input', testid: 'transfer-agent' },
      el('option', { value: '', text: t('transfer.pickAgent') }),
      others.map((a) => el('option', { value: String(a.id), text: agentOptionLabel(a) })));
    const teams = [...new Set(agents.map((a) => text(a.team)).filter(Boolean))].sort();
    const listId = 'transfer-teams-' + Date.now();
    const team = el('input', {
      type: 'text', class: 'input', list: listId, autocomplete: 'off', testid: 'transfer-team',
    });
    const datalist = el('datalist', { id: listId }, teams.map((v) => el('option', { value: v })));
    const sync = () => {
      select.disabled = !toAgent.checked;
      team.disabled = !toTeam.checked;
    };
    toAgent.addEventListener('change', sync);
    toTeam.addEventListener('change', sync);
    sync();
    const node = el('div', { class: 'transfer-form' },
      el('fieldset', { class: 'radio-group' },
        el('legend', { class: 'visually-hidden', text: t('transfer.title') }),
        el('label', { class: 'radio' }, toAgent, t('transfer.toAgent')),
        el('label', { class: 'radio' }, toTeam, t('transfer.toTeam'))),
      el('label', { class: 'field' }, el('span', { class: 'field-label', text: t('transfer.agent') }), select),
      el('label', { class: 'field' }, el('span', { class: 'field-label', text: t('transfer.team') }), team, datalist));
    const body = () => {
      if (toAgent.checked) {
        if (!select.value) return dialogFail(t('transfer.needAgent'));
        const picked = others.find((a) => sameId(a.id, select.value));
        return { agent: picked ? picked.id : select.value };
      }
      const value = team.value.trim();
      if (!value) return dialogFail(t('transfer.needTeam'));
      return { team: value };
    };
    return { node, body };
  }

  function agentOptionLabel(agent) {
    const parts = [text(agent.display_name) || text(agent.username)];
    if (agent.team) parts.push(text(agent.team));
    if (typeof agent.load === 'number' && typeof agent.capacity === 'number') {
      parts.push(t('transfer.load', { load: agent.load, cap: agent.capacity }));
    }
    if (agent.available === false) parts.push(t('transfer.away'));
    return parts.join(' · ');
  }

  /**
   * Resolve (back to the bot) or close the case, with the outcome and the corrected data
   * from the card, after a plain confirmation that lists what will be sent.
   */
  async function finishCase(returnToBot) {
    const item = currentCase();
    if (!item || !can(item, returnToBot ? 'resolve' : 'close')) return;
    const key = String(item.id);
    const corrections = can(item, 'resolve') ? collectCorrections(item) : {};
    const outcome = (state.outcomes.get(key) || '').trim();
    if (!window.confirm(finishQuestion(returnToBot, corrections, outcome))) return;
    const body = { return_to_bot: returnToBot };
    if (outcome) body.outcome = outcome;
    if (Object.keys(corrections).length) body.corrections = corrections;
    const button = $(returnToBot ? 'resolve-to-bot' : 'close-case');
    const data = await attempt(() => api('POST', casePath(item.id, 'resolve'), body), button);
    if (!data) return;
    for (const map of [state.edits, state.drafts, state.outcomes]) map.delete(key);
    if (sameId(item.id, state.selectedId)) $('reply-text').value = '';
    toast(t(returnToBot ? 'resolve.done' : 'close.done'), 'success');
    await loadDetail(false);
    refreshQueue();
  }

  function finishQuestion(returnToBot, corrections, outcome) {
    const lines = [t(returnToBot ? 'resolve.question' : 'close.question'), ''];
    const entries = Object.entries(corrections);
    if (entries.length) {
      lines.push(t('resolve.corrections') + ':');
      for (const [slot, value] of entries) lines.push('• ' + slotLabel(slot) + ': ' + (value === null ? '—' : valueText(value)));
    } else {
      lines.push(t('resolve.noCorrections'));
    }
    if (outcome) lines.push('', t('card.outcome') + ': ' + outcome);
    return lines.join('\n');
  }

  // ---------------------------------------------------------------------------------------
  // Collected data (editable) and corrections
  // ---------------------------------------------------------------------------------------

  function editsFor(caseId) {
    const key = String(caseId);
    if (!state.edits.has(key)) state.edits.set(key, {});
    return state.edits.get(key);
  }

  function valueText(value) {
    if (value === null || value === undefined) return '';
    if (typeof value === 'boolean') return value ? 'true' : 'false';
    if (typeof value === 'object') return JSON.stringify(value);
    return String(value);
  }

  function slotType(slot, original) {
    if (typeof original === 'boolean') return 'bool';
    if (typeof original === 'number') return 'number';
    if (original !== null && typeof original === 'object') return 'json';
    return slotFacts(slot).type || 'text';
  }

  function slotLabel(slot) {
    const facts = slotFacts(slot);
    const label = state.lang === 'en' ? facts.en : facts.es;
    return typeof label === 'string' && label ? label : slot.replace(/_/g, ' ');
  }

  /** A slot's labels and type, as the case view sent them (handoff/slots.py). */
  function slotFacts(slot) {
    const slots = state.detail && state.detail.slots;
    const facts = slots && typeof slots === 'object' && Object.hasOwn(slots, slot) ? slots[slot] : null;
    return facts && typeof facts === 'object' ? facts : {};
  }

  /** The slot's value as the agent sees it now (their edit, or what the bot collected). */
  function currentSlotText(item, slot) {
    const edits = state.edits.get(String(item.id)) || {};
    if (slot in edits) return edits[slot];
    return valueText((item.collected || {})[slot]);
  }

  function parseSlotValue(slot, raw, original) {
    const value = raw.trim();
    if (value === '') return null;
    const type = slotType(slot, original);
    if (type === 'bool') return value === 'true';
    if (type === 'number') {
      const parsed = Number(value.replace(',', '.'));
      return Number.isFinite(parsed) ? parsed : value;
    }
    return value;
  }

  /** Only the fields the agent changed, typed like the originals. */
  function collectCorrections(item) {
    const collected = item.collected || {};
    const corrections = {};
    for (const [slot, raw] of Object.entries(state.edits.get(String(item.id)) || {})) {
      const original = collected[slot];
      if (raw.trim() === valueText(original).trim()) continue;
      if (raw.trim() === '' && (original === undefined || original === null)) continue;
      corrections[slot] = parseSlotValue(slot, raw, original);
    }
    return corrections;
  }

  function collectedSection(detail) {
    const item = detail.case;
    const collected = item.collected && typeof item.collected === 'object' ? item.collected : {};
    const edits = editsFor(item.id);
    const editable = can(item, 'resolve'); // corrections go with "Resolver"
    const slots = [...new Set([...Object.keys(collected), ...Object.keys(edits)])];
    const body = [];
    if (slots.length === 0) body.push(el('p', { class: 'muted small', text: t('card.collectedEmpty') }));
    else body.push(el('p', { class: 'muted small', text: t(editable ? 'card.collectedHint' : 'card.collectedReadonly') }));
    const form = el('form', {
      class: 'collected', testid: 'collected', novalidate: true, onsubmit: (e) => e.preventDefault(),
    },
      // Only the customer's data can be corrected; proofs and the bot's state are read-only.
      slots.map((slot) => collectedField(
        item, slot, collected[slot], editable && (item.correctable || []).includes(slot))));
    body.push(form);
    if (editable) body.push(addFieldRow(item, slots));
    return section('card.collected', body, 'card-collected');
  }

  function collectedField(item, slot, original, editable) {
    const edits = editsFor(item.id);
    const type = slotType(slot, original);
    const current = slot in edits ? edits[slot] : valueText(original);
    const id = 'slot-' + (++fieldCounter);
    const input = fieldInput(type, current, editable);
    Object.assign(input, { id });
    setData(input, { testid: 'collected-field', slot, focusKey: 'slot:' + slot });
    const wrapper = el('div', { class: 'slot-field' });
    const undo = el('button', {
      type: 'button', class: 'link-btn', text: t('card.undo'),
      'aria-label': t('card.undoLabel', { field: slotLabel(slot) }),
    });
    const refresh = () => {
      const changed = slot in edits && edits[slot].trim() !== valueText(original).trim();
      wrapper.classList.toggle('is-modified', changed);
      show(undo, changed && editable);
    };
    input.addEventListener(type === 'bool' ? 'change' : 'input', () => {
      edits[slot] = input.value;
      refresh();
    });
    undo.addEventListener('click', () => {
      delete edits[slot];
      if (original === undefined) {
        wrapper.remove();
        renderCard();
        return;
      }
      input.value = valueText(original);
      refresh();
      input.focus();
    });
    append(wrapper, [
      el('label', { class: 'slot-label', for: id },
        el('span', { text: slotLabel(slot) }),
        el('span', { class: 'slot-key', text: slot })),
      input,
      el('span', { class: 'slot-state' }, el('span', { class: 'slot-modified', text: t('card.modified') }), undo),
    ]);
    refresh();
    return wrapper;
  }

  let fieldCounter = 0;

  function fieldInput(type, current, editable) {
    if (type === 'bool') {
      return el('select', { class: 'input', disabled: !editable, value: current },
        el('option', { value: '', text: t('card.boolUnset') }),
        el('option', { value: 'true', text: t('card.yes') }),
        el('option', { value: 'false', text: t('card.no') }));
    }
    if (type === 'json' || current.length > 60 || current.includes('\n')) {
      return el('textarea', { class: 'input', rows: '2', readonly: !editable || type === 'json', value: current });
    }
    return el('input', {
      type: 'text', class: 'input', readonly: !editable, value: current, autocomplete: 'off',
      inputmode: type === 'number' ? 'decimal' : null,
    });
  }

  /** What was settled, sent with "Resolver" or "Cerrar" (the bot reads it when it takes over). */
  function outcomeSection(detail) {
    const item = detail.case;
    if (!can(item, 'close')) return null;
    const key = String(item.id);
    const id = 'outcome-' + (++fieldCounter);
    const textarea = el('textarea', {
      class: 'input', id, rows: '2', testid: 'outcome', value: state.outcomes.get(key) || '',
      placeholder: t('card.outcomePlaceholder'), dataset: { focusKey: 'outcome' },
    });
    textarea.addEventListener('input', () => state.outcomes.set(key, textarea.value));
    return section('card.outcome', [
      el('label', { class: 'muted small', for: id, text: t('card.outcomeHint') }),
      textarea,
    ], 'card-outcome');
  }

  function addFieldRow(item, present) {
    const addable = Array.isArray(state.detail.addable_slots) ? state.detail.addable_slots : [];
    const candidates = addable.filter((slot) => typeof slot === 'string' && !present.includes(slot));
    if (candidates.length === 0) return null;
    const id = 'add-slot-' + (++fieldCounter);
    const select = el('select', { class: 'input', id, testid: 'collected-add-slot', dataset: { focusKey: 'add-slot' } },
      candidates.map((slot) => el('option', { value: slot, text: slotLabel(slot) })));
    const add = el('button', { type: 'button', class: 'btn btn-small', testid: 'collected-add', text: t('card.add') });
    add.addEventListener('click', () => {
      editsFor(item.id)[select.value] = '';
      const slot = select.value;
      renderCard();
      const input = document.querySelector('[data-testid="collected-field"][data-slot="' + CSS.escape(slot) + '"]');
      if (input) input.focus();
    });
    return el('details', { class: 'add-field' },
      el('summary', { text: t('card.addField') }),
      el('div', { class: 'add-field-row' },
        el('label', { class: 'visually-hidden', for: id, text: t('card.addFieldSlot') }), select, add));
  }

  // ---------------------------------------------------------------------------------------
  // Case card
  // ---------------------------------------------------------------------------------------

  function renderCard() {
    const body = $('card-body');
    const detail = state.detail;
    if (!detail) {
      const message = state.selectedId !== null ? t('thread.loading') : t('card.none');
      body.replaceChildren(el('p', { class: 'muted card-empty', text: message }));
      return;
    }
    const focus = captureFocus(body);
    const scroll = body.scrollTop;
    body.replaceChildren(...[
      caseSection(detail),
      windowSection(detail),
      collectedSection(detail),
      outcomeSection(detail),
      customerSection(detail),
      summarySection(detail),
      filesSection(detail),
      notesSection(detail),
      earlierSection(detail),
      auditSection(detail),
      privacySection(detail),
    ].filter(Boolean));
    body.scrollTop = scroll;
    restoreFocus(body, focus);
  }

  function captureFocus(root) {
    const active = document.activeElement;
    if (!active || !root.contains(active) || !active.dataset.focusKey) return null;
    const saved = { key: active.dataset.focusKey };
    if (typeof active.selectionStart === 'number') {
      saved.start = active.selectionStart;
      saved.end = active.selectionEnd;
    }
    return saved;
  }

  function restoreFocus(root, saved) {
    if (!saved) return;
    const node = root.querySelector('[data-focus-key="' + CSS.escape(saved.key) + '"]');
    if (!node) return;
    node.focus();
    if (typeof saved.start === 'number' && typeof node.setSelectionRange === 'function') {
      try {
        node.setSelectionRange(saved.start, saved.end);
      } catch {
        // Not a text field.
      }
    }
  }

  function section(titleKey, content, testid, titleText) {
    return el('section', { class: 'card-section', testid },
      el('h3', { class: 'card-section-title', text: titleText || t(titleKey) }),
      content);
  }

  function definitionList(rows) {
    return el('dl', { class: 'facts' }, rows.filter(Boolean).map(([label, value]) => el('div', { class: 'fact' },
      el('dt', { text: label }),
      el('dd', {}, value))));
  }

  function caseSection(detail) {
    const item = detail.case;
    const open = item.status === 'queued' || item.status === 'assigned';
    return section('card.case', definitionList([
      [t('card.reason'), el('span', { testid: 'case-reason', text: reasonLabel(item) })],
      [t('card.priority'), priorityBadge(item.priority)],
      [t('card.status'), statusBadge(item.status)],
      [t('card.assignee'), item.assignee_name || t('queue.unassigned')],
      item.team ? [t('card.team'), item.team] : null,
      [t('card.created'), el('time', { title: fmtFull(item.created_at), text: fmtWhen(item.created_at) })],
      [t('card.sla'), slaValue(item, open)],
      item.outcome ? [t('card.outcome'), el('span', { class: 'pre', text: item.outcome })] : null,
      csatRow(detail.csat),
      detail.csat && detail.csat.comment
        ? [t('card.csatComment'), el('span', { class: 'pre', testid: 'case-csat-comment', text: detail.csat.comment })]
        : null,
      riskRow(detail.risk),
    ]), 'card-case', t('card.case') + ' #' + text(item.id));
  }

  /** The customer's risk of leaving (handoff/risk.py): the points and every reason, or nothing. */
  function riskRow(risk) {
    if (!risk || !Array.isArray(risk.reasons) || !risk.reasons.length) return null;
    const lang = state.lang === 'en' ? 'en' : 'es';
    const reasons = risk.reasons.map((reason) => text(reason[lang]) + ' ×' + reason.count + ' (+' + reason.points + ')');
    return [t('card.risk'), el('span', {
      class: risk.listed ? 'risk-listed' : 'muted', testid: 'case-risk',
      text: t('card.riskValue', { score: risk.score, reasons: reasons.join('; ') }),
    })];
  }

  /** The customer's satisfaction after the case (handoff/csat.py): score, or why there is none. */
  function csatRow(csat) {
    if (!csat) return null;
    let value;
    if (Number.isInteger(csat.score)) {
      value = el('span', { testid: 'case-csat', title: fmtFull(csat.answered_at), text: '⭐'.repeat(csat.score) + ' ' + csat.score + '/5' });
    } else if (csat.skipped) {
      value = el('span', { class: 'muted', testid: 'case-csat', text: t('card.csatSkipped', { why: csat.skipped }) });
    } else if (isTime(csat.asked_at)) {
      value = el('span', { class: 'muted', testid: 'case-csat', text: t('card.csatAsked') });
    } else {
      return null;
    }
    return [t('card.csat'), value];
  }

  function slaValue(item, open) {
    if (isTime(item.first_reply_at)) return t('card.firstReply', { t: fmtWhen(item.first_reply_at) });
    if (!isTime(item.sla_due_at)) return '—';
    const due = el('span', { text: t('card.slaDue', { t: fmtWhen(item.sla_due_at) }) });
    if (!open) return due;
    return el('span', { class: 'stack' }, due, countdown(item.sla_due_at, 'due'));
  }

  function windowSection(detail) {
    const win = detail.window;
    if (!win) return null;
    const item = detail.case;
    const ch = windowName(item, win);
    if (win.kind === 'none') {
      const none = el('p', { class: 'small', testid: 'window-state', dataset: { open: 'true' }, text: t('card.windowNone') });
      return section('card.window', none, 'card-window');
    }
    const closing = win.open && isTime(win.closes_at);
    const stateNode = el('span', { class: 'stack' },
      el('span', {
        class: win.open ? 'pill pill-ok' : 'pill pill-danger',
        testid: 'window-state',
        dataset: { open: String(Boolean(win.open)) },
        text: t(win.open ? 'card.windowOpen' : 'card.windowClosed'),
      }),
      closing ? el('span', { class: 'small', text: t('card.windowUntil', { t: fmtWhen(win.closes_at) }) }) : null,
      closing ? countdown(win.closes_at, 'window', ch) : null);
    return section('card.window', definitionList([
      [t('card.windowKind'), ch],
      [t('card.window'), stateNode],
      [t('card.template'), t(win.template ? 'card.yes' : 'card.no')],
    ]), 'card-window');
  }

  function customerSection(detail) {
    const customer = detail.customer || {};
    const identities = Array.isArray(customer.identities) ? customer.identities : [];
    const rows = definitionList([
      [t('card.name'), text(customer.name) || text(detail.case.customer_name) || '—'],
      customer.phone ? [t('card.phone'), el('span', { class: 'mono', text: customer.phone })] : null,
    ]);
    const list = identities.length ? el('div', {},
      el('p', { class: 'field-label', text: t('card.identities') }),
      el('ul', { class: 'identities' }, identities.map(identityItem))) : null;
    return section('card.customer', [rows, list], 'card-customer');
  }

  function identityItem(identity) {
    const seen = identity.last_inbound_at;
    return el('li', { class: 'identity', testid: 'identity' },
      channelBadge(identity.channel),
      el('span', { class: 'identity-main' },
        el('span', { text: text(identity.display_name) || text(identity.conversation_id) }),
        identity.display_name ? el('span', { class: 'mono small muted', text: identity.conversation_id }) : null,
        isTime(seen)
          ? el('span', { class: 'small muted', title: fmtFull(seen), text: t('card.lastInbound', { t: fmtAgo(seen) }) })
          : null));
  }

  function summarySection(detail) {
    const summary = text(detail.case.summary).trim();
    if (!summary) return null;
    const body = el('p', { class: 'pre summary', testid: 'case-summary', text: summary });
    return section('card.summary', body, 'card-summary');
  }

  function filesSection(detail) {
    const media = Array.isArray(detail.case.media) ? detail.case.media : [];
    if (media.length === 0) return null;
    const files = el('div', { class: 'msg-media card-files' }, media.map((m) => mediaNode(m, 'case-file-image')));
    return section('card.files', files, 'card-files');
  }

  function notesSection(detail) {
    const item = detail.case;
    const key = String(item.id);
    const list = detail.notes.length
      ? el('ul', { class: 'notes' }, detail.notes.map((note) => el('li', { class: 'note', testid: 'note' },
        el('div', { class: 'note-head' },
          el('span', { class: 'note-author', text: text(note.agent) || t('source.agent') }),
          el('time', { class: 'muted small', title: fmtFull(note.at), text: fmtWhen(note.at) })),
        el('p', { class: 'pre', text: note.text }))))
      : el('p', { class: 'muted small', text: t('card.notesNone') });
    const id = 'note-text-' + (++fieldCounter);
    const textarea = el('textarea', {
      class: 'input', id, rows: '2', testid: 'note-text', value: state.noteDrafts.get(key) || '',
      placeholder: t('card.notePlaceholder'),
      dataset: { focusKey: 'note-text' },
    });
    textarea.addEventListener('input', () => state.noteDrafts.set(key, textarea.value));
    const button = el('button', {
      type: 'submit', class: 'btn btn-small', testid: 'note-add', text: t('card.noteAdd'),
    });
    const form = el('form', { class: 'note-form', novalidate: true },
      el('label', { class: 'visually-hidden', for: id, text: t('card.noteText') }), textarea, button);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const value = textarea.value.trim();
      if (!value) return;
      await postNote(value, () => state.noteDrafts.delete(key), button);
    });
    return section('card.notes', [list, form], 'card-notes');
  }

  async function postNote(value, onSaved, button) {
    const item = currentCase();
    if (!item) return;
    const send = () => api('POST', casePath(item.id, 'notes'), { text: value });
    const data = await attempt(send, button || $('reply-send'));
    if (!data) return;
    onSaved();
    toast(t('card.noteSaved'), 'success');
    if (sameId(item.id, state.selectedId) && state.detail) {
      if (data.note) state.detail.notes = [...state.detail.notes, data.note];
      renderCard();
      loadDetail(false);
    }
  }

  function earlierSection(detail) {
    const earlier = detail.earlier.filter((c) => !sameId(c.id, detail.case.id));
    const body = earlier.length
      ? el('ul', { class: 'earlier' }, earlier.map((c) => el('li', {},
        el('button', {
          type: 'button', class: 'earlier-case', testid: 'earlier-case', dataset: { caseId: c.id },
          onclick: () => selectCase(c.id),
        },
        el('span', { class: 'row-line' },
          el('span', { class: 'earlier-date', text: fmtWhen(c.created_at) }),
          channelBadge(c.channel),
          statusBadge(c.status)),
        el('span', { class: 'earlier-reason', text: reasonLabel(c) }),
        c.outcome ? el('span', { class: 'earlier-outcome muted small', text: c.outcome }) : null))))
      : el('p', { class: 'muted small', text: t('card.earlierNone') });
    return section('card.earlier', body, 'card-earlier');
  }

  /** Admins only: the person's access and erasure requests (docs/privacy.md). */
  function privacySection(detail) {
    if (!isAdmin()) return null;
    const item = detail.case;
    if (String(item.conversation_id || '').startsWith('erased:')) return null;
    return section('privacy.title', [
      el('p', { class: 'muted small', text: t('privacy.hint') }),
      el('div', { class: 'privacy-actions' },
        el('button', {
          type: 'button', class: 'btn btn-small', testid: 'privacy-export', text: t('privacy.export'),
          onclick: () => exportPerson(item),
        }),
        el('button', {
          type: 'button', class: 'btn btn-small btn-danger-ghost', testid: 'privacy-erase',
          text: t('privacy.erase'), onclick: () => erasePerson(item),
        })),
    ], 'card-privacy');
  }

  /** The reason field and the confirmation box every privacy request asks for. */
  function privacyForm(intro, confirmKey, extra) {
    const reasonId = 'privacy-reason-' + (++fieldCounter);
    const reason = el('textarea', {
      class: 'input', id: reasonId, rows: '2', testid: 'privacy-reason', maxlength: '500',
      placeholder: t('privacy.reasonPlaceholder'),
    });
    const confirm = el('input', { type: 'checkbox', testid: 'privacy-confirm' });
    const node = el('div', { class: 'privacy-form' },
      el('p', { text: intro }),
      extra || null,
      el('label', { class: 'field' }, el('span', { class: 'field-label', text: t('privacy.reason') }), reason),
      el('label', { class: 'radio' }, confirm, t(confirmKey)));
    const body = () => {
      const value = reason.value.trim();
      if (!value) return dialogFail(t('privacy.needReason'));
      if (!confirm.checked) return dialogFail(t('privacy.needConfirm'));
      return { reason: value, confirm: true };
    };
    return { node, body };
  }

  async function exportPerson(item) {
    const notes = el('input', { type: 'checkbox', testid: 'privacy-notes' });
    const form = privacyForm(t('privacy.exportText'), 'privacy.exportConfirm',
      el('label', { class: 'radio' }, notes, t('privacy.exportNotes')));
    await openDialog({
      title: t('privacy.exportTitle'),
      content: [form.node],
      confirm: t('privacy.exportGo'),
      onConfirm: async () => {
        const body = form.body();
        if (!body) return false;
        body.conversation = item.conversation_id;
        body.internal_notes = notes.checked;
        await download('/api/privacy/export', body);
        toast(t('privacy.exported'), 'success');
        return true;
      },
    });
  }

  /** POST a JSON body and save the answer as a file (the archive never touches the page). */
  async function download(path, body) {
    const headers = { 'Content-Type': 'application/json', Accept: 'application/zip' };
    if (state.csrf) headers['X-CSRF-Token'] = state.csrf;
    let response;
    try {
      response = await fetch(path, {
        method: 'POST', headers, credentials: 'same-origin', cache: 'no-store', body: JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, t('error.network'), null);
    }
    if (!response.ok) {
      const data = await readJson(response);
      if (response.status === 401) sessionLost();
      throw new ApiError(response.status, errorMessage(response.status, data), data);
    }
    const blob = await response.blob();
    const match = /filename="([A-Za-z0-9._-]+)"/.exec(response.headers.get('Content-Disposition') || '');
    const link = el('a', { download: match ? match[1] : 'hilo-export.zip', hidden: true });
    // A blob: URL this page just made from the answer, never one from the API's data.
    link.href = URL.createObjectURL(blob);
    document.body.append(link);
    link.click();
    link.remove();
    window.setTimeout(() => URL.revokeObjectURL(link.href), 60 * 1000);
  }

  async function erasePerson(item) {
    const form = privacyForm(t('privacy.eraseText'), 'privacy.eraseConfirm');
    let erased = null;
    const done = await openDialog({
      title: t('privacy.eraseTitle'),
      content: [form.node],
      confirm: t('privacy.eraseGo'),
      danger: true,
      onConfirm: async () => {
        const body = form.body();
        if (!body) return false;
        body.conversation = item.conversation_id;
        const data = await api('POST', '/api/privacy/erase', body);
        erased = data.erased || {};
        return true;
      },
    });
    if (!done) return;
    toast(t('privacy.erased', { n: Number(erased && erased.total) || 0 }), 'success');
    await loadDetail(false);
    refreshQueue();
  }

  function auditSection(detail) {
    const entries = detail.audit;
    const details = el('details', { class: 'audit', testid: 'audit', open: state.auditOpen },
      el('summary', { class: 'card-section-title' }, t('card.audit') + ' (' + entries.length + ')'),
      entries.length
        ? el('ol', { class: 'audit-list' }, entries.map(auditEntry))
        : el('p', { class: 'muted small', text: t('card.auditNone') }));
    details.addEventListener('toggle', () => { state.auditOpen = details.open; });
    return el('section', { class: 'card-section' }, details);
  }

  function auditDetail(detail) {
    if (!detail || typeof detail !== 'object') return text(detail);
    return Object.entries(detail)
      .filter(([, value]) => value !== null && value !== undefined && value !== '')
      .map(([key, value]) => key + ': ' + (typeof value === 'object' ? JSON.stringify(value) : String(value)))
      .join(' · ');
  }

  function auditEntry(entry) {
    const detail = auditDetail(entry.detail);
    return el('li', { class: 'audit-entry' },
      el('time', { class: 'muted small', title: fmtFull(entry.at), text: fmtWhen(entry.at) }),
      el('span', { class: 'audit-actor', text: text(entry.actor) || '—' }),
      el('span', { class: 'audit-action', text: text(entry.action) }),
      detail ? el('span', { class: 'audit-detail muted small', text: detail }) : null);
  }

  // ---------------------------------------------------------------------------------------
  // Supervisor view
  // ---------------------------------------------------------------------------------------

  function statsWanted() {
    try {
      return localStorage.getItem(STATS_KEY) !== '0';
    } catch {
      return true;
    }
  }

  function statsVisible() {
    return state.running && isSupervisor() && state.view === 'queue' && !$('stats').hidden;
  }

  function setupStats() {
    const visible = isSupervisor() && statsWanted();
    applyStatsVisibility(visible);
    state.intervals.push(window.setInterval(() => {
      if (statsVisible()) refreshStats();
    }, STATS_MS));
  }

  function applyStatsVisibility(visible) {
    show($('stats'), visible);
    $('stats-toggle').setAttribute('aria-pressed', String(visible));
    if (visible) refreshStats();
  }

  function toggleStats() {
    if (state.view !== 'queue') {
      // From the reports or the admin pages, "Supervisión" means: back to the queue with the live strip open.
      store(STATS_KEY, '1');
      applyStatsVisibility(true);
      setView('queue');
      return;
    }
    const visible = $('stats').hidden;
    store(STATS_KEY, visible ? '1' : '0');
    applyStatsVisibility(visible);
  }

  async function refreshStats() {
    if (!statsVisible()) return;
    const seq = ++state.seq.stats;
    try {
      const data = await api('GET', '/api/stats');
      if (seq !== state.seq.stats || !state.running) return;
      state.lastStats = data;
      renderStats(data);
    } catch (error) {
      if (seq === state.seq.stats) reportError(error);
    }
  }

  function renderStats(data) {
    const kpi = (label, value, testid, alert) => el('div', { class: 'kpi' + (alert ? ' is-alert' : ''), testid },
      el('dt', { text: label }),
      el('dd', { text: value }));
    const waitText = (seconds) => (typeof seconds === 'number' ? fmtDuration(seconds) : '—');
    const number = (value) => (typeof value === 'number' ? String(value) : '—');
    $('stats-kpis').replaceChildren(
      kpi(t('stats.queue'), number(data.queue_depth), 'stats-queue-depth', data.queue_depth > 0),
      kpi(t('stats.oldest'), waitText(data.oldest_wait_s), 'stats-oldest-wait', data.oldest_wait_s > 3600),
      kpi(t('stats.median'), waitText(data.median_wait_s), 'stats-median-wait', false),
      kpi(t('stats.breaches'), number(data.sla_breaches), 'stats-sla-breaches', data.sla_breaches > 0),
      kpi(t('stats.open'), number(data.open_cases), 'stats-open-cases', false));
    const agents = Array.isArray(data.agents) ? data.agents : [];
    $('stats-agents').replaceChildren(...(agents.length ? agents.map(agentRow)
      : [el('tr', {}, el('td', { colspan: '4', class: 'muted', text: t('stats.none') }))]));
    $('stats-updated').textContent = t('stats.updated', { t: formatter('time').format(new Date()) });
  }

  function agentRow(agent) {
    const load = typeof agent.load === 'number' ? agent.load : 0;
    const capacity = typeof agent.capacity === 'number' && agent.capacity > 0 ? agent.capacity : 0;
    const full = capacity > 0 && load >= capacity;
    const role = agent.role && agent.role !== 'agent' ? ' · ' + roleLabel(agent.role) : null;
    return el('tr', { testid: 'stats-agent', dataset: { agentId: agent.id } },
      el('td', {},
        el('span', { class: 'agent-name', text: text(agent.display_name) || text(agent.username) }),
        role ? el('span', { class: 'muted small', text: role }) : null),
      el('td', { text: text(agent.team) || '—' }),
      el('td', { class: 'load-cell' + (full ? ' is-full' : '') },
        loadMeter(load, capacity),
        el('span', { text: String(load) + ' / ' + (capacity || '—') })),
      el('td', {},
        el('span', {
          class: 'availability-pill' + (agent.available ? ' is-on' : ''),
          text: t(agent.available ? 'header.available' : 'header.unavailable'),
        })));
  }

  function loadMeter(load, capacity) {
    const max = capacity || 1;
    return el('meter', {
      min: '0', max: String(max), value: String(Math.min(load, max)),
      low: String(Math.max(1, Math.floor(max * 0.7))), high: String(max), optimum: '0',
    });
  }

  function roleLabel(role) {
    return t('role.' + safeToken(role, ['agent', ...DESIGNER_ROLES], 'agent'));
  }

  // ---------------------------------------------------------------------------------------
  // Pages beside the queue, each its own module imported the first time it opens (agents and
  // the queue's first paint never load them): the reports (supervisors and admins), the
  // designer's training candidates (designers and up) and the admin pages (admins). The API
  // refuses anyone else too (403); this only keeps the entries away from them.
  // ---------------------------------------------------------------------------------------

  const PAGES = {
    reports: { hash: '#reports', module: './reports.js', allowed: isSupervisor },
    designer: { hash: '#training', module: './designer.js', allowed: isDesigner },
    admin: { hash: '#admin', module: './admin.js', allowed: isAdmin },
  };

  /** The page the address names (#reports, #training, #admin), if any. */
  function pageOfHash() {
    return Object.keys(PAGES).find((name) => PAGES[name].hash === window.location.hash) || null;
  }

  function setupPages() {
    for (const [name, page] of Object.entries(PAGES)) show($(name + '-toggle'), page.allowed());
    const wanted = pageOfHash();
    if (wanted) setView(wanted);
  }

  function togglePage(name) {
    setView(state.view === name ? 'queue' : name);
  }

  /** Show the queue (with the supervisor strip) or one of the pages in the same shell. */
  function setView(view) {
    const shown = view in PAGES && PAGES[view].allowed() ? view : 'queue';
    state.view = shown;
    for (const name of Object.keys(PAGES)) {
      const on = name === shown;
      $('app').classList.toggle('is-' + name, on);
      show($(name), on);
      $(name + '-toggle').setAttribute('aria-pressed', String(on));
      if (!on && state.pages[name]) state.pages[name].close();
    }
    if (shown !== 'queue') {
      window.history.replaceState(null, '', window.location.pathname + window.location.search + PAGES[shown].hash);
      openPage(shown);
      return;
    }
    setHash(state.selectedId);
    if (statsVisible()) refreshStats();
  }

  async function openPage(name) {
    const root = $(name);
    try {
      state.pages[name] = state.pages[name] || await import(PAGES[name].module);
    } catch (error) {
      root.dataset.state = 'error';
      root.replaceChildren(el('p', {
        class: 'form-error', role: 'alert', testid: name + '-error', text: t(name + '.loadFailed'),
      }));
      console.error(error); // eslint-disable-line no-console
      return;
    }
    if (state.running && state.view === name) await state.pages[name].open(root, state.me && state.me.username);
  }

  /** The session ended: back to the queue's shell, and what the pages showed forgotten. */
  function leavePages() {
    for (const name of Object.keys(PAGES)) {
      if (state.pages[name]) state.pages[name].reset();
      $('app').classList.remove('is-' + name);
      show($(name), false);
      show($(name + '-toggle'), false);
      $(name + '-toggle').setAttribute('aria-pressed', 'false');
    }
    state.view = 'queue';
  }

  // ---------------------------------------------------------------------------------------
  // Wiring
  // ---------------------------------------------------------------------------------------

  function bindStatic() {
    $('login-form').addEventListener('submit', submitLogin);
    document.querySelectorAll('.lang-btn').forEach((button) => {
      button.addEventListener('click', () => setLanguage(button.dataset.lang));
    });
    $('logout').addEventListener('click', logout);
    $('availability').addEventListener('click', toggleAvailability);
    $('stats-toggle').addEventListener('click', toggleStats);
    for (const name of Object.keys(PAGES)) $(name + '-toggle').addEventListener('click', () => togglePage(name));
    $('take-next').addEventListener('click', takeNext);
    $('search').addEventListener('input', onSearchInput);
    $('search').addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && $('search').value) {
        $('search').value = '';
        onSearchInput();
      }
    });
    $('filters').addEventListener('click', (event) => {
      const tab = event.target.closest('.tab');
      if (tab) setFilter(tab.dataset.filter);
    });
    $('filters').addEventListener('keydown', onTabsKey);
    $('queue').addEventListener('keydown', onQueueKey);
    $('claim').addEventListener('click', claimCase);
    $('release').addEventListener('click', releaseCase);
    $('transfer').addEventListener('click', transferCase);
    $('resolve-to-bot').addEventListener('click', () => finishCase(true));
    $('close-case').addEventListener('click', () => finishCase(false));
    $('composer').addEventListener('submit', submitComposer);
    $('reply-text').addEventListener('keydown', onReplyKey);
    $('reply-text').addEventListener('input', saveDraft);
    $('note-toggle').addEventListener('click', () => toggleNoteMode());
    $('canned-toggle').addEventListener('click', toggleCanned);
    $('canned-filter').addEventListener('input', filterCanned);
    $('canned').addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        closeCanned();
        $('canned-toggle').focus();
      }
    });
    document.addEventListener('click', (event) => {
      if (!event.target.closest('.canned-wrap')) closeCanned();
    });
    document.addEventListener('keydown', onGlobalKey);
    $('dialog-form').addEventListener('submit', onDialogSubmit);
    $('dialog-cancel').addEventListener('click', () => $('dialog').close('cancel'));
    $('dialog').addEventListener('close', onDialogClose);
    window.addEventListener('hashchange', () => {
      if (!state.running) return;
      const page = pageOfHash();
      if (page) {
        if (state.view !== page) setView(page);
        return;
      }
      const id = caseIdFromHash();
      if (state.view !== 'queue') setView('queue');
      if (id && !sameId(id, state.selectedId)) selectCase(id);
    });
  }

  /** Arrow keys move between the queue's rows. */
  function onQueueKey(event) {
    if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
    const buttons = [...$('queue').querySelectorAll('.queue-row')];
    const index = buttons.indexOf(document.activeElement);
    if (index < 0) return;
    event.preventDefault();
    const next = buttons[index + (event.key === 'ArrowDown' ? 1 : -1)];
    if (next) next.focus();
  }

  /** Arrow keys move between the filter tabs. */
  function onTabsKey(event) {
    if (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft') return;
    const tabs = [...document.querySelectorAll('#filters .tab')];
    const index = tabs.indexOf(document.activeElement);
    if (index < 0) return;
    const next = tabs[(index + (event.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length];
    next.focus();
    setFilter(next.dataset.filter);
  }

  /** "/" jumps to the search box when not typing elsewhere. */
  function onGlobalKey(event) {
    if (!state.running || state.view !== 'queue') return;
    if (event.key !== '/' || event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target.closest('input, textarea, select, [contenteditable="true"], dialog')) return;
    event.preventDefault();
    $('search').focus();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})();
