// Hello: the smallest app. It finds window.p2p (the EIP-6963 announce pattern, so it never races
// the provider), asks for an identity, and shows the one the person chose. Plain JS, no build
// step, no remote code: copy this folder to start a new app (docs/apps.md).
(() => {
  'use strict';
  const $ = (id) => document.getElementById(id);
  document.body.dataset.started = 'true';
  let p2p = null;

  function show(identity) {
    $('identity').hidden = !identity;
    $('ask').hidden = !!identity;
    $('status').textContent = identity ? 'This app sees you as:' : 'This app sees no identity.';
    $('name').textContent = identity ? identity.statement.displayName : '';
    $('key').textContent = identity ? identity.publicKey : '';
    document.body.dataset.ready = 'true';
  }

  async function ask() {
    $('status').textContent = 'Asking for an identity…';
    try {
      show(await p2p.request({ method: 'p2p_requestIdentity' }));
    } catch (error) {
      show(null);
      $('status').textContent = `No identity: ${error.message} (${error.code})`;
    }
  }

  window.addEventListener('p2p:announceProvider', (event) => {
    if (p2p) return;
    p2p = event.detail.provider;
    p2p.on('identityChanged', show);
    $('ask').addEventListener('click', ask);
    ask();
  });
  window.dispatchEvent(new Event('p2p:requestProvider'));
})();
