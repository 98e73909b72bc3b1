// AWS mode sign-in: Cognito hosted UI, OAuth 2 authorization code flow with PKCE (oidc-client-ts).
// Split into its own chunk; only imported when config.json says `"auth": {"mode": "cognito"}`.
// Endpoints are given explicitly (no discovery fetch) because Cognito's discovery document lacks an
// end_session_endpoint and the hosted UI domain is known from config.json anyway.
import { UserManager, WebStorageStateStore } from "oidc-client-ts";

let manager = null;
let settings = null;

function domainUrl(domain, region) {
  if (/^https?:\/\//.test(domain)) return domain.replace(/\/+$/, "");
  if (domain.includes(".")) return `https://${domain}`;
  return `https://${domain}.auth.${region}.amazoncognito.com`;
}

export async function init(auth) {
  settings = auth;
  const issuer = `https://cognito-idp.${auth.region}.amazonaws.com/${auth.userPoolId}`;
  const hosted = domainUrl(auth.domain, auth.region);
  const redirect = `${location.origin}${location.pathname}`;
  manager = new UserManager({
    authority: issuer,
    client_id: auth.clientId,
    redirect_uri: redirect,
    post_logout_redirect_uri: redirect,
    response_type: "code",
    scope: auth.scope || "openid email profile",
    userStore: new WebStorageStateStore({ store: window.sessionStorage }),
    automaticSilentRenew: false,
    metadata: {
      issuer,
      authorization_endpoint: `${hosted}/oauth2/authorize`,
      token_endpoint: `${hosted}/oauth2/token`,
      userinfo_endpoint: `${hosted}/oauth2/userInfo`,
      end_session_endpoint: `${hosted}/logout`,
      jwks_uri: `${issuer}/.well-known/jwks.json`,
    },
  });
  const params = new URLSearchParams(location.search);
  if (params.has("code") && params.has("state")) {
    const user = await manager.signinRedirectCallback();
    const back = (user.state && user.state.hash) || "#/overview";
    history.replaceState(null, "", `${location.pathname}${back}`);
    return user.access_token;
  }
  const user = await manager.getUser();
  if (user && !user.expired) return user.access_token;
  return null;
}

export async function signIn() {
  await manager.signinRedirect({ state: { hash: location.hash || "#/overview" } });
}

export async function signOut() {
  await manager.removeUser();
  const hosted = domainUrl(settings.domain, settings.region);
  const back = encodeURIComponent(`${location.origin}${location.pathname}`);
  location.assign(`${hosted}/logout?client_id=${encodeURIComponent(settings.clientId)}&logout_uri=${back}`);
}
