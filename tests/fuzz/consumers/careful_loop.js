// careful.js kept running (--telephony-consumer-loop): streams one after another, each ended by
// an empty line (or the end of input) and answered "handled", or "rejected" for an event
// without an action. Each start is counted in the file named by LOOP_STARTS, if set.
const readline = require("readline");
if (process.env.LOOP_STARTS) require("fs").appendFileSync(process.env.LOOP_STARTS, `${process.pid}\n`);

function handle(lines) {
  const calls = new Map();
  for (const line of lines) {
    const event = JSON.parse(line);
    if (event === null || typeof event !== "object" || typeof event.action !== "string") return "rejected";
    if (!/^dial(in|out)-/.test(event.action) || event.sessionId === undefined) continue;
    const key = `${event.callClientId}\u0000${event.sessionId}`;
    if (/-(stopped|error)$/.test(event.action)) calls.delete(key);
    else calls.set(key, event.action);
    if (typeof event.type === "string") event.type.toUpperCase();
    if (event.sipHeaders && typeof event.sipHeaders === "object") {
      for (const value of Object.values(event.sipHeaders)) String(value);
    }
  }
  return "handled";
}

let stream = [];
const input = readline.createInterface({ input: process.stdin });
input.on("line", (line) => {
  if (line.trim() !== "") {
    stream.push(line);
    return;
  }
  process.stdout.write(handle(stream) + "\n");
  stream = [];
});
input.on("close", () => {
  if (stream.length) process.stdout.write(handle(stream) + "\n");
});
