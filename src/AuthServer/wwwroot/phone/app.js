// The phone app's screens: sign in once, then scan (or type) a waiting screen's code, see who is asking, and
// approve or deny; plus the account's linked devices. Every word comes from strings.js.
import { strings, format, language } from "./strings.js";
import { account, api, finishSignIn, OfflineError, signIn, SignedOutError, signOutLocally } from "./auth.js";
import { CameraError, startScanning } from "./scanner.js";

const app = document.querySelector("[data-app]");
const $ = (selector) => document.querySelector(selector);

let stopCamera = null;
let scan = null;

// ---- Screens ----

function show(name) {
  stopCamera?.();
  stopCamera = null;
  for (const section of app.querySelectorAll("[data-screen]")) section.hidden = section.dataset.screen !== name;
  app.dataset.screenCurrent = name;
  window.scrollTo(0, 0);
}

/** The waiting screen, saying what the app is waiting for. */
function showLoading(text) {
  $("[data-screen=loading] p").textContent = text;
  show("loading");
}

function fillStaticText() {
  document.documentElement.lang = language;
  for (const element of document.querySelectorAll("[data-text]")) element.textContent = strings[element.dataset.text];
}

/** The error screen: a title, what to do, and one button per way on. */
function showError(kind, actions) {
  const { title, text } = strings.errors[kind];
  $("[data-error-title]").textContent = title;
  $("[data-error-text]").textContent = text;
  app.dataset.error = kind;
  const buttons = $("[data-error-actions]");
  buttons.replaceChildren(...actions.map(([label, run], index) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = index === 0 ? "primary wide" : "secondary wide";
    button.textContent = label;
    button.dataset.testid = `error-action-${index}`;
    button.addEventListener("click", run);
    return button;
  }));
  show("error");
}

const toHome = [strings.back, () => goHome()];
const toScan = [strings.tryAgain, () => startScan()];
const toType = [strings.typeCodeInstead, () => showType()];

/** Every failure of a server call ends here: offline and signed out have their own screens. */
function failed(failure, retry) {
  if (failure instanceof OfflineError) return showError("offline", [[strings.tryAgain, retry], toHome]);
  if (failure instanceof SignedOutError) return showError("signedOut", [[strings.signIn, () => startSignIn()]]);
  console.error(failure);
  return showError("unexpected", [[strings.tryAgain, retry], toHome]);
}

// ---- Sign-in ----

function deviceName() {
  const platform = navigator.userAgentData?.platform || (/Android/.test(navigator.userAgent) ? "Android"
    : /iPhone|iPad/.test(navigator.userAgent) ? "iOS" : "");
  return platform ? `AuthServer app (${platform})` : "AuthServer app";
}

async function startSignIn() {
  showLoading(strings.signingIn);
  try {
    await signIn(deviceName());
  } catch (failure) {
    failed(failure, startSignIn);
  }
}

async function goHome() {
  const name = await account();
  if (name === null) return show("signed-out");
  $("[data-account]").textContent = format(strings.signedInAs, { name });
  show("home");
}

async function signOut() {
  try {
    const { status, json } = await api("GET", "/api/phone/devices");
    const current = status === 200 ? json.find((device) => device.current) : null;
    if (current) await api("DELETE", `/api/phone/devices/${encodeURIComponent(current.id)}`);
  } catch (failure) {
    // Signing out must work offline or with a token the server has already forgotten: the local part still happens.
    if (!(failure instanceof OfflineError || failure instanceof SignedOutError)) console.error(failure);
  }
  await signOutLocally();
  show("signed-out");
}

// ---- Scanning and typing ----

async function startScan() {
  if (!navigator.onLine) return showError("offline", [toScan, toType]);
  show("scan");
  $("[data-scan-status]").textContent = strings.startingCamera;
  try {
    stopCamera = await startScanning($("[data-video]"), (text) => {
      stopCamera = null;
      submitCode(text);
    });
    // Left while the camera was starting: let it go at once.
    if (app.dataset.screenCurrent !== "scan") {
      stopCamera?.();
      stopCamera = null;
      return;
    }
    $("[data-scan-status]").textContent = strings.scanHint;
  } catch (failure) {
    if (!(failure instanceof CameraError)) return failed(failure, startScan);
    if (failure.kind === "refused") return showError("cameraRefused", [toScan, toType]);
    return showError("noCamera", [toType, toHome]);
  }
}

function showType() {
  show("type");
  const input = $("#code");
  input.value = "";
  input.focus();
}

async function submitCode(code) {
  showLoading(strings.checkingCode);
  const retry = () => submitCode(code);
  let answer;
  try {
    answer = await api("POST", "/api/phone/scans", { code });
  } catch (failure) {
    return failed(failure, retry);
  }
  const { status, json } = answer;
  if (status === 201) return showConfirm(json);
  if (status === 410) return showError(json?.reason === "used" ? "used" : "expired", [toScan, toHome]);
  if (status === 404) return showError("unknownCode", [toScan, toType]);
  if (status === 409) return showError("claimed", [toHome]);
  if (status === 429) return showError("tooMany", [toHome]);
  return showError("unexpected", [[strings.tryAgain, retry], toHome]);
}

// ---- Confirm ----

/** What is being signed in, in a few words: the server's browser-and-system summary, else the device's own name. */
const whatOf = (requester) => requester.summary || requester.device_name || null;

function showConfirm(answer) {
  scan = answer;
  const { client, requester } = answer;
  const what = whatOf(requester);
  $("[data-question]").textContent = what ? format(strings.question, { what }) : strings.questionFallback;
  $("[data-client]").textContent = format(strings.wants, { app: client.name });
  const logo = $("[data-client-logo]");
  const letter = $("[data-client-letter]");
  logo.hidden = !client.logo_uri;
  letter.hidden = Boolean(client.logo_uri);
  if (client.logo_uri) logo.src = client.logo_uri;
  letter.textContent = (client.name || "?").trim().charAt(0).toUpperCase();
  $("[data-device-name]").textContent = requester.device_name || strings.unnamed;
  $("[data-ip]").textContent = requester.ip || strings.unknown;
  const asked = $("[data-asked]");
  asked.dateTime = requester.created_at;
  asked.textContent = new Date(requester.created_at).toLocaleString(language);
  $("[data-user-code]").textContent = answer.user_code;
  $("[data-user-agent]").textContent = requester.user_agent || strings.unknown;
  $("[data-scopes]").replaceChildren(...(answer.scope_descriptions ?? answer.scopes).map((text) => {
    const item = document.createElement("li");
    item.textContent = text;
    return item;
  }));
  $("details[data-testid=details]").open = false;

  // Number matching: the user must pick the number the other screen shows; the three choices replace Approve.
  const numbers = $("[data-numbers]");
  const choices = answer.number_choices ?? null;
  numbers.hidden = !choices;
  $("[data-numbers-hint]").hidden = !choices;
  $("[data-action=approve]").hidden = Boolean(choices);
  numbers.replaceChildren(...(choices ?? []).map((number) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "choice number";
    button.textContent = String(number);
    button.dataset.testid = `number-${number}`;
    button.addEventListener("click", () => decide(true, number));
    return button;
  }));
  show("confirm");
}

async function decide(approve, number) {
  const current = scan;
  if (!current) return goHome();
  const what = whatOf(current.requester) || current.client.name;
  const body = { confirm_ticket: current.confirm_ticket, ...(number !== undefined ? { number } : {}) };
  showLoading(strings.sending);
  let answer;
  try {
    answer = await api("POST", `/api/phone/scans/${encodeURIComponent(current.scan_id)}/${approve ? "approve" : "deny"}`, body);
  } catch (failure) {
    scan = current;
    return failed(failure, () => decide(approve, number));
  }
  scan = null;
  const { status, json } = answer;
  if (status === 204) {
    $("[data-result]").textContent = format(approve ? strings.approved : strings.denied, { what });
    $("[data-result]").classList.toggle("good", approve);
    return show("result");
  }
  if (status === 403 && json?.title === "Wrong number") return showError("wrongNumber", [toHome]);
  if (status === 403) return showError("ticket", [toScan, toHome]);
  if (status === 410) return showError(json?.reason === "used" ? "used" : "expired", [toScan, toHome]);
  if (status === 409) return showError("claimed", [toHome]);
  return showError("unexpected", [toHome]);
}

// ---- Linked devices ----

async function showDevices() {
  showLoading(strings.loadingDevices);
  let answer;
  try {
    answer = await api("GET", "/api/phone/devices");
  } catch (failure) {
    return failed(failure, showDevices);
  }
  if (answer.status !== 200) return showError("unexpected", [[strings.tryAgain, showDevices], toHome]);
  const list = $("[data-device-list]");
  if (answer.json.length === 0) {
    const item = document.createElement("li");
    item.textContent = strings.noDevices;
    list.replaceChildren(item);
  } else {
    list.replaceChildren(...answer.json.map(deviceItem));
  }
  show("devices");
}

function deviceItem(device) {
  const item = document.createElement("li");
  item.dataset.testid = "device";
  item.dataset.deviceId = device.id;
  const name = document.createElement("strong");
  name.textContent = device.name;
  const client = document.createElement("span");
  client.className = "muted small";
  client.textContent = ` · ${device.client.name}`;
  const when = document.createElement("p");
  when.className = "muted small";
  const lastUsed = document.createElement("time");
  lastUsed.dateTime = device.last_used_at;
  lastUsed.dataset.testid = "last-used";
  lastUsed.textContent = format(strings.lastUsed, { time: new Date(device.last_used_at).toLocaleString(language) });
  when.append(lastUsed, document.createTextNode(device.ip ? ` · ${device.ip}` : ""));
  item.append(name, client);
  if (device.current) {
    const badge = document.createElement("span");
    badge.className = "badge";
    badge.textContent = strings.thisPhone;
    item.append(" ", badge);
  }
  const button = document.createElement("button");
  button.type = "button";
  button.className = "secondary";
  button.dataset.testid = "log-out";
  button.textContent = device.current ? strings.signOut : strings.logOut;
  button.addEventListener("click", () => (device.current ? signOut() : logOut(device.id)));
  item.append(when, button);
  return item;
}

async function logOut(id) {
  try {
    const { status } = await api("DELETE", `/api/phone/devices/${encodeURIComponent(id)}`);
    if (status !== 204 && status !== 404) return showError("unexpected", [[strings.tryAgain, () => logOut(id)], toHome]);
  } catch (failure) {
    return failed(failure, () => logOut(id));
  }
  return showDevices();
}

// ---- Start ----

function watchConnection() {
  const banner = $("[data-offline-banner]");
  banner.textContent = strings.offlineBanner;
  const update = () => { banner.hidden = navigator.onLine; };
  window.addEventListener("online", update);
  window.addEventListener("offline", update);
  update();
}

function wireActions() {
  const actions = {
    "sign-in": startSignIn, "sign-out": signOut, scan: startScan, type: showType, devices: showDevices,
    home: goHome, approve: () => decide(true), deny: () => decide(false),
  };
  app.addEventListener("click", (event) => {
    const target = event.target.closest("[data-action]");
    if (target && actions[target.dataset.action]) actions[target.dataset.action]();
  });
  $("[data-type-form]").addEventListener("submit", (event) => {
    event.preventDefault();
    const code = $("#code").value.trim();
    if (code) submitCode(code);
  });
}

async function start() {
  fillStaticText();
  wireActions();
  watchConnection();
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/phone/sw.js", { scope: "/phone/" }).catch(() => {});

  if (location.pathname.endsWith("/callback")) {
    const query = new URLSearchParams(location.search);
    // The code must not stay in the address bar or the history.
    history.replaceState(null, "", new URL(".", location.href).pathname);
    let signedIn = false;
    try {
      signedIn = !query.has("error") && (await finishSignIn(query));
    } catch (failure) {
      return failed(failure, startSignIn);
    }
    if (!signedIn) return showError("signInFailed", [[strings.signIn, () => startSignIn()]]);
  }
  await goHome();
  app.dataset.ready = "true";
}

start();
