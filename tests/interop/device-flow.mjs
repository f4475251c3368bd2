// An independent RFC 8628 client against AuthServer: openid-client does discovery, the device authorization request,
// polling and the refresh grant; jose verifies the access tokens against the published JWKS. Neither library is
// configured to bend to this server beyond allowing plain HTTP on loopback.
//
//   node device-flow.mjs <issuer> <client_id> [device_name]
//
// stdout carries exactly two JSON lines: {"user_code": ...} as soon as the device authorization response arrives (the
// caller approves it), then the results once tokens have been obtained, refreshed and verified. Diagnostics go to
// stderr. Any failure exits non-zero; the whole run is bounded to 60 seconds.

import * as client from 'openid-client';
import * as jose from 'jose';

const DEADLINE_MS = 60_000;
const SCOPE = 'openid profile offline_access api';
const AUDIENCE = 'api';

const [issuerArg, clientId, deviceName] = process.argv.slice(2);
if (!issuerArg || !clientId) {
  console.error('usage: node device-flow.mjs <issuer> <client_id> [device_name]');
  process.exit(64);
}

const deadline = AbortSignal.timeout(DEADLINE_MS);
const watchdog = setTimeout(() => {
  console.error(`device-flow: gave up after ${DEADLINE_MS / 1000} s`);
  process.exit(3);
}, DEADLINE_MS + 2_000);
watchdog.unref();

const log = (...args) => console.error('device-flow:', ...args);

// Observes (never alters) every request the library makes, so the report can say how polling went.
const tokenEndpointErrors = [];
const tokenTypesOnTheWire = []; // the library normalizes token_type to lower case; this is what the server sent
let tokenEndpoint;
async function observingFetch(url, init) {
  const response = await fetch(url, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, deadline]) : deadline });
  const body = init?.body instanceof URLSearchParams ? Object.fromEntries(init.body) : {};
  log(init?.method ?? 'GET', url, body.grant_type ?? '', '->', response.status);
  if (String(url) === tokenEndpoint) {
    try {
      const json = await response.clone().json();
      if (response.ok) {
        tokenTypesOnTheWire.push(json.token_type);
      } else {
        tokenEndpointErrors.push(json.error);
        log('  ', JSON.stringify(json));
      }
    } catch {
      if (!response.ok) tokenEndpointErrors.push(`status ${response.status}`);
    }
  }
  return response;
}

async function main() {
  const issuer = new URL(issuerArg);

  const config = await client.discovery(issuer, clientId, undefined, client.None(), {
    execute: [client.allowInsecureRequests],
    [client.customFetch]: observingFetch,
  });
  // Verify the ID token's signature too (openid-client skips it by default for TLS-protected responses).
  client.enableNonRepudiationChecks(config);
  const metadata = config.serverMetadata();
  tokenEndpoint = metadata.token_endpoint;
  log('discovered', metadata.issuer);

  // device_name is this server's extension parameter: the library passes unknown parameters through as they are.
  const parameters = deviceName ? { scope: SCOPE, device_name: deviceName } : { scope: SCOPE };
  const authorization = await client.initiateDeviceAuthorization(config, parameters);
  console.log(JSON.stringify({
    user_code: authorization.user_code,
    verification_uri: authorization.verification_uri,
    verification_uri_complete: authorization.verification_uri_complete,
    expires_in: authorization.expires_in,
    interval: authorization.interval,
  }));

  const tokens = await client.pollDeviceAuthorizationGrant(config, authorization, undefined, { signal: deadline });
  const polls = tokenEndpointErrors.length + 1;
  const slowDowns = tokenEndpointErrors.filter((e) => e === 'slow_down').length;
  const unexpectedPollErrors = tokenEndpointErrors.filter((e) => e !== 'authorization_pending' && e !== 'slow_down');
  if (unexpectedPollErrors.length > 0) throw new Error(`unexpected errors while polling: ${unexpectedPollErrors.join(', ')}`);
  if (!tokens.refresh_token) throw new Error('no refresh_token although offline_access was requested');
  const idClaims = tokens.claims();
  if (!idClaims) throw new Error('no id_token although openid was requested');

  const jwks = jose.createRemoteJWKSet(new URL(metadata.jwks_uri));
  const verifyAccessToken = (token) =>
    jose.jwtVerify(token, jwks, { issuer: metadata.issuer, audience: AUDIENCE, typ: 'at+jwt', algorithms: ['ES256'] });
  const access = await verifyAccessToken(tokens.access_token);

  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  const refreshedAccess = await verifyAccessToken(refreshed.access_token);
  const refreshedIdClaims = refreshed.claims();
  if (refreshedAccess.payload.sub !== access.payload.sub) throw new Error('the refreshed access token names another subject');
  if (refreshedAccess.payload.device_id !== access.payload.device_id) throw new Error('the refreshed access token names another device');

  console.log(JSON.stringify({
    token_type: tokenTypesOnTheWire[0],
    library_token_type: tokens.token_type,
    scope: tokens.scope,
    expires_in: tokens.expires_in,
    access_token_alg: access.protectedHeader.alg,
    access_token_typ: access.protectedHeader.typ,
    sub: access.payload.sub,
    client_id: access.payload.client_id,
    device_id: access.payload.device_id,
    id_token_sub: idClaims.sub,
    id_token_aud: idClaims.aud,
    polls,
    slow_downs: slowDowns,
    refreshed: true,
    refreshed_token_type: tokenTypesOnTheWire[1],
    refreshed_scope: refreshed.scope,
    refreshed_id_token_sub: refreshedIdClaims?.sub ?? null,
    refresh_token_rotated: Boolean(refreshed.refresh_token) && refreshed.refresh_token !== tokens.refresh_token,
  }));
}

try {
  await main();
  process.exit(0);
} catch (error) {
  console.error('device-flow: FAILED:', error?.stack ?? error);
  if (error?.cause !== undefined) console.error('device-flow: cause:', error.cause);
  if (error?.error !== undefined) console.error('device-flow: error response:', error.error, error.error_description ?? '');
  process.exit(1);
}
