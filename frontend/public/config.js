// Development default. The image replaces this file at start-up from API_URL
// (docker/render-config.sh), so one build runs against any API.
window.AIDO_CONFIG = { apiUrl: "http://localhost:8000" };
