// A careful Node.js consumer: sessions by (callClientId, sessionId), optional fields guarded.
// Broken input (not an object, no action) is rejected with exit code 65 (EX_DATAERR).
const lines = require("fs").readFileSync(0, "utf8").split("\n").filter((l) => l.trim());
const calls = new Map();
for (const line of lines) {
  const event = JSON.parse(line);
  if (event === null || typeof event !== "object" || typeof event.action !== "string") {
    process.stderr.write("rejected: an event without an action\n");
    process.exit(65);
  }
  if (!/^dial(in|out)-/.test(event.action) || event.sessionId === undefined) continue;
  const key = `${event.callClientId}\u0000${event.sessionId}`;
  if (/-(stopped|error)$/.test(event.action)) calls.delete(key);
  else calls.set(key, event.action);
  if (typeof event.type === "string") event.type.toUpperCase();
  if (event.sipHeaders && typeof event.sipHeaders === "object") {
    for (const value of Object.values(event.sipHeaders)) String(value);
  }
}
