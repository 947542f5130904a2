// @octokit/webhooks-methods (GitHub's official signing library for JavaScript), driven by
// conformance/tests/official_libraries.rs the same way as official.py:
// `node official.mjs verify|sign` with {"secret", "body", "headers"} on standard input.
import { sign, verify } from "@octokit/webhooks-methods";

let input = "";
for await (const chunk of process.stdin) input += chunk;
const given = JSON.parse(input);
const headers = Object.fromEntries(
  Object.entries(given.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
);

if (process.argv[2] === "verify") {
  const ok = await verify(given.secret, given.body, headers["x-hub-signature-256"] ?? "");
  console.log(ok ? "accepted" : "refused: verify returned false");
  process.exit(ok ? 0 : 1);
} else {
  console.log(JSON.stringify({ "X-Hub-Signature-256": await sign(given.secret, given.body) }));
}
