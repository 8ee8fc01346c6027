// Progressive enhancement only: every page works without this file. It focuses the error
// summary, and adds passkey sign-in and registration where the browser supports WebAuthn.
(function () {
  "use strict";
  function b64urlToBuf(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s), buf = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) buf[i] = bin.charCodeAt(i);
    return buf.buffer;
  }
  function bufToB64url(buf) {
    var bytes = new Uint8Array(buf), s = "";
    for (var i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function post(url, csrf, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", "x-csrf-token": csrf },
      body: JSON.stringify(body || {}),
    }).then(function (res) {
      return res.json().then(function (json) {
        if (!res.ok) throw json;
        return json;
      });
    });
  }
  function showError(button) {
    var el = button.parentNode.querySelector("[data-passkey-error]");
    if (el) el.hidden = false;
    button.disabled = false;
  }

  function register(button) {
    var csrf = button.getAttribute("data-csrf");
    button.disabled = true;
    post("/passkeys/register/start", csrf).then(function (started) {
      var pk = started.options.publicKey;
      pk.challenge = b64urlToBuf(pk.challenge);
      pk.user.id = b64urlToBuf(pk.user.id);
      (pk.excludeCredentials || []).forEach(function (c) { c.id = b64urlToBuf(c.id); });
      return navigator.credentials.create({ publicKey: pk }).then(function (cred) {
        return post("/passkeys/register/finish", csrf, {
          ceremony: started.ceremony,
          name: navigator.platform || "",
          credential: {
            id: cred.id,
            rawId: bufToB64url(cred.rawId),
            type: cred.type,
            extensions: {},
            response: {
              attestationObject: bufToB64url(cred.response.attestationObject),
              clientDataJSON: bufToB64url(cred.response.clientDataJSON),
            },
          },
        });
      });
    }).then(function () { window.location.reload(); }, function () { showError(button); });
  }

  function signIn(button) {
    var csrf = button.getAttribute("data-csrf");
    var login = document.getElementById("login");
    if (!login || !login.value.trim()) {
      if (login) login.focus();
      showError(button);
      return;
    }
    button.disabled = true;
    post("/passkeys/sign-in/start", csrf, { login: login.value }).then(function (started) {
      var pk = started.options.publicKey;
      pk.challenge = b64urlToBuf(pk.challenge);
      (pk.allowCredentials || []).forEach(function (c) { c.id = b64urlToBuf(c.id); });
      return navigator.credentials.get({ publicKey: pk }).then(function (cred) {
        return post("/passkeys/sign-in/finish", csrf, {
          ceremony: started.ceremony,
          next: button.getAttribute("data-next") || "",
          credential: {
            id: cred.id,
            rawId: bufToB64url(cred.rawId),
            type: cred.type,
            extensions: {},
            response: {
              authenticatorData: bufToB64url(cred.response.authenticatorData),
              clientDataJSON: bufToB64url(cred.response.clientDataJSON),
              signature: bufToB64url(cred.response.signature),
              userHandle: cred.response.userHandle ? bufToB64url(cred.response.userHandle) : null,
            },
          },
        });
      });
    }).then(function (done) { window.location.assign(done.redirect); }, function () { showError(button); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector(".error-summary");
    if (summary) summary.focus();
    if (!window.PublicKeyCredential) {
      document.querySelectorAll("[data-needs-webauthn]").forEach(function (el) { el.hidden = true; });
      return;
    }
    document.querySelectorAll("[data-passkey-register]").forEach(function (b) {
      b.addEventListener("click", function () { register(b); });
    });
    document.querySelectorAll("[data-passkey-sign-in]").forEach(function (b) {
      b.addEventListener("click", function () { signIn(b); });
    });
  });
})();
