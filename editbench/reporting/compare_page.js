// compare.html (editbench/reporting/compare_page.py): order, filters, image viewer.
// Reads only the page's data attributes and the URL fragment, which holds the state
// (#category=KEY&flag=regression&changed=1&sort=O&zoom=CASE|b), so a view can be linked.
(function () {
  var cases = document.getElementById('cases');
  var cards = Array.prototype.slice.call(cases.querySelectorAll('.case'));
  var category = document.getElementById('filter-category');
  var flag = document.getElementById('filter-flag');
  var changed = document.getElementById('filter-changed');
  var sortBy = document.getElementById('sort-by');
  var viewer = document.getElementById('viewer');
  var CHANGES = ['newly failing', 'newly passing'];
  var deltas = new Map(cards.map(function (c) { return [c, JSON.parse(c.dataset.deltas)]; }));

  function key(card) {
    var rank = CHANGES.indexOf(card.dataset.change);
    var delta = deltas.get(card)[sortBy.value];
    return [rank < 0 ? CHANGES.length : rank, delta === undefined ? Infinity : -Math.abs(delta)];
  }
  function compare(x, y) {
    var a = key(x), b = key(y);
    if (a[0] !== b[0]) { return a[0] - b[0]; }
    if (a[1] !== b[1]) { return a[1] < b[1] ? -1 : 1; }
    return x.dataset.id < y.dataset.id ? -1 : x.dataset.id > y.dataset.id ? 1 : 0;
  }
  function shows(card) {
    return (!category.value || card.dataset.category === category.value) &&
      (!flag.value || card.dataset.flags.split(' ').indexOf(flag.value) >= 0) &&
      (!changed.checked || card.dataset.changed === '1');
  }
  function apply() {
    var shown = 0, fragment = document.createDocumentFragment();
    cards.sort(compare).forEach(function (card) {
      var on = shows(card);
      card.classList.toggle('hidden', !on);
      if (on) { shown++; }
      fragment.appendChild(card);
    });
    cases.appendChild(fragment);
    document.getElementById('shown').textContent = shown + ' of ' + cards.length + ' cases';
    document.body.dataset.shown = shown;
    remember();
  }
  function remember() {
    var state = new URLSearchParams();
    if (category.value) { state.set('category', category.value); }
    if (flag.value) { state.set('flag', flag.value); }
    if (changed.checked) { state.set('changed', '1'); }
    state.set('sort', sortBy.value);
    if (!viewer.hidden && viewer.dataset.zoom) { state.set('zoom', viewer.dataset.zoom); }
    history.replaceState(null, '', '#' + state.toString());
  }
  function open(img) {
    var card = img.closest('.case');
    viewer.querySelector('img').src = img.dataset.src || img.src;
    viewer.querySelector('p').textContent = card.dataset.id + ': ' + img.alt;
    viewer.dataset.zoom = card.dataset.id + '|' + img.className;
    viewer.hidden = false;
    remember();
  }
  function close() { viewer.hidden = true; viewer.dataset.zoom = ''; remember(); }
  function countImages() {
    var all = cases.querySelectorAll('img'), loaded = 0, broken = 0;
    all.forEach(function (i) {
      if (!i.getAttribute('src') || !i.complete) { return; }  // not yet in view, or loading
      if (i.naturalWidth > 0) { loaded++; } else { broken++; }
    });
    document.body.dataset.imagesTotal = all.length;
    document.body.dataset.imagesLoaded = loaded;
    document.body.dataset.imagesBroken = broken;
  }

  var state = new URLSearchParams(location.hash.slice(1));
  if (state.get('category') !== null) { category.value = state.get('category'); }
  if (state.get('flag') !== null) { flag.value = state.get('flag'); }
  changed.checked = state.get('changed') === '1';
  if (state.get('sort') !== null && deltasHave(state.get('sort'))) { sortBy.value = state.get('sort'); }
  function deltasHave(name) {
    return Array.prototype.some.call(sortBy.options, function (o) { return o.value === name; });
  }
  [category, flag, changed, sortBy].forEach(function (el) { el.addEventListener('change', apply); });
  apply();
  cases.addEventListener('click', function (e) {
    if (e.target.tagName === 'IMG') { open(e.target); }
  });
  viewer.addEventListener('click', close);
  document.addEventListener('keydown', function (e) { if (e.key === 'Escape') { close(); } });
  var zoom = (state.get('zoom') || '').split('|');
  var zoomed = cards.filter(function (c) { return c.dataset.id === zoom[0]; })[0];
  var kind = ['source', 'a', 'b'].indexOf(zoom[1]) >= 0 ? zoom[1] : '';
  if (zoomed && kind && zoomed.querySelector('img.' + kind)) {
    open(zoomed.querySelector('img.' + kind));
  }
  cases.querySelectorAll('img').forEach(function (i) {
    i.addEventListener('load', countImages); i.addEventListener('error', countImages);
  });
  // Images load when their card comes near the viewport. Not loading="lazy": headless Chromium
  // loaded all 1800 images of a 600-case page at once with it, and lazy images never delay the
  // load event, which here marks the first screen's images as shown.
  function reveal(card) {
    card.querySelectorAll('img[data-src]').forEach(function (i) {
      i.src = i.dataset.src; i.removeAttribute('data-src');
    });
  }
  function revealInView() {  // the first screen's images now, so the load event waits for them
    var limit = window.innerHeight + 1000;
    for (var k = 0; k < cards.length; k++) {
      if (cards[k].classList.contains('hidden')) { continue; }
      if (cards[k].getBoundingClientRect().top > limit) { break; }
      reveal(cards[k]);
    }
  }
  revealInView();
  if ('IntersectionObserver' in window) {
    var watcher = new IntersectionObserver(function (entries) {
      entries.forEach(function (e) {
        if (e.isIntersecting) { reveal(e.target); watcher.unobserve(e.target); }
      });
    }, {rootMargin: '1000px 0px'});
    cards.forEach(function (c) { watcher.observe(c); });
  } else {
    cards.forEach(reveal);
  }
  countImages();
  void document.body.offsetHeight;  // the first layout, part of the time below
  document.body.dataset.readyMs = performance.now().toFixed(0);
  window.addEventListener('load', function () {  // render times, read by scripts/compare_render_time.py
    document.body.dataset.loadMs = performance.now().toFixed(0);
    var paint = performance.getEntriesByName('first-contentful-paint')[0];
    if (paint) { document.body.dataset.paintMs = paint.startTime.toFixed(0); }
  });
})();
