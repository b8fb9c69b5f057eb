// Starts Swagger UI on the API docs page. A static file, not an inline script: the
// Content-Security-Policy runs scripts from this origin only. The OpenAPI document's
// address comes from the page; no validator or other outside service is contacted.
"use strict";
window.addEventListener("load", function () {
  var holder = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: holder.getAttribute("data-openapi"),
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset]
  });
});
