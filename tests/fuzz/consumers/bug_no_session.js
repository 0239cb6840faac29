// Planted bug (Node.js): fails on a dialout-error with no sessionId (L12).
const lines = require("fs").readFileSync(0, "utf8").split("\n").filter((l) => l.trim());
const calls = new Map();
for (const line of lines) {
  const event = JSON.parse(line);
  if (event.action === "dialout-error" || event.action === "dialout-warning") {
    calls.delete(event.sessionId.slice(0, 36)); // BUG: sessionId may be absent
  }
}
