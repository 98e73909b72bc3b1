// Sign-in page: paste the admin or viewer token (local mode), or go to the Cognito hosted UI (AWS).
import { useState } from "preact/hooks";
import { setLocalToken } from "../auth.js";

export function TokenPage({ cognito, message, onToken, onCognito }) {
  const [value, setValue] = useState("");
  const submit = (e) => {
    e.preventDefault();
    if (!value.trim()) return;
    setLocalToken(value);
    onToken();
  };
  return (
    <main class="signin" id="main">
      <h1>
        <span class="logo" aria-hidden="true">◉</span> Vigil
      </h1>
      {message && (
        <p class="notice bad" role="alert">
          {message}
        </p>
      )}
      {cognito ? (
        <>
          <p>Sign in with your organisation's account.</p>
          <button type="button" class="primary" onClick={onCognito}>
            Sign in
          </button>
        </>
      ) : (
        <form onSubmit={submit}>
          <p>
            Open the link <code>vigil serve</code> printed (it carries the token), or paste the admin token or a
            viewer token here.
          </p>
          <p class="muted small" id="session-hint">
            A new tab signs itself in from another open Vigil tab. With none open, sign in again here: the admin
            token is also in <code>.vigil/admin-token</code> beside the data.
          </p>
          <label for="token">Access token</label>
          <input id="token" name="token" type="password" autocomplete="off" value={value} onInput={(e) => setValue(e.currentTarget.value)} required />
          <button type="submit" class="primary">
            Sign in
          </button>
        </form>
      )}
    </main>
  );
}
