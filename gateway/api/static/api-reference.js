// The API reference page (gateway/api/api_reference.py). The OpenAPI document needs a bearer
// token, so the page asks for one, fetches the document with it and gives both to Swagger UI,
// which then sends the token with each "Try it out". The token is kept only in this page.
(function () {
  "use strict";

  const form = document.getElementById("token-form");
  const input = document.getElementById("token");
  const status = document.getElementById("token-status");

  function refusal(response) {
    if (response.status === 401) {
      return "That token was refused: it is unknown, expired or revoked.";
    }
    if (response.status === 429) {
      return "Too many refused tokens from here; wait a minute and try again.";
    }
    return `The gateway answered ${response.status} ${response.statusText}.`;
  }

  async function load(token) {
    status.textContent = "Loading the API reference…";
    let response;
    try {
      response = await fetch(form.dataset.specUrl, {
        headers: { Authorization: `Bearer ${token}`, Accept: "application/json" },
        cache: "no-store",
        credentials: "omit",
      });
    } catch (error) {
      status.textContent = `The gateway did not answer (${error.message}).`;
      return;
    }
    if (!response.ok) {
      status.textContent = refusal(response);
      return;
    }
    const spec = await response.json();
    const ui = SwaggerUIBundle({
      spec,
      dom_id: "#swagger-ui",
      deepLinking: true,
      showExtensions: true,
      showCommonExtensions: true,
      validatorUrl: null,
      onComplete: () => {
        ui.preauthorizeApiKey(form.dataset.securityScheme, token);
      },
    });
    input.value = "";
    status.textContent =
      "Loaded. Each request you try is sent with this token; reload the page to forget it.";
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (token) {
      load(token);
    }
  });
})();
