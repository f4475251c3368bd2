// The phone app's sign-in and its calls to the server: authorization code + PKCE (RFC 7636) as the first-party
// client "phone-web", every token bound to one DPoP key (RFC 9449). The key is a WebCrypto ES256 key pair made with
// a non-extractable private key and kept in IndexedDB, so a stolen refresh token is useless without this browser.
// The refresh token is kept there too; the access token stays in memory only.

const CLIENT_ID = "phone-web";
const SCOPE = "openid profile offline_access phone_app";
const DB_NAME = "authserver-phone";
const STORE = "state";
const PKCE_KEY = "authserver.phone.pkce";

/** Thrown when the network is unreachable (fetch rejects), so the app can say "offline" rather than "error". */
export class OfflineError extends Error {}

/** Thrown when the server no longer accepts this phone's refresh token: the user must sign in again. */
export class SignedOutError extends Error {}

// ---- IndexedDB: one object store of named values ----

function openDb() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function dbOp(mode, operation) {
  const db = await openDb();
  try {
    return await new Promise((resolve, reject) => {
      const request = operation(db.transaction(STORE, mode).objectStore(STORE));
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  } finally {
    db.close();
  }
}

const load = (key) => dbOp("readonly", (store) => store.get(key));
const save = (key, value) => dbOp("readwrite", (store) => store.put(value, key));
const forget = (key) => dbOp("readwrite", (store) => store.delete(key));

// ---- Encoding ----

function base64url(bytes) {
  let text = "";
  for (const byte of new Uint8Array(bytes)) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const utf8 = (text) => new TextEncoder().encode(text);
const sha256 = async (text) => base64url(await crypto.subtle.digest("SHA-256", utf8(text)));
const random = (length) => base64url(crypto.getRandomValues(new Uint8Array(length)));

// ---- The DPoP key and proofs (RFC 9449 §4) ----

let keyPair = null;
let publicJwk = null;
let nonce = null;

async function dpopKey() {
  if (keyPair) return keyPair;
  let stored = await load("dpopKey");
  if (!stored) {
    // extractable: false applies to the private key; the public key can always be exported, as the proof needs.
    stored = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
    await save("dpopKey", stored);
  }
  const jwk = await crypto.subtle.exportKey("jwk", stored.publicKey);
  publicJwk = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
  keyPair = stored;
  return keyPair;
}

/** The key's RFC 7638 thumbprint: the required members in lexicographic order, no whitespace. */
async function thumbprint() {
  await dpopKey();
  return sha256(JSON.stringify({ crv: publicJwk.crv, kty: publicJwk.kty, x: publicJwk.x, y: publicJwk.y }));
}

/** A proof for one request: htu without query and fragment (§4.2), ath when a token is sent (§4.3), the server nonce (§8). */
async function proof(method, url, accessToken) {
  const key = await dpopKey();
  const target = new URL(url, location.href);
  const header = { typ: "dpop+jwt", alg: "ES256", jwk: publicJwk };
  const claims = { jti: random(16), htm: method, htu: target.origin + target.pathname, iat: Math.floor(Date.now() / 1000) };
  if (nonce) claims.nonce = nonce;
  if (accessToken) claims.ath = await sha256(accessToken);
  const input = `${base64url(utf8(JSON.stringify(header)))}.${base64url(utf8(JSON.stringify(claims)))}`;
  // WebCrypto's ECDSA signature is r || s, which is exactly JWS's ES256 form (RFC 7518 §3.4).
  const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key.privateKey, utf8(input));
  return `${input}.${base64url(signature)}`;
}

async function send(url, init) {
  let response;
  try {
    response = await fetch(url, { ...init, cache: "no-store", credentials: "omit" });
  } catch (failure) {
    throw new OfflineError(String(failure));
  }
  const fresh = response.headers.get("DPoP-Nonce");
  if (fresh) nonce = fresh;
  return response;
}

/** True when the answer asks for a (new) nonce: the token endpoint's JSON error, or a resource's challenge (§8, §9). */
async function wantsNonce(response) {
  if (!response.headers.get("DPoP-Nonce")) return false;
  if ((response.headers.get("WWW-Authenticate") || "").includes("use_dpop_nonce")) return true;
  if (response.status !== 400) return false;
  const body = await response.clone().json().catch(() => ({}));
  return body.error === "use_dpop_nonce";
}

// ---- Discovery and tokens ----

let metadata = null;

async function discover() {
  if (metadata) return metadata;
  const response = await send("/.well-known/openid-configuration", { method: "GET" });
  if (!response.ok) throw new Error(`discovery answered ${response.status}`);
  metadata = await response.json();
  return metadata;
}

// The app's folder is both /phone/ and the callback's: "." resolves to it from either page.
const redirectUri = () => new URL("callback", new URL(".", location.href)).href;

let accessToken = null;
let accessExpiresAt = 0;

async function tokenRequest(form) {
  const { token_endpoint: endpoint } = await discover();
  const body = new URLSearchParams({ client_id: CLIENT_ID, ...form });
  const attempt = async () => send(endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", DPoP: await proof("POST", endpoint) },
    body,
  });
  let response = await attempt();
  if (await wantsNonce(response)) response = await attempt();
  const json = await response.json().catch(() => ({}));
  return { status: response.status, json };
}

function claimsOf(idToken) {
  try {
    // For display only: the token came straight from the token endpoint over this origin's TLS (OIDC Core §3.1.3.7).
    const part = idToken.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(part), (c) => c.charCodeAt(0))));
  } catch {
    return {};
  }
}

async function keep(tokens) {
  accessToken = tokens.access_token;
  accessExpiresAt = Date.now() + (tokens.expires_in ?? 60) * 1000 - 15_000;
  if (tokens.refresh_token) await save("refresh", tokens.refresh_token);
  if (tokens.id_token) {
    const claims = claimsOf(tokens.id_token);
    await save("account", claims.name || claims.email || claims.preferred_username || claims.sub);
  }
}

/** The name of the signed-in account, or null when this phone is not signed in. */
export async function account() {
  return (await load("refresh")) ? (await load("account")) || "" : null;
}

/** Sends the browser to the authorization endpoint (RFC 6749 §4.1.1), with PKCE and the DPoP key's thumbprint (RFC 9449 §10). */
export async function signIn(deviceName) {
  const { authorization_endpoint: endpoint } = await discover();
  const verifier = random(32);
  const state = random(16);
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state }));
  const url = new URL(endpoint);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: CLIENT_ID,
    redirect_uri: redirectUri(),
    scope: SCOPE,
    state,
    code_challenge: await sha256(verifier),
    code_challenge_method: "S256",
    dpop_jkt: await thumbprint(),
    device_name: deviceName,
  }).toString();
  location.assign(url.href);
}

/**
 * Finishes the sign-in on the callback page: the state must be ours (RFC 6749 §10.12) and the issuer the server's
 * (RFC 9207), then the code is redeemed with the verifier and a DPoP proof. Returns true when signed in.
 */
export async function finishSignIn(query) {
  const pending = JSON.parse(sessionStorage.getItem(PKCE_KEY) || "null");
  sessionStorage.removeItem(PKCE_KEY);
  const code = query.get("code");
  if (!pending || !code || query.get("state") !== pending.state) return false;
  const { issuer } = await discover();
  // RFC 9207 §2.4: our metadata says every answer names its issuer, so one without iss is refused too (mix-up).
  if (query.get("iss") !== issuer) return false;
  const { status, json } = await tokenRequest({
    grant_type: "authorization_code", code, redirect_uri: redirectUri(), code_verifier: pending.verifier,
  });
  if (status !== 200) return false;
  await keep(json);
  return true;
}

async function refresh() {
  const token = await load("refresh");
  if (!token) throw new SignedOutError("no refresh token");
  const { status, json } = await tokenRequest({ grant_type: "refresh_token", refresh_token: token });
  if (status === 200) {
    await keep(json);
    return;
  }
  // invalid_grant: the token was revoked, logged out, or has expired; nothing but a new sign-in helps.
  if (json.error === "invalid_grant") {
    await signOutLocally();
    throw new SignedOutError(json.error_description || json.error);
  }
  throw new Error(`refresh answered ${status} ${json.error || ""}`);
}

/** Forgets the tokens and the key, so the next sign-in starts with a new key. */
export async function signOutLocally() {
  accessToken = null;
  keyPair = null;
  await forget("refresh");
  await forget("account");
  await forget("dpopKey");
}

/**
 * Calls the phone API with the access token (refreshed when it is about to expire or is refused) and a DPoP proof
 * (retried once with the server's nonce when it asks for one). Returns { status, json }.
 */
export async function api(method, path, body) {
  if (!accessToken || Date.now() >= accessExpiresAt) await refresh();
  const call = async () => send(path, {
    method,
    headers: {
      Authorization: `DPoP ${accessToken}`,
      DPoP: await proof(method, path, accessToken),
      ...(body ? { "Content-Type": "application/json" } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  let response = await call();
  if (response.status === 401 && (await wantsNonce(response))) response = await call();
  if (response.status === 401) {
    await refresh();
    response = await call();
    if (response.status === 401 && (await wantsNonce(response))) response = await call();
  }
  if (response.status === 401) {
    await signOutLocally();
    throw new SignedOutError("the server refused the refreshed token");
  }
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : null };
}
