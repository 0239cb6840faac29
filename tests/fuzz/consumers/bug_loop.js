// Planted bug, kept running (--telephony-consumer-loop): reads sessionId.length of every
// dialout-error, which may have none (L12). The crash ends the program; the fuzzer restarts it.
const readline = require("readline");
if (process.env.LOOP_STARTS) require("fs").appendFileSync(process.env.LOOP_STARTS, `${process.pid}\n`);

let stream = [];
const input = readline.createInterface({ input: process.stdin });
function handle(lines) {
  for (const line of lines) {
    const event = JSON.parse(line);
    if (event.action === "dialout-error") event.sessionId.length; // BUG: sessionId is optional
  }
  return "handled";
}
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
