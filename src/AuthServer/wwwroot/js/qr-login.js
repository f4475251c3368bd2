// "Sign in with your phone": the waiting screen of the scan login, as a standard RFC 8628 device authorization client.
//
//   1. POST /connect/device starts a login request; its verification_uri_complete is shown as a QR code and its user
//      code as text (RFC 8628 §3.3.1).
//   2. POST /connect/device/events (our extension) pushes status changes as Server-Sent Events. EventSource can only
//      GET, and the device code must stay out of URLs, so the stream is read with fetch() and parsed here.
//   3. On "approved" the device code is redeemed at POST /connect/token exactly as RFC 8628 §3.4 says; no token ever
//      travels on the stream. The token endpoint is the authority: should it still say authorization_pending, the page
//      keeps polling it.
//   4. Should the stream keep failing, the page falls back to plain polling of the token endpoint at `interval`.
//   5. Before a code expires it is replaced (superseded_device_code), at most MAX_ROTATIONS times, never once scanned.
//   6. With the tokens, the page asks its own server for a session: a same-origin POST of the access token with the
//      page's antiforgery token to data-session-endpoint. The server checks this browser's binding cookie (HttpOnly,
//      set by the device authorization response, so a copied device code is useless in another browser), sets its
//      session cookie once, and names the local URL to continue to.
//
// The device code and the tokens live only in this closure: never in the URL, the DOM or any storage. The device and
// token requests carry this origin's cookies (the binding); the events stream needs none.
(() => {
  'use strict';

  const CLIENT_ID = 'web';
  const SCOPE = 'openid profile offline_access';
  const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
  const ENDPOINTS = {
    device: '/connect/device',
    events: '/connect/device/events',
    token: '/connect/token',
    qr: '/device/qr',
  };
  /** Replace the code once this share of its lifetime has passed. */
  const ROTATE_AT = 0.8;
  const MAX_ROTATIONS = 5;
  /** Waits before reconnecting a failed stream; when they are used up the page polls the token endpoint instead. */
  const RECONNECT_DELAYS_MS = [1000, 2000, 4000];
  /** RFC 8628 §3.5: slow_down adds 5 seconds to the polling interval. */
  const SLOW_DOWN_SECONDS = 5;

  /**
   * A Server-Sent Events parser (the WHATWG "event stream interpretation"): feed it decoded text in chunks of any size;
   * it calls onEvent({ type, data, id }) at each blank line that ends an event with data, and onComment(text) for
   * comment lines (the server's ": ping"). Lines may end in CRLF, LF or CR, also split across chunks.
   */
  function createEventStreamParser(onEvent, onComment) {
    let buffer = '';
    let first = true;
    let type = '';
    let data = [];
    let lastId = null;

    function line(text) {
      if (text === '') {
        if (data.length > 0) onEvent({ type: type || 'message', data: data.join('\n'), id: lastId });
        type = '';
        data = [];
        return;
      }
      if (text[0] === ':') {
        if (onComment) onComment(text.slice(1).trim());
        return;
      }
      const colon = text.indexOf(':');
      const field = colon === -1 ? text : text.slice(0, colon);
      let value = colon === -1 ? '' : text.slice(colon + 1);
      if (value[0] === ' ') value = value.slice(1);
      if (field === 'event') type = value;
      else if (field === 'data') data.push(value);
      else if (field === 'id' && !value.includes('\0')) lastId = value;
      // "retry" and unknown fields are ignored: the page has its own reconnect policy.
    }

    return {
      push(chunk) {
        buffer += chunk;
        if (first && buffer.length > 0) {
          if (buffer[0] === '\uFEFF') buffer = buffer.slice(1);
          first = false;
        }
        for (;;) {
          const end = buffer.search(/[\r\n]/);
          if (end === -1) return;
          // A CR at the very end may be the first half of a CRLF that the next chunk completes.
          if (buffer[end] === '\r' && end === buffer.length - 1) return;
          const next = buffer[end] === '\r' && buffer[end + 1] === '\n' ? end + 2 : end + 1;
          const text = buffer.slice(0, end);
          buffer = buffer.slice(next);
          line(text);
        }
      },
      /** The stream ended: a trailing lone CR still ends a line; an event without its blank line is dropped (spec). */
      end() {
        if (buffer.endsWith('\r')) line(buffer.slice(0, -1));
        buffer = '';
      },
      get lastEventId() { return lastId; },
    };
  }

  // Exposed for tests of the parser only; nothing secret is reachable from it.
  window.qrLogin = Object.freeze({ createEventStreamParser });

  const root = document.querySelector('[data-qr-login]');
  if (!root) return;

  /** The page's words in the reader's language, written by the server (Pages/Shared/_QrSignIn.cshtml). */
  const words = JSON.parse(root.querySelector('[data-qr-strings]').textContent);

  const ui = {
    panel: root.querySelector('[data-qr-panel]'),
    qr: root.querySelector('[data-testid="qr"]'),
    userCode: root.querySelector('[data-testid="user-code"]'),
    statusText: root.querySelector('[data-status-text]'),
    number: root.querySelector('[data-testid="number"]'),
    steps: root.querySelector('[data-steps]'),
    verificationUri: root.querySelector('[data-verification-uri]'),
    antiforgery: root.querySelector('input[name="__RequestVerificationToken"]'),
    retry: root.querySelector('[data-testid="retry"]'),
  };

  /** The request whose QR code is on screen. Events and answers about any other request are ignored. */
  let current = null;
  /** Counts begin() calls, so that a slow answer to an older start cannot replace a newer request. */
  let generation = 0;
  let rotations = 0;
  /** What the retry button does: start a fresh request, or reload the page once the rotations are used up. */
  let retryMode = 'again';

  // ---------------------------------------------------------------------------------------------------------------
  // Talking to the server

  function post(path, fields, headers) {
    return fetch(path, {
      method: 'POST',
      headers: Object.assign({ Accept: 'application/json' }, headers || {}),
      body: new URLSearchParams(fields),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  }

  async function readJson(response) {
    try {
      return await response.json();
    } catch {
      return {};
    }
  }

  function describeBrowser() {
    const ua = navigator.userAgent || '';
    const browser = /Edg\//.test(ua) ? 'Edge'
      : /OPR\//.test(ua) ? 'Opera'
      : /Firefox\//.test(ua) ? 'Firefox'
      : /Chrom(e|ium)\//.test(ua) ? 'Chrome'
      : /Safari\//.test(ua) ? 'Safari'
      : 'Web browser';
    const platform = (navigator.userAgentData && navigator.userAgentData.platform)
      || (/Android/.test(ua) ? 'Android'
        : /iPhone|iPad|iPod/.test(ua) ? 'iOS'
        : /Mac OS X/.test(ua) ? 'macOS'
        : /Windows/.test(ua) ? 'Windows'
        : /CrOS/.test(ua) ? 'ChromeOS'
        : /Linux/.test(ua) ? 'Linux'
        : '');
    return (platform ? `${browser} on ${platform}` : browser).slice(0, 60);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // One login request: timers and the stream belong to it, and die with it.

  /** Runs fn after ms, unless the request has been replaced or closed by then. */
  function later(request, ms, fn) {
    const timer = setTimeout(() => {
      request.timers.delete(timer);
      if (request === current && !request.closed) fn();
    }, ms);
    request.timers.add(timer);
    return timer;
  }

  function cancel(request, timer) {
    if (timer === null || timer === undefined) return;
    clearTimeout(timer);
    request.timers.delete(timer);
  }

  /** Nothing more happens for this request: timers stop and its stream is dropped. */
  function close(request) {
    request.closed = true;
    request.timers.forEach(clearTimeout);
    request.timers.clear();
    if (request.controller) request.controller.abort();
  }

  /** Starts a login request; with `previous`, it replaces that one (QR rotation) and the server supersedes it. */
  async function begin(previous) {
    const started = ++generation;
    if (!previous) show('starting', words.gettingCode);

    let answer;
    try {
      const fields = { client_id: CLIENT_ID, scope: SCOPE, device_name: describeBrowser() };
      if (previous) fields.superseded_device_code = previous.deviceCode;
      let response = await post(ENDPOINTS.device, fields);
      if (!response.ok && previous && (await readJson(response)).error === 'invalid_grant') {
        // The server no longer knows the old request (cleaned up): nothing left to supersede.
        delete fields.superseded_device_code;
        response = await post(ENDPOINTS.device, fields);
      }
      if (!response.ok) throw new Error(`The device authorization endpoint answered ${response.status}.`);
      answer = await response.json();
    } catch (error) {
      console.warn('qr-login: could not start a login request', error);
      if (previous) previous.rotating = false;
      // A failed rotation leaves the old code on screen; its own expiry takes over.
      if (!previous && started === generation) fail(words.noCode);
      return;
    }
    if (started !== generation) return;
    if (previous) {
      // Approved while the new code was on its way: the old request is the one to redeem (the server could not
      // supersede it any more); the new one is simply left to expire.
      if (previous !== current || previous.closed || previous.redeeming) return;
      close(previous); // its stream ends with "superseded", which nobody needs to hear
    } else if (current) {
      close(current);
    }

    const request = {
      generation: started,
      deviceCode: answer.device_code,
      userCode: answer.user_code,
      verificationUri: answer.verification_uri,
      expiresIn: Number(answer.expires_in) || 60,
      interval: Math.max(1, Number(answer.interval) || 5),
      lastEventId: null,
      streamFailures: 0,
      controller: null,
      timers: new Set(),
      rotateTimer: null,
      scanned: false,
      rotating: false,
      redeeming: false,
      closed: false,
    };
    current = request;
    root.dataset.generation = String(started);
    root.dataset.reconnects = '0';
    delete root.dataset.pollInterval;
    showQr(request);
    showWaiting();

    if (rotations < MAX_ROTATIONS)
      request.rotateTimer = later(request, Math.round(request.expiresIn * ROTATE_AT * 1000), () => rotate(request));
    later(request, request.expiresIn * 1000, () => expired(request));
    openStream(request);
  }

  function rotate(request) {
    if (request.scanned || request.redeeming || rotations >= MAX_ROTATIONS) return;
    rotations += 1;
    request.rotating = true;
    begin(request);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // The events stream, and the polling fallback

  async function openStream(request) {
    if (request !== current || request.closed) return;
    const controller = new AbortController();
    request.controller = controller;
    setStream('connecting');
    let finished = false;
    try {
      const headers = { Accept: 'text/event-stream' };
      if (request.lastEventId !== null) headers['Last-Event-ID'] = request.lastEventId;
      const response = await fetch(ENDPOINTS.events, {
        method: 'POST',
        headers,
        body: new URLSearchParams({ client_id: CLIENT_ID, device_code: request.deviceCode }),
        credentials: 'omit',
        cache: 'no-store',
        signal: controller.signal,
      });
      const type = response.headers.get('Content-Type') || '';
      if (!response.ok || !response.body || !type.startsWith('text/event-stream'))
        throw new Error(`The events stream answered ${response.status}.`);

      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      const parser = createEventStreamParser(event => {
        if (!finished) finished = onEvent(request, event);
      });
      while (!finished) {
        const { value, done } = await reader.read();
        if (done) {
          parser.push(decoder.decode());
          parser.end();
          break;
        }
        parser.push(decoder.decode(value, { stream: true }));
      }
      if (finished) controller.abort(); // the server ends it too; do not wait for that
    } catch (error) {
      if (controller.signal.aborted) return; // closed on purpose
      console.warn('qr-login: events stream failed', error);
    }
    if (finished || controller.signal.aborted) return;
    streamFailed(request);
  }

  /** Handles one event; returns true when it was the last one this stream should carry. */
  function onEvent(request, event) {
    if (request !== current || request.closed) return true; // an old request's stream: ignore it
    if (event.id !== null) request.lastEventId = event.id;
    setStream('open');
    let data = {};
    try {
      data = JSON.parse(event.data);
    } catch {
      // The event's name is enough.
    }
    switch (event.type) {
      case 'pending':
        showWaiting();
        return false;
      case 'scanned':
        request.scanned = true; // the user is mid-confirmation: the code must not change under them
        cancel(request, request.rotateTimer);
        showScanned(data.number);
        return false;
      case 'approved':
        setStream('closed');
        redeem(request);
        return true;
      case 'denied':
        setStream('closed');
        denied(request);
        return true;
      case 'expired':
        setStream('closed');
        expired(request);
        return true;
      case 'superseded':
        // The rotation in flight did this: the server supersedes the old request before its answer with the new one
        // reaches the page. The new request takes over when that answer arrives.
        if (request.rotating) return true;
        // Only this page knows the device code, so only its own rotation supersedes it; seen here, it lost track.
        setStream('closed');
        close(request);
        fail(words.replaced);
        return true;
      default:
        return false;
    }
  }

  /** Reconnects a few times with growing waits (sending Last-Event-ID), then falls back to polling. */
  function streamFailed(request) {
    if (request !== current || request.closed || request.redeeming) return;
    request.streamFailures += 1;
    root.dataset.reconnects = String(request.streamFailures);
    if (request.streamFailures <= RECONNECT_DELAYS_MS.length) {
      setStream('backoff');
      const base = RECONNECT_DELAYS_MS[request.streamFailures - 1];
      later(request, base + Math.floor(Math.random() * base / 4), () => openStream(request));
    } else {
      setStream('polling');
      schedulePoll(request);
    }
  }

  /** The stream said approved: redeem now, like any RFC 8628 client whose poll found the request approved. */
  function redeem(request) {
    request.redeeming = true;
    cancel(request, request.rotateTimer);
    show('approved', words.approved);
    poll(request);
  }

  /** One token request (RFC 8628 §3.4); answers other than tokens or a final error schedule the next one. */
  async function poll(request) {
    if (request !== current || request.closed) return;
    let response;
    let body;
    try {
      response = await post(ENDPOINTS.token, { grant_type: DEVICE_GRANT, device_code: request.deviceCode, client_id: CLIENT_ID });
      body = await readJson(response);
    } catch (error) {
      console.warn('qr-login: token request failed', error);
      schedulePoll(request);
      return;
    }
    if (request !== current || request.closed) return;
    if (response.ok && body.access_token) {
      signedIn(request, body);
      return;
    }
    switch (body.error) {
      case 'authorization_pending':
        break;
      case 'slow_down':
        request.interval += SLOW_DOWN_SECONDS;
        break;
      case 'access_denied':
        denied(request);
        return;
      case 'expired_token':
        request.redeeming = false;
        expired(request);
        return;
      default:
        close(request);
        fail(words.incomplete);
        return;
    }
    schedulePoll(request);
  }

  function schedulePoll(request) {
    root.dataset.pollInterval = String(request.interval);
    later(request, request.interval * 1000, () => poll(request));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Outcomes

  /** The tokens are this page's proof of the approval: the server turns them into this browser's session. */
  async function signedIn(request, tokens) {
    close(request);
    show('signing-in', words.approved);
    let response;
    let body;
    try {
      response = await fetch(root.dataset.sessionEndpoint, {
        method: 'POST',
        headers: { Authorization: `Bearer ${tokens.access_token}`, Accept: 'application/json' },
        body: new URLSearchParams({
          __RequestVerificationToken: ui.antiforgery ? ui.antiforgery.value : '',
          return_url: root.dataset.returnUrl || '/',
        }),
        credentials: 'same-origin',
        cache: 'no-store',
      });
      body = await readJson(response);
    } catch (error) {
      console.warn('qr-login: the session request failed', error);
      fail(words.sessionOffline);
      return;
    }
    if (!response.ok || typeof body.location !== 'string' || !body.location.startsWith('/')) {
      // The endpoint writes its problem's title in the reader's language (it serves this page only).
      fail(body.title || words.sessionFailed);
      return;
    }
    show('signed-in', words.signedIn);
    location.assign(body.location);
  }

  function denied(request) {
    close(request);
    show('denied', words.denied, { retry: 'again' });
  }

  function expired(request) {
    if (request !== current || request.closed || request.redeeming) return;
    close(request);
    if (!request.scanned && rotations >= MAX_ROTATIONS)
      show('expired', words.expiredReload, { retry: 'reload' });
    else if (request.scanned)
      show('expired', words.expiredScanned, { retry: 'again' });
    else
      show('expired', words.expired, { retry: 'again' });
  }

  function fail(message) {
    show('error', message, { retry: 'again' });
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Drawing

  function setStream(state) {
    root.dataset.stream = state;
  }

  /** Sets the state and the status text; hides what belongs to other states. */
  function show(state, text, options) {
    root.dataset.state = state;
    ui.statusText.textContent = text;
    ui.number.hidden = true;
    ui.number.textContent = '';
    const live = state === 'pending' || state === 'scanned';
    ui.panel.hidden = !live;
    ui.panel.classList.toggle('is-scanned', state === 'scanned');
    ui.steps.hidden = state !== 'pending';
    const retry = options && options.retry;
    ui.retry.hidden = !retry;
    if (retry) {
      retryMode = retry;
      ui.retry.textContent = retry === 'reload' ? words.reload : words.tryAgain;
    }
  }

  function showQr(request) {
    const query = new URLSearchParams({ user_code: request.userCode, format: 'svg' });
    ui.qr.src = `${ENDPOINTS.qr}?${query}`;
    ui.userCode.textContent = request.userCode;
    ui.verificationUri.href = request.verificationUri;
    ui.verificationUri.textContent = request.verificationUri;
  }

  function showWaiting() {
    show('pending', words.waiting);
  }

  /** The stream never says who scanned: the screen may be an attacker's (RFC 8628 §5.4); the phone shows who asks. */
  function showScanned(number) {
    show('scanned', words.scanned);
    if (number !== undefined && number !== null) {
      ui.number.textContent = words.pickNumber.replace('{number}', String(number));
      ui.number.hidden = false;
    }
  }

  ui.qr.addEventListener('error', () => {
    if (current && !current.closed)
      ui.statusText.textContent = words.qrFailed;
  });

  ui.retry.addEventListener('click', () => {
    if (retryMode === 'reload') {
      location.reload();
      return;
    }
    rotations = 0;
    begin(null);
  });

  begin(null);
})();
