// docstream desk: small behaviours on top of server-rendered pages.
// Grid rows, copy buttons, confirmations, charts and htmx settings.
(function () {
  'use strict';

  if (window.htmx) {
    // Error answers carry a readable message: swap them in too.
    window.htmx.config.responseHandling = [
      { code: '204', swap: false },
      { code: '[23]..', swap: true },
      { code: '[45]..', swap: true, error: true },
      { code: '...', swap: false }
    ];
    window.htmx.config.historyCacheSize = 0;
  }

  // Charts (frappe-charts), drawn from data-chart JSON.
  function drawCharts(root) {
    if (!root || !root.querySelectorAll || !window.frappe || !window.frappe.Chart) return;
    var els = root.matches && root.matches('[data-chart]') ? [root] : [];
    els = els.concat(Array.prototype.slice.call(root.querySelectorAll('[data-chart]')));
    els.forEach(function (el) {
      if (el._chart) return;
      var data;
      try { data = JSON.parse(el.getAttribute('data-chart')); } catch (e) { return; }
      var type = el.getAttribute('data-chart-type') || 'line';
      el._chart = new window.frappe.Chart(el, {
        data: data,
        type: type,
        height: 150,
        colors: [el.getAttribute('data-color') || '#2490ef'],
        animate: 0,
        axisOptions: { xIsSeries: 1, xAxisMode: 'tick', yAxisMode: 'span', shortenYAxisNumbers: 1 },
        lineOptions: { hideDots: 1, regionFill: 1, spline: 0 },
        barOptions: { spaceRatio: 0.35 },
        tooltipOptions: { formatTooltipY: function (v) { return String(v); } }
      });
    });
  }
  function destroyCharts(root) {
    if (!root || !root.querySelectorAll) return;
    root.querySelectorAll('[data-chart]').forEach(function (el) {
      if (el._chart && el._chart.destroy) el._chart.destroy();
      el._chart = null;
    });
  }
  document.addEventListener('htmx:beforeSwap', function (e) { destroyCharts(e.detail.target); });
  document.addEventListener('htmx:load', function (e) { drawCharts(e.detail.elt); });

  // Link fields: suggestions from /app/_/link fill the input's <datalist>.
  // fetch with an AbortController, so a stale answer is dropped quietly.
  function suggest(input) {
    var url = input.getAttribute('data-suggest');
    var list = document.getElementById(input.getAttribute('list'));
    if (!url || !list || !window.fetch) return;
    if (input._ctl) input._ctl.abort();
    var ctl = new AbortController();
    input._ctl = ctl;
    fetch(url + '&txt=' + encodeURIComponent(input.value), { signal: ctl.signal, credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.text() : ''; })
      .then(function (html) { if (!ctl.signal.aborted) list.innerHTML = html; })
      .catch(function () { /* aborted or offline: keep the old suggestions */ });
  }
  document.addEventListener('input', function (e) {
    var el = e.target;
    if (!(el instanceof HTMLInputElement) || !el.hasAttribute('data-suggest')) return;
    clearTimeout(el._suggestTimer);
    el._suggestTimer = setTimeout(function () { suggest(el); }, 150);
  });
  document.addEventListener('focusin', function (e) {
    var el = e.target;
    if (el instanceof HTMLInputElement && el.hasAttribute('data-suggest') && !el._suggested) {
      el._suggested = true;
      suggest(el);
    }
  });

  // Child tables: add and remove rows; keep row numbers in order.
  function renumber(grid) {
    var rows = grid.querySelectorAll('tbody > tr[data-row]');
    rows.forEach(function (tr, i) {
      var n = tr.querySelector('[data-row-num]');
      if (n) n.textContent = String(i + 1);
      var rm = tr.querySelector('[data-remove-row]');
      if (rm) rm.setAttribute('aria-label', 'Remove row ' + (i + 1));
      var more = tr.querySelector('[data-toggle-row]');
      if (more) more.setAttribute('aria-label', 'More fields of row ' + (i + 1));
    });
    var empty = grid.querySelector('.grid-empty');
    if (empty) empty.hidden = rows.length > 0;
  }
  function addRow(grid) {
    var tpl = grid.querySelector('template');
    if (!tpl) return;
    var key = parseInt(grid.getAttribute('data-next-key'), 10) || 1;
    grid.setAttribute('data-next-key', String(key + 1));
    var tbody = grid.querySelector('tbody');
    tbody.insertAdjacentHTML('beforeend', tpl.innerHTML.split('__ROW__').join(String(key)));
    var row = tbody.lastElementChild;
    if (row.hasAttribute('data-row-detail')) row = row.previousElementSibling;
    if (window.htmx) window.htmx.process(tbody);
    renumber(grid);
    markDirty();
    var first = row.querySelector('input:not([type=hidden]), select, textarea');
    if (first) first.focus();
  }
  function removeRow(btn) {
    var grid = btn.closest('[data-grid]');
    var tr = btn.closest('tr');
    var detail = tr.nextElementSibling;
    if (detail && detail.hasAttribute('data-row-detail')) detail.remove();
    var next = tr.nextElementSibling || tr.previousElementSibling;
    while (next && !next.hasAttribute('data-row')) next = next.previousElementSibling;
    tr.remove();
    renumber(grid);
    markDirty();
    var focus = next && next.querySelector('[data-remove-row]');
    (focus || grid.querySelector('[data-add-row]') || grid).focus();
  }

  // Copy a value (the API secret) to the clipboard. The text is selected
  // first, so Ctrl+C works even where copying from a script does not.
  function copyFrom(btn) {
    var src = document.querySelector(btn.getAttribute('data-copy'));
    if (!src) return;
    var done = function () {
      btn.textContent = 'Copied';
      setTimeout(function () { btn.textContent = 'Copy'; }, 2000);
    };
    src.focus();
    src.select();
    var ok = false;
    try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
    if (ok) {
      done();
    } else if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(src.value).then(done, function () { /* selected: Ctrl+C */ });
    }
  }

  document.addEventListener('click', function (e) {
    var t = e.target;
    if (!(t instanceof Element)) return;
    var add = t.closest('[data-add-row]');
    if (add) { e.preventDefault(); addRow(add.closest('[data-grid]')); return; }
    var rm = t.closest('[data-remove-row]');
    if (rm) { e.preventDefault(); removeRow(rm); return; }
    var more = t.closest('[data-toggle-row]');
    if (more) {
      e.preventDefault();
      var panel = document.getElementById(more.getAttribute('aria-controls'));
      if (panel) {
        var open = panel.hidden;
        panel.hidden = !open;
        more.setAttribute('aria-expanded', String(open));
        var f = open && panel.querySelector('input:not([type=hidden]), select, textarea');
        if (f) f.focus();
      }
      return;
    }
    var cp = t.closest('[data-copy]');
    if (cp) { e.preventDefault(); copyFrom(cp); }
  });

  // Confirm destructive actions.
  document.addEventListener('submit', function (e) {
    var f = e.target;
    if (f instanceof HTMLFormElement && f.hasAttribute('data-confirm') && !window.confirm(f.getAttribute('data-confirm'))) {
      e.preventDefault();
    }
  });

  // "Not Saved" as soon as the document form changes; Ctrl+S saves.
  function markDirty() {
    var pill = document.getElementById('doc-status');
    if (pill && pill.textContent !== 'Not Saved') {
      pill.textContent = 'Not Saved';
      pill.className = 'pill orange';
    }
  }
  document.addEventListener('input', function (e) {
    if (e.target instanceof Element && e.target.closest('#doc-form')) markDirty();
  });
  document.addEventListener('keydown', function (e) {
    if ((e.ctrlKey || e.metaKey) && (e.key === 's' || e.key === 'S')) {
      var save = document.querySelector('[data-action="save"]');
      if (save) { e.preventDefault(); save.click(); }
    }
  });

  function init() {
    document.querySelectorAll('[data-grid]').forEach(renumber);
    drawCharts(document.body);
    var err = document.getElementById('form-error') || document.getElementById('login-error');
    if (err) err.setAttribute('tabindex', '-1');
    // After a refused save, start where the problem is.
    document.querySelectorAll('[data-row-detail] [aria-invalid="true"]').forEach(function (el) {
      var panel = el.closest('[data-row-detail]');
      panel.hidden = false;
      var btn = document.querySelector('[aria-controls="' + panel.id + '"]');
      if (btn) btn.setAttribute('aria-expanded', 'true');
    });
    var bad = document.querySelector('#doc-form [aria-invalid="true"]');
    if (bad) bad.focus();
    // Scripts and tests can wait for this before using the page's controls.
    document.documentElement.setAttribute('data-desk-ready', '');
  }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
