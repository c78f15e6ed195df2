/*
 * clicklake tracker: the menu page's click events (schemas/click_event.schema.json), batched to
 * the ingestion API (POST /events). Plain browser JavaScript, no dependencies, no build step.
 *
 * On a page:
 *   <script src="/tracker.js" data-endpoint="https://clicks.example.com/events"
 *           data-restaurant-id="r-042" data-menu-id="dinner" defer></script>
 * or set window.clicklakeConfig = { endpoint, restaurantId, menuId, ... } before it loads.
 *
 * Markup it reads: a section is [data-section][data-section-index]; a dish is [data-item-id]
 * (with data-item-name, data-price-cents, data-position); an "Order this item" button inside a
 * dish carries [data-order-item].
 *
 * Delivery: events queue in localStorage (at most 500; the oldest are dropped first and counted)
 * and leave the queue only after a 2xx or a final failure. A batch (up to 25) goes out when it is
 * full or 2 s after its first event, as text/plain (no CORS preflight). 429, 5xx and network
 * errors are retried with exponential backoff and full jitter, resending the same event ids;
 * any other answer is final (the never-retry set first). On pagehide / hidden the events not in
 * flight go out by navigator.sendBeacon; a beacon the browser accepts counts as sent (resending
 * it on a later visit would land in another arrival hour, where compaction cannot dedupe it).
 * While the endpoint is failing (a retry is waiting) nothing is beaconed: the events stay in
 * localStorage and go out, with their ids, on the next page load of the site.
 *
 * Scroll depth: one `scroll` event each time the deepest point reached passes 25, 50, 75 and
 * 100 percent of the page, with that threshold as scroll_depth_pct.
 */
(function (root) {
  'use strict';

  var EVENT_TYPES = ['menu_view', 'section_view', 'item_view', 'item_click', 'order_click', 'scroll'];
  /** Answers that are final whatever happens next: the request itself is wrong. */
  var NEVER_RETRY = [400, 401, 403, 404, 410, 413, 415, 422];
  var SCROLL_THRESHOLDS = [25, 50, 75, 100];
  var DEFAULTS = {
    batchSize: 25, // events per request (the API takes up to 500)
    flushIntervalMs: 2000, // wait this long after the first queued event before sending
    maxQueued: 500, // events kept for later; the oldest go first
    backoffBaseMs: 1000,
    backoffCapMs: 60000,
    maxAttempts: 10, // then the batch is dropped as 'retries_exhausted'
    storageKey: 'clicklake:queue',
  };

  /** 'sent' | 'retry' | 'drop' for an HTTP status, or for a network error (status undefined). */
  function retryDecision(status) {
    if (status === undefined || status === null || status === 0) return 'retry';
    if (status >= 200 && status < 300) return 'sent';
    if (NEVER_RETRY.indexOf(status) >= 0) return 'drop';
    if (status === 408 || status === 429 || status >= 500) return 'retry';
    return 'drop';
  }

  /** Full jitter: a uniform delay in [0, min(cap, base * 2^(attempt-1))), attempt counted from 1. */
  function backoffDelay(attempt, random, baseMs, capMs) {
    var ceiling = Math.min(capMs, baseMs * Math.pow(2, Math.max(0, attempt - 1)));
    return Math.floor(random() * ceiling);
  }

  /** The queue in memory: events in arrival order, at most `max` (oldest dropped, returned). */
  function createMemoryStore(max) {
    var events = [];
    return {
      load: function () { return events.slice(); },
      add: function (more) {
        events = events.concat(more);
        return events.length > max ? events.splice(0, events.length - max) : [];
      },
      remove: function (ids) {
        events = events.filter(function (e) { return ids.indexOf(e.event_id) < 0; });
      },
    };
  }

  /**
   * The queue in a Web Storage (localStorage), so unsent events outlive a reload. Every call
   * reads and writes the stored list, so two tabs of one origin do not overwrite each other's
   * events. If the storage fails (private mode, quota), the queue carries on in memory.
   */
  function createStorageStore(storage, key, max, onFallback) {
    var memory = null;
    function read() {
      try {
        var parsed = JSON.parse(storage.getItem(key) || '[]');
        return Array.isArray(parsed) ? parsed : [];
      } catch (e) {
        return [];
      }
    }
    function write(events) {
      try {
        storage.setItem(key, JSON.stringify(events));
      } catch (e) {
        memory = createMemoryStore(max);
        memory.add(events);
        if (onFallback) onFallback(e);
      }
    }
    return {
      load: function () { return memory ? memory.load() : read(); },
      add: function (more) {
        if (memory) return memory.add(more);
        var events = read().concat(more);
        var dropped = events.length > max ? events.splice(0, events.length - max) : [];
        write(events);
        return dropped;
      },
      remove: function (ids) {
        if (memory) return memory.remove(ids);
        write(read().filter(function (e) { return ids.indexOf(e.event_id) < 0; }));
      },
    };
  }

  /** A value kept in a Web Storage under `key`, made once by `make`; in memory if storage fails. */
  function storedId(storage, key, make) {
    try {
      var existing = storage && storage.getItem(key);
      if (existing) return existing;
      var id = make();
      if (storage) storage.setItem(key, id);
      return id;
    } catch (e) {
      return make();
    }
  }

  function intOrNull(value) {
    var n = parseInt(value, 10);
    return isFinite(n) && n >= 0 ? n : null;
  }

  /**
   * A tracker. Everything it touches comes in through `options`, so it runs without a browser:
   * endpoint, restaurantId, menuId (required); fetch, sendBeacon, storage (localStorage),
   * sessionStorage, now (ms), random ([0,1)), uuid, setTimeout, clearTimeout, page (viewport,
   * user_agent, page_url, referrer, locale as a function returning them), appVersion, onDrop.
   */
  function createTracker(options) {
    var o = {};
    var k;
    for (k in DEFAULTS) o[k] = DEFAULTS[k];
    for (k in options) if (options[k] !== undefined) o[k] = options[k];
    var missing = ['endpoint', 'restaurantId', 'menuId'].filter(function (name) { return !o[name]; });
    if (missing.length) throw new Error('clicklake tracker: missing ' + missing.join(', ') + ' (data-' + missing[0].replace(/[A-Z]/g, function (c) { return '-' + c.toLowerCase(); }) + ' on the script tag)');
    var now = o.now || Date.now;
    var random = o.random || Math.random;
    var uuid = o.uuid || function () { return root.crypto.randomUUID(); };
    var later = o.setTimeout || root.setTimeout.bind(root);
    var cancel = o.clearTimeout || root.clearTimeout.bind(root);
    var doFetch = o.fetch || (root.fetch && root.fetch.bind(root));
    var beacon = o.sendBeacon;
    var page = o.page || function () { return {}; };

    var stats = { queued: 0, sent: 0, dropped: {}, storageFallback: false };
    var store = o.storage
      ? createStorageStore(o.storage, o.storageKey, o.maxQueued, function () { stats.storageFallback = true; })
      : createMemoryStore(o.maxQueued);
    var anonymousId = storedId(o.storage, 'clicklake:anonymous_id', uuid);
    var sessionId = storedId(o.sessionStorage, 'clicklake:session_id', uuid);
    var timer = null;
    var inFlight = []; // ids of the batch being sent
    var attempt = 0;

    /** Every path by which an event is not delivered ends here, with its reason. */
    function drop(events, reason) {
      if (!events.length) return;
      stats.dropped[reason] = (stats.dropped[reason] || 0) + events.length;
      if (o.onDrop) o.onDrop(events, reason);
    }

    function schedule(ms) {
      if (timer !== null) return;
      timer = later(function () { timer = null; flush(); }, ms);
    }

    function event(type, fields) {
      if (EVENT_TYPES.indexOf(type) < 0) throw new Error('clicklake tracker: unknown event type ' + type);
      var p = page();
      var e = {
        event_id: uuid(),
        event_type: type,
        event_time: new Date(now()).toISOString(),
        session_id: sessionId,
        anonymous_id: anonymousId,
        restaurant_id: o.restaurantId,
        menu_id: o.menuId,
      };
      for (var f in p) e[f] = p[f];
      for (var g in fields) e[g] = fields[g];
      if (o.appVersion) e.app_version = o.appVersion;
      return e;
    }

    function track(type, fields) {
      var e = event(type, fields || {});
      drop(store.add([e]), 'queue_full');
      stats.queued++;
      // A full batch goes at once, unless the endpoint is being given its backoff time.
      if (attempt === 0 && store.load().length - inFlight.length >= o.batchSize) flush();
      else schedule(o.flushIntervalMs);
      return e;
    }

    function settle(batch, status) {
      inFlight = [];
      var ids = batch.map(function (e) { return e.event_id; });
      var decision = retryDecision(status);
      if (decision === 'retry' && attempt + 1 >= o.maxAttempts) decision = 'exhausted';
      if (decision === 'retry') {
        attempt++;
        schedule(backoffDelay(attempt, random, o.backoffBaseMs, o.backoffCapMs));
        return;
      }
      attempt = 0;
      store.remove(ids);
      if (decision === 'sent') stats.sent += batch.length;
      else drop(batch, decision === 'exhausted' ? 'retries_exhausted' : 'rejected_' + status);
      if (store.load().length) schedule(decision === 'sent' ? 0 : o.flushIntervalMs);
    }

    /** Sends the oldest batch now, unless one is in flight. Resolves when its answer is handled. */
    function flush() {
      if (timer !== null) { cancel(timer); timer = null; }
      if (inFlight.length || !doFetch) return Promise.resolve();
      var batch = store.load().slice(0, o.batchSize);
      if (!batch.length) return Promise.resolve();
      inFlight = batch.map(function (e) { return e.event_id; });
      return doFetch(o.endpoint, {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
        body: JSON.stringify(batch),
        keepalive: true, // lets a batch in flight finish when the page goes away
        credentials: 'omit',
      }).then(
        function (res) { settle(batch, res.status); },
        function () { settle(batch, undefined); }
      );
    }

    /**
     * The page is going away: hand every event not in flight to sendBeacon, a batch at a time.
     * Not while backing off: a beacon's answer is never seen, so events the endpoint just
     * refused stay queued for the next page load instead of being lost to another 503.
     */
    function leave() {
      if (timer !== null) { cancel(timer); timer = null; }
      if (!beacon || attempt > 0) return;
      var waiting = store.load().filter(function (e) { return inFlight.indexOf(e.event_id) < 0; });
      for (var i = 0; i < waiting.length; i += o.batchSize) {
        var batch = waiting.slice(i, i + o.batchSize);
        // false: over the browser's beacon quota; the events stay queued for the next visit.
        if (!beacon(o.endpoint, JSON.stringify(batch))) break;
        store.remove(batch.map(function (e) { return e.event_id; }));
        stats.sent += batch.length;
      }
    }

    if (store.load().length) schedule(0); // left over from an earlier page load

    return {
      track: track,
      flush: flush,
      leave: leave,
      stats: stats,
      pending: function () { return store.load(); },
      sessionId: sessionId,
      anonymousId: anonymousId,
    };
  }

  /** The page's own description, as the schema's optional envelope fields. */
  function pageContext(win) {
    return function () {
      var doc = win.document;
      return {
        viewport: { width: Math.round(win.innerWidth), height: Math.round(win.innerHeight) },
        user_agent: win.navigator.userAgent,
        page_url: String(win.location.href),
        referrer: doc.referrer || null,
        locale: win.navigator.language || null,
      };
    };
  }

  function itemFields(el) {
    return {
      item_id: el.getAttribute('data-item-id'),
      item_name: el.getAttribute('data-item-name') || null,
      price_cents: intOrNull(el.getAttribute('data-price-cents')),
      position: intOrNull(el.getAttribute('data-position')),
    };
  }

  /** Deepest point seen so far, as a percentage of the page height (0..100). */
  function scrollDepthPct(win) {
    var doc = win.document.documentElement;
    var height = Math.max(doc.scrollHeight, 1);
    return Math.min(100, Math.round(((win.scrollY + win.innerHeight) / height) * 100));
  }

  /** Wires a tracker to a page's real behaviour; returns a function that unwires it. */
  function autoTrack(tracker, win) {
    var doc = win.document;
    var seen = { section: {}, item: {} };
    var deepest = 0;
    var observers = [];

    tracker.track('menu_view', {});

    function observe(selector, threshold, onVisible) {
      var observer = new win.IntersectionObserver(function (entries) {
        entries.forEach(function (entry) {
          if (entry.isIntersecting) { onVisible(entry.target); observer.unobserve(entry.target); }
        });
      }, { threshold: threshold });
      doc.querySelectorAll(selector).forEach(function (el) { observer.observe(el); });
      observers.push(observer);
    }
    observe('[data-section][data-section-index]', 0, function (el) {
      var index = intOrNull(el.getAttribute('data-section-index'));
      if (index === null || seen.section[index]) return;
      seen.section[index] = true;
      tracker.track('section_view', { section: el.getAttribute('data-section'), section_index: index });
    });
    observe('[data-item-id]', 0.5, function (el) {
      var id = el.getAttribute('data-item-id');
      if (seen.item[id]) return;
      seen.item[id] = true;
      tracker.track('item_view', itemFields(el));
    });

    function onClick(ev) {
      var item = ev.target.closest && ev.target.closest('[data-item-id]');
      if (!item) return;
      var ordered = ev.target.closest('[data-order-item]');
      tracker.track(ordered ? 'order_click' : 'item_click', itemFields(item));
    }
    function onScroll() {
      var depth = scrollDepthPct(win);
      SCROLL_THRESHOLDS.forEach(function (t) {
        if (depth >= t && deepest < t) tracker.track('scroll', { scroll_depth_pct: t });
      });
      deepest = Math.max(deepest, depth);
    }
    function onHidden() { if (doc.visibilityState === 'hidden') tracker.leave(); }
    function onLeave() { tracker.leave(); }

    doc.addEventListener('click', onClick, true);
    win.addEventListener('scroll', onScroll, { passive: true });
    win.addEventListener('pagehide', onLeave);
    doc.addEventListener('visibilitychange', onHidden);
    onScroll();
    return function stop() {
      observers.forEach(function (ob) { ob.disconnect(); });
      doc.removeEventListener('click', onClick, true);
      win.removeEventListener('scroll', onScroll);
      win.removeEventListener('pagehide', onLeave);
      doc.removeEventListener('visibilitychange', onHidden);
    };
  }

  /**
   * Config from window.clicklakeConfig over the script tag's data-* attributes. The tuning
   * options (batchSize, flushIntervalMs, maxQueued, backoffBaseMs, backoffCapMs, maxAttempts)
   * come only from window.clicklakeConfig.
   */
  function pageConfig(win, script) {
    var data = (script && script.dataset) || {};
    var given = win.clicklakeConfig || {};
    var config = {
      endpoint: given.endpoint || data.endpoint || '/events',
      restaurantId: given.restaurantId || data.restaurantId,
      menuId: given.menuId || data.menuId,
      appVersion: given.appVersion || data.appVersion,
    };
    ['batchSize', 'flushIntervalMs', 'maxQueued', 'backoffBaseMs', 'backoffCapMs', 'maxAttempts'].forEach(function (k) {
      if (typeof given[k] === 'number') config[k] = given[k];
    });
    return config;
  }

  function start(win, script) {
    var config = pageConfig(win, script);
    var storage = null;
    var session = null;
    try { storage = win.localStorage; session = win.sessionStorage; } catch (e) { /* storage blocked: memory only */ }
    config.storage = storage;
    config.sessionStorage = session;
    config.page = pageContext(win);
    config.sendBeacon = win.navigator.sendBeacon ? win.navigator.sendBeacon.bind(win.navigator) : undefined;
    var tracker = createTracker(config);
    var begin = function () { autoTrack(tracker, win); };
    if (win.document.readyState === 'loading') win.document.addEventListener('DOMContentLoaded', begin);
    else begin();
    return tracker;
  }

  var api = {
    createTracker: createTracker,
    retryDecision: retryDecision,
    backoffDelay: backoffDelay,
    createMemoryStore: createMemoryStore,
    createStorageStore: createStorageStore,
    autoTrack: autoTrack,
    NEVER_RETRY: NEVER_RETRY.slice(),
    DEFAULTS: DEFAULTS,
  };
  root.clicklake = api;

  if (root.document && root.document.currentScript) {
    try {
      api.tracker = start(root, root.document.currentScript);
    } catch (e) {
      if (root.console) root.console.warn(e.message); // misconfigured: the page works, nothing is tracked
    }
  }
})(typeof globalThis !== 'undefined' ? globalThis : this);
