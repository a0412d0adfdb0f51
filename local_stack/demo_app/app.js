// The demo single-page app: the authorization code flow with PKCE (RFC 7636, S256 via Web Crypto),
// state and iss checked (RFC 6749 §10.12, RFC 9207), the code exchanged at the token endpoint,
// the ID token's claims shown (nonce, iss and aud checked; its signature is for the back end to
// verify, a page cannot keep a secret anyway), GET /me with the access token, refresh with
// rotation, and RP-initiated logout with id_token_hint and post_logout_redirect_uri.
//
// Storage: the PKCE verifier, state and nonce live in sessionStorage for the round trip to the
// sign-in page only (removed on return); the tokens live in memory only, so a reload forgets
// them (signing in again is one redirect: the single sign-on session remembers the user).
//
// DPoP (RFC 9449), when the API takes it (/demo/config.json says): the tokens are bound to a
// P-256 key made by Web Crypto as non-extractable (the page, and any script injected into it,
// can sign with it but never read it), kept in IndexedDB (a CryptoKey survives structured cloning
// without becoming readable) for the redirect to the sign-in page and deleted at sign-out. The
// authorization request names it (dpop_jkt, §10); every /token request and every call to /me
// carries a proof signed by it (htm, htu, iat, jti; ath for /me; the server's nonce when it asks
// for one with use_dpop_nonce and a DPoP-Nonce header, §8).
"use strict";

const CLIENT_ID = "demo-spa";
const REDIRECT_URI = window.location.origin + "/demo/";
const SCOPE = "openid profile read";
const PENDING = "demo-spa.pending"; // sessionStorage key for the round trip

let config = null; // the discovery document
let tokens = null; // {access_token, refresh_token, id_token}, in memory only
let idClaims = null;
let useDpop = false; // the API takes DPoP-bound tokens (AuthorizerDpop not off)
let dpopKey = null; // {pair, jwk, jkt}
let dpopNonce = null; // the last DPoP-Nonce a server sent
const KEY_DB = "demo-spa";
const KEY_STORE = "keys";
const KEY_NAME = "dpop";

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

// ---- DPoP ------------------------------------------------------------------------------------
function keyStore(mode, operation) {
  return new Promise((resolve, reject) => {
    const opening = indexedDB.open(KEY_DB, 1);
    opening.onupgradeneeded = () => opening.result.createObjectStore(KEY_STORE);
    opening.onerror = () => reject(opening.error);
    opening.onsuccess = () => {
      const db = opening.result;
      const tx = db.transaction(KEY_STORE, mode);
      const request = operation(tx.objectStore(KEY_STORE));
      tx.oncomplete = () => {
        db.close();
        resolve(request.result);
      };
      tx.onerror = () => reject(tx.error);
    };
  });
}

async function dpopKeyPair() {
  if (dpopKey) return dpopKey;
  let pair = await keyStore("readonly", (store) => store.get(KEY_NAME));
  if (!pair) {
    // extractable: false -- the private key can sign but can never be exported
    pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
    await keyStore("readwrite", (store) => store.put(pair, KEY_NAME));
  }
  const { crv, kty, x, y } = await crypto.subtle.exportKey("jwk", pair.publicKey);
  const jwk = { kty, crv, x, y };
  // RFC 7638: the required members in lexicographic order, no whitespace
  const jkt = await s256(JSON.stringify({ crv, kty, x, y }));
  dpopKey = { pair, jwk, jkt };
  return dpopKey;
}

async function forgetDpopKey() {
  dpopKey = null;
  dpopNonce = null;
  await keyStore("readwrite", (store) => store.delete(KEY_NAME));
}

function b64json(value) {
  return base64url(new TextEncoder().encode(JSON.stringify(value)));
}

async function dpopProof(method, url, accessToken) {
  const key = await dpopKeyPair();
  const claims = { jti: randomString(16), htm: method, htu: url, iat: Math.floor(Date.now() / 1000) };
  if (accessToken) claims.ath = await s256(accessToken);
  if (dpopNonce) claims.nonce = dpopNonce;
  const input = `${b64json({ typ: "dpop+jwt", alg: "ES256", jwk: key.jwk })}.${b64json(claims)}`;
  // Web Crypto's ECDSA signature is r || s, which is what JWS ES256 wants (RFC 7518 §3.4)
  const signature = await crypto.subtle.sign(
    { name: "ECDSA", hash: "SHA-256" },
    key.pair.privateKey,
    new TextEncoder().encode(input),
  );
  return `${input}.${base64url(signature)}`;
}

function tookNonce(response) {
  const nonce = response.headers.get("DPoP-Nonce");
  if (nonce) dpopNonce = nonce;
  return Boolean(nonce);
}

function decodePayload(jwt) {
  const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  const bytes = Uint8Array.from(atob(part), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

async function postForm(url, params) {
  for (let attempt = 1; ; attempt += 1) {
    const headers = { "Content-Type": "application/x-www-form-urlencoded" };
    if (useDpop) headers.DPoP = await dpopProof("POST", url);
    const response = await fetch(url, {
      method: "POST",
      headers,
      body: new URLSearchParams(params),
      credentials: "omit",
    });
    const body = await response.json().catch(() => ({}));
    // RFC 9449 §8: the server wants its nonce in the proof; once, with the nonce it sent
    if (useDpop && tookNonce(response) && body.error === "use_dpop_nonce" && attempt === 1) {
      log("the token endpoint asked for a DPoP nonce: retrying with it");
      continue;
    }
    if (!response.ok) throw new Error(`${url} answered ${response.status} ${body.error || ""}`.trim());
    if (useDpop && body.token_type !== "DPoP") throw new Error("the server did not bind the token to our key");
    return body;
  }
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
  const query = {
    response_type: "code",
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    scope: SCOPE,
    state,
    nonce,
    code_challenge: await s256(verifier),
    code_challenge_method: "S256",
  };
  // RFC 9449 §10: the code will be redeemable only with a proof by this key
  if (useDpop) query.dpop_jkt = (await dpopKeyPair()).jkt;
  url.search = new URLSearchParams(query).toString();
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
  log(`signed in as ${claims.sub}; scope "${result.scope}"; token type ${result.token_type}`);
}

async function callMe() {
  const url = `${window.location.origin}/me`;
  const token = tokens.access_token;
  let response;
  for (let attempt = 1; attempt <= 2; attempt += 1) {
    const headers = useDpop
      ? { Authorization: `DPoP ${token}`, DPoP: await dpopProof("GET", url, token) }
      : { Authorization: `Bearer ${token}` };
    response = await fetch(url, { headers, credentials: "omit" });
    // RFC 9449 §9: a resource server may want its own nonce (401 use_dpop_nonce)
    const challenge = response.headers.get("WWW-Authenticate") || "";
    if (!(useDpop && response.status === 401 && challenge.includes("use_dpop_nonce") && tookNonce(response))) break;
  }
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

async function signOut() {
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
  if (useDpop) await forgetDpopKey(); // the next sign-in gets a new key
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
  const demo = await (await fetch("config.json")).json();
  useDpop = demo.api_dpop !== "off" && (config.dpop_signing_alg_values_supported || []).includes("ES256");
  $("mode").textContent = useDpop ? "DPoP-bound (a non-extractable key in this browser)" : "bearer";
  const params = new URLSearchParams(window.location.search);
  window.history.replaceState(null, "", REDIRECT_URI); // the code must not stay in the address bar
  if (params.has("code") || params.has("error")) await finishSignIn(params);
  else if (params.has("state")) finishSignOut(params);
}

document.addEventListener("DOMContentLoaded", guarded(start));
