// The compact reader: the same "posts" feeds as apps/microblog, one line per post, read-only.
(() => {
  'use strict';
  const SORT = { id: 'chronological', keys: [{ field: 'ts', order: 'desc' }] };
  let p2p = null;
  let me = null;
  const short = (key) => `${key.slice(0, 8)}…`;
  let live = null;
  function draw(items) {
    document.getElementById('list').replaceChildren(
      ...items.map((item) => {
        const li = document.createElement('li');
        li.dataset.testid = 'mc-item';
        li.dataset.ref = `${item.author}/${item.id}`;
        const who = document.createElement('span');
        who.className = 'who';
        who.textContent = item.author === me ? 'you' : short(item.author);
        li.append(who, `${typeof item.replyTo === 'string' ? '↳ ' : ''}${typeof item.repostOf === 'string' ? '⟳ ' : ''}${item.text ?? ''}`);
        return li;
      }),
    );
    document.body.dataset.ready = 'true';
  }
  window.addEventListener('p2p:announceProvider', async (event) => {
    if (p2p) return;
    p2p = event.detail.provider;
    me = (await p2p.request({ method: 'p2p_requestIdentity' })).publicKey;
    // A live query: the engine sends the whole list again whenever it changes.
    p2p.on('queryUpdate', (update) => update.id === live && draw(update.items));
    const watched = await p2p.request({ method: 'p2p_watchQuery', params: { name: 'posts', sort: SORT, limit: 1000 } });
    live = watched.id;
    draw(watched.items);
  });
  window.dispatchEvent(new Event('p2p:requestProvider'));
})();
