// Starts Swagger UI on /schema/reference (a file, since the Content-Security-Policy allows no inline script).
"use strict";
(function () {
  var node = document.getElementById("reference");
  if (!node || typeof SwaggerUIBundle !== "function") {
    return;
  }
  SwaggerUIBundle({
    url: node.dataset.openapiUrl,
    domNode: node,
    deepLinking: true,
    defaultModelsExpandDepth: 1,
    showExtensions: true,
    tryItOutEnabled: false,
    validatorUrl: null,
  });
})();
