// The demo single-page app: the authorization code flow with PKCE (RFC 7636, S256 via Web Crypto),
// state and iss checked (RFC 6749 §10.12, RFC 9207), the code exchanged at the token endpoint,
// the ID token's claims shown (nonce, iss and aud checked; its signature is for the back end to
// verify, a page cannot keep a secret anyway), GET /me with the access token, refresh with
// rotation, and RP-initiated logout with id_token_hint and post_logout_redirect_uri.
//
// Storage: the PKCE verifier, state and nonce live in sessionStorage for the round trip to the
// sign-in page only (removed on return); the tokens live in memory only, so a reload forgets
// them (signing in again is one redirect: the single sign-on session remembers the user).
"use strict";

const CLIENT_ID = "demo-spa";
const REDIRECT_URI = window.location.origin + "/demo/";
const SCOPE = "openid profile read";
const PENDING = "demo-spa.pending"; // sessionStorage key for the round trip

let config = null; // the discovery document
let tokens = null; // {access_token, refresh_token, id_token}, in memory only
let idClaims = null;

const $ = (id) => document.getElementById(id);

function log(message) {
  const item = document.createElement("li");
  item.textContent = message;
  $("log").appendChild(item);
}

function status(message) {
  $("status").textContent = message;
}

function base64url(bytes) {
  let text = "";
  for (const b of new Uint8Array(bytes)) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomString(byteCount) {
  return base64url(crypto.getRandomValues(new Uint8Array(byteCount)));
}

async function s256(text) {
  return base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

function decodePayload(jwt) {
  const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  const bytes = Uint8Array.from(atob(part), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

async function postForm(url, params) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(params),
    credentials: "omit",
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(`${url} answered ${response.status} ${body.error || ""}`.trim());
  return body;
}

function takePending() {
  const raw = sessionStorage.getItem(PENDING);
  sessionStorage.removeItem(PENDING); // single use, whatever happens next
  return raw ? JSON.parse(raw) : null;
}

function render() {
  const signedIn = tokens !== null;
  $("sign-in").disabled = signedIn;
  for (const id of ["call-me", "refresh", "sign-out"]) $(id).disabled = !signedIn;
  $("claims").textContent = idClaims ? JSON.stringify(idClaims, null, 2) : "(not signed in)";
}

async function signIn() {
  const verifier = randomString(32);
  const state = randomString(16);
  const nonce = randomString(16);
  sessionStorage.setItem(PENDING, JSON.stringify({ kind: "sign-in", verifier, state, nonce }));
  const url = new URL(config.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    scope: SCOPE,
    state,
    nonce,
    code_challenge: await s256(verifier),
    code_challenge_method: "S256",
  }).toString();
  window.location.assign(url.toString());
}

async function finishSignIn(params) {
  const pending = takePending();
  if (!pending || pending.kind !== "sign-in") throw new Error("no sign-in was started from this tab");
  if (params.get("state") !== pending.state) throw new Error("state does not match: response refused");
  // RFC 9207: this server always sends iss; a response from another issuer is a mix-up attack.
  if (params.get("iss") !== config.issuer) throw new Error("iss does not match the issuer: response refused");
  if (params.has("error")) throw new Error(`sign-in failed: ${params.get("error")}`);
  const result = await postForm(config.token_endpoint, {
    grant_type: "authorization_code",
    code: params.get("code"),
    redirect_uri: REDIRECT_URI,
    client_id: CLIENT_ID,
    code_verifier: pending.verifier,
  });
  const claims = decodePayload(result.id_token);
  const audience = [].concat(claims.aud);
  if (claims.iss !== config.issuer || !audience.includes(CLIENT_ID) || claims.nonce !== pending.nonce) {
    throw new Error("the ID token is not for this sign-in (iss, aud or nonce): refused");
  }
  tokens = result;
  idClaims = claims;
  log(`signed in as ${claims.sub}; scope "${result.scope}"`);
}

async function callMe() {
  const response = await fetch("/me", { headers: { Authorization: `Bearer ${tokens.access_token}` } });
  const body = await response.json().catch(() => ({}));
  $("me").textContent = `${response.status}\n${JSON.stringify(body, null, 2)}`;
  log(`GET /me: ${response.status}`);
}

async function refresh() {
  const before = tokens.refresh_token;
  const result = await postForm(config.token_endpoint, {
    grant_type: "refresh_token",
    refresh_token: before,
    client_id: CLIENT_ID,
  });
  tokens = { ...tokens, ...result };
  log(`refreshed: new access token; refresh token ${result.refresh_token !== before ? "rotated" : "NOT rotated"}`);
}

function signOut() {
  const state = randomString(16);
  sessionStorage.setItem(PENDING, JSON.stringify({ kind: "sign-out", state }));
  const url = new URL(config.end_session_endpoint);
  url.search = new URLSearchParams({
    id_token_hint: tokens.id_token,
    post_logout_redirect_uri: REDIRECT_URI,
    client_id: CLIENT_ID,
    state,
  }).toString();
  tokens = null;
  idClaims = null;
  window.location.assign(url.toString());
}

function finishSignOut(params) {
  const pending = takePending();
  if (!pending || pending.kind !== "sign-out" || params.get("state") !== pending.state) {
    throw new Error("state does not match the sign-out this tab started");
  }
  log("signed out (the single sign-on session and its refresh tokens are over)");
}

function guarded(action) {
  return async () => {
    try {
      await action();
      status(tokens ? "Signed in." : "Signed out.");
    } catch (error) {
      status(`Error: ${error.message}`);
      log(`error: ${error.message}`);
    }
    render();
  };
}

async function start() {
  $("client-id").textContent = CLIENT_ID;
  $("sign-in").addEventListener("click", guarded(signIn));
  $("call-me").addEventListener("click", guarded(callMe));
  $("refresh").addEventListener("click", guarded(refresh));
  $("sign-out").addEventListener("click", guarded(signOut));
  if (window.location.hostname === "localhost") {
    status("Open this page at 127.0.0.1 (the registered loopback redirect), not localhost.");
    return;
  }
  const response = await fetch("/.well-known/openid-configuration");
  config = await response.json();
  const params = new URLSearchParams(window.location.search);
  window.history.replaceState(null, "", REDIRECT_URI); // the code must not stay in the address bar
  if (params.has("code") || params.has("error")) await finishSignIn(params);
  else if (params.has("state")) finishSignOut(params);
}

document.addEventListener("DOMContentLoaded", guarded(start));
