// Microblog: posts, replies and reposts on the "posts" item feed (docs/data.md), a timeline of
// the people you follow ordered by the sorting function you choose. Plain JS over window.p2p:
// no build step, no remote code. Another UI over the same feed (apps/microblog-compact) shows
// the same posts, because the posts live in the feeds, not in the UI.
(() => {
  'use strict';
  const FEED = 'posts';
  const SORTS = [
    { id: 'chronological', label: 'Newest first', keys: [{ field: 'ts', order: 'desc' }] },
    { id: 'conversations', label: 'Conversations first', keys: [{ field: '$replies', order: 'desc' }, { field: '$thread', order: 'desc' }] },
    { id: 'trusted', label: 'Trusted first', keys: [{ field: '$trust', order: 'desc' }, { field: 'ts', order: 'desc' }] },
  ];
  const KEY = /z6Mk[1-9A-HJ-NP-Za-km-z]{44}/;
  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else if (v !== undefined && v !== null) node.setAttribute(k, String(v));
    }
    node.append(...children.filter((c) => c !== null && c !== undefined));
    return node;
  };
  const short = (key) => `${key.slice(0, 8)}…${key.slice(-4)}`;
  const newId = () => Array.from(crypto.getRandomValues(new Uint8Array(9)), (b) => b.toString(36).padStart(2, '0')).join('').slice(0, 16);

  let p2p = null;
  let me = null;
  let replyTo = null;
  let items = [];
  let rendering = null;
  /** The id of the live query (p2p_watchQuery) the timeline shows: the engine pushes its changes. */
  let live = null;

  function showError(error) {
    $('error').hidden = !error;
    $('error').textContent = error ? `${error.message || error} ${error.code !== undefined ? `(${error.code})` : ''}` : '';
  }

  const call = (method, params) => p2p.request(params === undefined ? { method } : { method, params });

  // (Re)starts the live timeline in the chosen order. From then on the engine sends the whole
  // ordered timeline whenever it changes (a post arrives, a follow, moderation): no query per
  // update, so a post shows one round trip sooner. One start at a time; asks during it make one more.
  async function render() {
    if (rendering) return (rendering.again = true);
    rendering = { again: false };
    try {
      do {
        rendering.again = false;
        const sort = SORTS.find((s) => s.id === $('sort').value) || SORTS[0];
        if (live) call('p2p_unwatchQuery', { id: live }).catch(() => {});
        live = null;
        const watched = await call('p2p_watchQuery', { name: FEED, sort: { id: sort.id, keys: sort.keys }, limit: 1000 });
        live = watched.id;
        items = watched.items;
        draw();
      } while (rendering.again);
    } catch (error) {
      showError(error);
    } finally {
      rendering = null;
    }
  }

  // Authors' names: what each calls itself in its signed identity statement (p2p_resolve), so the
  // key stays beside it. Asked for in one request per draw for the authors still without one.
  const names = new Map();
  let resolving = false;
  // A profile can arrive after the posts (or its author be offline for now): ask again later.
  let retry = null;
  let retryDelay = 2000;
  const nameOf = (key) => (key === me ? 'You' : names.get(key) ? `${names.get(key)} · ${short(key)}` : short(key));

  function resolveNames() {
    const missing = [...new Set(items.map((i) => i.author))].filter((key) => key !== me && !names.get(key)).slice(0, 64);
    if (resolving || missing.length === 0) return;
    resolving = true;
    call('p2p_resolve', { keys: missing })
      .then((resolved) => {
        const found = resolved.filter((r) => r.statement);
        for (const r of found) names.set(r.publicKey, r.statement.displayName);
        if (found.length > 0) draw();
        if (found.length < resolved.length && !retry) {
          retry = setTimeout(() => ((retry = null), resolveNames()), retryDelay);
          retryDelay = Math.min(retryDelay * 2, 60_000);
        }
      })
      .catch(() => {}) // names are a nicety: the keys are shown
      .finally(() => (resolving = false));
  }

  function row(item, ref, parent, original) {
    const who = nameOf(item.author);
    return el(
      'li',
      { 'data-testid': 'mb-item', 'data-ref': ref, 'data-author': item.author },
      el('div', { class: 'row' }, el('span', { class: 'author' }, who), el('span', { class: 'muted' }, when.format(new Date(item.ts)))),
      typeof item.replyTo === 'string'
        ? el('div', { class: 'context', 'data-testid': 'mb-reply-context' }, `↳ reply to ${parent ? (parent.author === me ? 'you' : short(parent.author)) : short(item.replyTo.split('/')[0])}`)
        : null,
      typeof item.repostOf === 'string' ? el('div', { class: 'context' }, `⟳ repost of ${original ? short(original.author) : short(item.repostOf.split('/')[0])}`) : null,
      el('p', { 'data-testid': 'mb-text' }, String(item.text ?? (original ? original.text : '') ?? '')),
      el(
        'div',
        {},
        el('button', { class: 'link', 'data-testid': 'mb-reply', onclick: () => startReply(ref, who) }, 'Reply'),
        item.author !== me ? el('button', { class: 'link', 'data-testid': 'mb-repost', onclick: () => repost(item) }, 'Repost') : null,
      ),
    );
  }

  // One formatter for every row: Date#toLocaleString builds a new one per call, which for a
  // timeline of 1,000 posts was most of the time it took to draw.
  const when = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'medium' });
  /** Rows drawn last time, by ref, with what they showed: unchanged posts keep their row. */
  let rows = new Map();

  function draw() {
    const list = $('timeline');
    const byRef = new Map(items.map((i) => [`${i.author}/${i.id}`, i]));
    const next = new Map();
    const lis = items.map((item) => {
      const ref = `${item.author}/${item.id}`;
      const parent = typeof item.replyTo === 'string' ? byRef.get(item.replyTo) : null;
      const original = typeof item.repostOf === 'string' ? byRef.get(item.repostOf) : null;
      const shown = JSON.stringify([item, nameOf(item.author), parent ? parent.author : null, original ? [original.author, original.text] : null]);
      const kept = rows.get(ref);
      const li = kept && kept.shown === shown ? kept.li : row(item, ref, parent, original);
      next.set(ref, { shown, li });
      return li;
    });
    rows = next;
    list.replaceChildren(...lis);
    resolveNames();
    if (items.length === 0) list.replaceChildren(el('li', { class: 'muted' }, 'Nothing yet: post something, or follow someone.'));
  }

  // Posts your moderation hides (a list you subscribe to, or your own block): why, and "show
  // anyway", which the extension asks you to confirm.
  // Only moderation and follows change what is hidden (a blocked key's posts never arrive).
  async function drawHidden() {
    const hidden = await call('p2p_hidden', { name: FEED });
    $('hidden').replaceChildren(
      ...hidden.map((h) =>
        el(
          'li',
          { 'data-testid': 'mb-hidden-author', 'data-author': h.author },
          el('span', {}, `${h.items} post${h.items === 1 ? '' : 's'} from ${short(h.author)} hidden: `),
          el('span', { class: 'muted', 'data-testid': 'mb-hidden-because' }, h.because || 'blocked'),
          el('button', {
            class: 'link',
            'data-testid': 'mb-show-anyway',
            onclick: () => call('p2p_showAnyway', { author: h.author }).then(() => Promise.all([render(), drawHidden()])).catch(showError),
          }, 'Show anyway'),
        ),
      ),
    );
  }

  function startReply(ref, who) {
    replyTo = ref;
    $('replying').hidden = false;
    $('replying').textContent = `Replying to ${who} `;
    $('replying').append(el('button', { class: 'link', onclick: () => ((replyTo = null), ($('replying').hidden = true)) }, 'cancel'));
    $('post-text').focus();
  }

  async function post(text) {
    const item = { text, ts: Date.now(), ...(replyTo ? { replyTo } : {}) };
    await call('p2p_putItem', { name: FEED, id: newId(), item });
    replyTo = null;
    $('replying').hidden = true;
  }

  async function repost(item) {
    await call('p2p_putItem', { name: FEED, id: newId(), item: { ts: Date.now(), repostOf: `${item.author}/${item.id}`, text: item.text } });
  }

  async function follow(input) {
    const match = KEY.exec(input);
    if (!match) throw Object.assign(new Error('Not a public key or a web+p2p:profile link'), { code: 'INVALID_KEY' });
    const key = match[0];
    if (key === me) return;
    await call('p2p_follow', { author: key });
    await drawFollowing();
  }

  async function drawFollowing() {
    const following = await call('p2p_following');
    $('following').replaceChildren(
      ...following.map((key) =>
        el(
          'li',
          { 'data-testid': 'mb-followed', 'data-key': key },
          el('span', { class: 'key' }, key),
          el('button', {
            class: 'link',
            'data-testid': 'mb-unfollow',
            onclick: async () => {
              await call('p2p_unfollow', { author: key });
              await drawFollowing();
              await Promise.all([render(), drawHidden()]);
            },
          }, 'Unfollow'),
        ),
      ),
    );
    return following;
  }

  /** A web+p2p:profile/<key> link opens this app at #profile=<key>: offer to follow that person. */
  function showProfile(key, following) {
    $('profile-card').hidden = false;
    $('profile-key').textContent = key;
    const state = (text, canFollow) => {
      $('profile-state').textContent = text;
      $('profile-follow').hidden = !canFollow;
      $('profile-card').dataset.state = canFollow ? 'not-following' : text === 'This is you.' ? 'me' : 'following';
    };
    if (key === me) return state('This is you.', false);
    if (following.includes(key)) return state('You follow this person.', false);
    state('You do not follow this person yet.', true);
    $('profile-follow').onclick = () =>
      follow(key).then(() => (state('You follow this person.', false), showError(null), render()), showError);
  }

  async function start(provider) {
    p2p = provider;
    const identity = await call('p2p_requestIdentity');
    me = identity.publicKey;
    $('me').textContent = `${identity.statement.displayName} · ${short(me)}`;
    $('me').dataset.key = me;
    $('profile-link').textContent = `web+p2p:profile/${me}`;
    for (const sort of SORTS) $('sort').append(el('option', { value: sort.id }, sort.label));
    p2p.on('queryUpdate', (update) => {
      if (update.id !== live) return;
      items = update.items;
      draw();
    });
    p2p.on('moderationChanged', () => drawHidden().catch(showError));
    const following = await drawFollowing();
    const linked = /^#profile=(z6Mk[1-9A-HJ-NP-Za-km-z]{44})$/.exec(location.hash);
    if (linked) showProfile(linked[1], following);
    await Promise.all([render(), drawHidden()]);
    document.body.dataset.ready = 'true';
  }

  $('post-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const text = $('post-text').value.trim();
    if (!text) return;
    post(text).then(() => (($('post-text').value = ''), showError(null)), showError);
  });
  $('follow-form').addEventListener('submit', (event) => {
    event.preventDefault();
    follow($('follow-key').value.trim())
      .then(() => (($('follow-key').value = ''), showError(null), Promise.all([render(), drawHidden()])))
      .catch(showError);
  });
  $('sort').addEventListener('change', () => render());

  window.addEventListener('p2p:announceProvider', (event) => {
    if (!p2p) start(event.detail.provider).catch(showError);
  });
  window.dispatchEvent(new Event('p2p:requestProvider'));
})();
