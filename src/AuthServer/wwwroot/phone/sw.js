// The phone app's service worker: it keeps the app's own files (the shell) so the app opens, and can say it is
// offline, without a network. It never touches the API, the sign-in or the token endpoint: those must always reach
// the server. The shell is fetched from the network first, so a new version is used as soon as it is online.
const CACHE = "authserver-phone-shell-v2";
const SHELL = [
  "/phone/",
  "/phone/app.css",
  "/phone/app.js",
  "/phone/auth.js",
  "/phone/scanner.js",
  "/phone/strings.js",
  "/phone/manifest.webmanifest",
  "/phone/icons/icon-192.png",
  "/phone/icons/icon-512.png",
  "/phone/vendor/jsqr/jsQR.js",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  // The callback's URL carries the authorization code: it is never cached, only answered from the network.
  const shellPath = url.pathname === "/phone/callback" ? null : url.pathname;
  if (!shellPath || !SHELL.includes(shellPath)) return;
  event.respondWith(fetch(event.request)
    .then((response) => {
      if (response.ok) {
        const copy = response.clone();
        event.waitUntil(caches.open(CACHE).then((cache) => cache.put(shellPath, copy)));
      }
      return response;
    })
    .catch(() => caches.match(shellPath).then((cached) => cached || Response.error())));
});
