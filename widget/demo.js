// The demo shop as a small single-page app: a product opens in place with history.pushState (its own URL and title), Back returns to the list. The widget follows these navigations without patching history (docs/widget.md).
const shop = document.getElementById('shop');
const detail = document.getElementById('kettle');
const home = { title: document.title };

function show(slug) {
  const card = slug && shop.querySelector(`[data-kettle="${CSS.escape(slug)}"]`);
  detail.hidden = !card;
  if (!card) { document.title = home.title; return; }
  const name = card.querySelector('h2').textContent;
  detail.querySelector('h2').textContent = name;
  detail.querySelector('p').textContent = card.querySelector('p').textContent;
  document.title = `${name} · Acme Kettles`;
}

shop.addEventListener('click', (event) => {
  const link = event.target.closest('a[data-kettle-link]');
  if (!link) return;
  event.preventDefault();
  history.pushState({}, '', link.href);
  show(new URL(link.href).searchParams.get('kettle'));
});
addEventListener('popstate', () => show(new URLSearchParams(location.search).get('kettle')));
show(new URLSearchParams(location.search).get('kettle'));
