/** The frontend's CloudFront Functions (runtime cloudfront-js-2.0), as code the tests run. */

/** Hashed build output (`/assets/app.3f9a1c.js`) never changes under its name: browsers keep it a year. */
export const ASSETS_CACHE_CONTROL = "public, max-age=31536000, immutable";

/**
 * Viewer-request function of the default behavior: a path whose last segment has no extension is a
 * client-side route and gets the app (`/index.html`); anything with an extension is a file and
 * goes to S3 as asked, so a missing file is a 404. CloudFront's custom error responses would apply
 * to every behavior, `/assets/*` included, and answer a missing hashed file with index.html and 200.
 */
export const SPA_ROUTING_CODE = [
  "function handler(event) {",
  "  var request = event.request;",
  '  var last = request.uri.substring(request.uri.lastIndexOf("/") + 1);',
  '  if (last.indexOf(".") === -1) request.uri = "/index.html";',
  "  return request;",
  "}",
].join("\n");

/**
 * Viewer-response function of `/assets/*`: the year-long immutable Cache-Control goes on files that
 * exist (200, 206, 304) only. CloudFront does not run viewer-response functions when the origin
 * answers 400 or more, and the function checks the status as well, so a 404 never carries it.
 */
export const ASSETS_CACHE_CODE = [
  "function handler(event) {",
  "  var response = event.response;",
  "  var status = response.statusCode;",
  `  if (status === 200 || status === 206 || status === 304) response.headers["cache-control"] = { value: "${ASSETS_CACHE_CONTROL}" };`,
  "  return response;",
  "}",
].join("\n");
