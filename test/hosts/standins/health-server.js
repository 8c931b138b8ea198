// TEST DOUBLE: the HTTP face of a stand-in NIM container, started (detached) by the stand-in `docker`
// when a container publishes ports. Answers like NIM's health API:
//   GET /v1/health/live   200 {"object":"health.response","message":"Service is live."}
//   GET /v1/health/ready  200 {"object":"health.response","message":"Service is ready."} once readyAtMs has
//                         passed; 503 {"object":"health.response","message":"Service is not ready."} before
//                         (readyAtMs -1: never ready)
//   GET /health           vLLM's readiness probe: 200 with an empty body when ready, 503 before
//   GET /v1/models        200 {"object":"list","data":[{"id":<model>,"object":"model"}]}
//   anything else         404
// With cfg.paths (ImageBehaviour.httpPaths: Prometheus "/-/ready", Grafana "/api/health", exporters
// "/metrics", IRIS "/api/monitor/metrics"), exactly those paths answer instead: 200 "ok" once ready,
// 503 before.
// Exits at exitAtMs (a container that crashes) or on SIGTERM (docker stop / rm). Writes its pid to
// pidFile only once every port listens (on the address docker -p gave, 0.0.0.0 by default), so `docker run` can wait for it.
"use strict";
const http = require("http");
const fs = require("fs");

const cfg = JSON.parse(process.argv[2]);
const json = (res, code, body) => {
  res.writeHead(code, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
};
const handler = (req, res) => {
  const url = (req.url || "").split("?")[0];
  if (req.method !== "GET") return json(res, 405, { detail: "Method Not Allowed" });
  if (cfg.paths) {
    if (!cfg.paths.includes(url)) return json(res, 404, { detail: "Not Found" });
    const ready = cfg.readyAtMs !== -1 && Date.now() >= cfg.readyAtMs;
    res.writeHead(ready ? 200 : 503, { "content-type": "text/plain" });
    return res.end(ready ? "ok\n" : "not ready\n");
  }
  if (url === "/v1/health/live") return json(res, 200, { object: "health.response", message: "Service is live." });
  if (url === "/v1/health/ready") {
    const ready = cfg.readyAtMs !== -1 && Date.now() >= cfg.readyAtMs;
    return ready
      ? json(res, 200, { object: "health.response", message: "Service is ready." })
      : json(res, 503, { object: "health.response", message: "Service is not ready." });
  }
  if (url === "/health") {
    const ready = cfg.readyAtMs !== -1 && Date.now() >= cfg.readyAtMs;
    res.writeHead(ready ? 200 : 503);
    return res.end();
  }
  if (url === "/v1/models") return json(res, 200, { object: "list", data: [{ id: cfg.model, object: "model" }] });
  return json(res, 404, { detail: "Not Found" });
};

let listening = 0;
const servers = cfg.ports.map(({ port, address }) => {
  const s = http.createServer(handler);
  s.on("error", (e) => {
    process.stderr.write(`health-server: ${e.message}\n`);
    process.exit(1);
  });
  s.listen(port, address, () => {
    if (++listening === cfg.ports.length) fs.writeFileSync(cfg.pidFile, `${process.pid}\n`, { mode: 0o666 });
  });
  return s;
});
const stop = () => {
  for (const s of servers) s.close();
  process.exit(0);
};
process.on("SIGTERM", stop);
if (cfg.exitAtMs) setTimeout(stop, Math.max(0, cfg.exitAtMs - Date.now()));
