// Notes: one text edited by several identities. Each person writes to their own signed feed
// "notes.<name>"; the app merges everyone's feed into one Y.Doc (Yjs is a CRDT, so the union is
// the same everywhere). A local edit is written as the diff between the merged document and what
// this person's feed already holds, so every person's feed carries what their edits build on.
(() => {
  'use strict';
  const Y = globalThis.Y;
  const $ = (id) => document.getElementById(id);
  const KEY = /z6Mk[1-9A-HJ-NP-Za-km-z]{44}/;
  const b64 = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const unb64 = (text) => Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  const LOCAL = 'local';

  let p2p = null;
  let me = null;
  let note = null; // { feed, merged, own, text, people:Set }
  let writing = Promise.resolve();

  const call = (method, params) => p2p.request(params === undefined ? { method } : { method, params });
  const status = (text) => ($('status').textContent = text);

  async function open(name, collaborator) {
    const feed = `notes.${name}`;
    const people = new Set([me, ...(await call('p2p_following'))]);
    if (collaborator) {
      await call('p2p_follow', { author: collaborator });
      people.add(collaborator);
    }
    const merged = new Y.Doc();
    const own = new Y.Doc();
    for (const author of people) {
      await call('p2p_subscribeFeed', { author, name: feed });
      try {
        const state = await call('p2p_readFeed', { author, name: feed });
        Y.applyUpdate(merged, unb64(state.update), 'remote');
        if (author === me) Y.applyUpdate(own, unb64(state.update));
      } catch (error) {
        if (error.code !== 'FEED_NOT_FOUND') throw error; // not written yet: fine
      }
    }
    const text = merged.getText('text');
    note = { feed, merged, own, text, people };
    text.observe((event) => {
      if (event.transaction.origin !== LOCAL) show();
    });
    $('people').textContent = [...people].map((k) => (k === me ? 'you' : `${k.slice(0, 10)}…`)).join(', ');
    $('editor').disabled = false;
    show();
    document.body.dataset.note = feed;
  }

  function show() {
    const editor = $('editor');
    const value = note.text.toString();
    if (editor.value === value) return;
    const { selectionStart, selectionEnd } = editor;
    editor.value = value;
    editor.setSelectionRange(Math.min(selectionStart, value.length), Math.min(selectionEnd, value.length));
    editor.dataset.length = String(value.length);
  }

  /** The edit the textarea made, as one delete + insert at the first differing position. */
  function applyEdit(before, after) {
    let start = 0;
    while (start < before.length && start < after.length && before[start] === after[start]) start++;
    let endBefore = before.length;
    let endAfter = after.length;
    while (endBefore > start && endAfter > start && before[endBefore - 1] === after[endAfter - 1]) {
      endBefore--;
      endAfter--;
    }
    note.merged.transact(() => {
      if (endBefore > start) note.text.delete(start, endBefore - start);
      if (endAfter > start) note.text.insert(start, after.slice(start, endAfter));
    }, LOCAL);
  }

  function publish() {
    // What this person's feed lacks of the merged document: their edit and what it builds on.
    const diff = Y.encodeStateAsUpdate(note.merged, Y.encodeStateVector(note.own));
    Y.applyUpdate(note.own, diff);
    writing = writing
      .then(() => call('p2p_writeFeed', { name: note.feed, update: b64(diff) }))
      .then((r) => status(`Saved (${r.seq})`), (error) => status(`Not saved: ${error.message} (${error.code})`));
  }

  $('editor').addEventListener('input', () => {
    applyEdit(note.text.toString(), $('editor').value);
    publish();
  });

  $('open-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const match = KEY.exec($('with-key').value);
    open($('note-name').value, match ? match[0] : null).catch((error) => status(`${error.message} (${error.code})`));
  });

  window.addEventListener('p2p:announceProvider', async (event) => {
    if (p2p) return;
    p2p = event.detail.provider;
    const identity = await call('p2p_requestIdentity');
    me = identity.publicKey;
    $('me').textContent = `${identity.statement.displayName} · ${me.slice(0, 10)}…`;
    $('me').dataset.key = me;
    p2p.on('feedUpdate', (update) => {
      if (!note || update.name !== note.feed || !note.people.has(update.author) || update.author === me) return;
      Y.applyUpdate(note.merged, unb64(update.update), 'remote');
    });
    document.body.dataset.ready = 'true';
  });
  window.dispatchEvent(new Event('p2p:requestProvider'));
})();
