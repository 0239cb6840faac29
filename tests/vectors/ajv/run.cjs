// Runs every vector in schemas/vectors/ under ajv (draft 2020-12) and prints the verdicts.
//
//   NODE_PATH=<dir>/node_modules node run.cjs <schemas dir> <bundle.json>
//
// Prints {"schemas": {<vector file>: [[verdict, ...] per group]}, "bundle": {...}}:
// "schemas" loads every *.schema.json with addSchema and validates each group against its
// own {"$ref": <$id>}; "bundle" loads only the single-file bundle and validates each group
// against the bundle (the union) or <bundle $id>#/$defs/<file stem> (any other schema). Vector
// files whose schemas the bundle does not hold are left out of "bundle".
"use strict";
const fs = require("fs");
const path = require("path");
const Ajv2020 = require("ajv/dist/2020").default;

const [schemaDir, bundlePath] = process.argv.slice(2);
const vectorDir = path.join(schemaDir, "vectors");

function newAjv() {
  // strict: true turns every ajv strictness check into an error (unknown keywords, unknown
  // formats, ignored keywords, union types, type-less applicators, required properties
  // not declared), so a schema that only works by accident fails here.
  return new Ajv2020({ strict: true, allErrors: false });
}

function run(ajv, refFor) {
  const out = {};
  for (const file of fs.readdirSync(vectorDir).filter((f) => f.endsWith(".json")).sort()) {
    const groups = JSON.parse(fs.readFileSync(path.join(vectorDir, file), "utf8"));
    if (groups.some((group) => refFor(group.schema.$ref) === null)) continue;
    out[file] = groups.map((group) => {
      const validate = ajv.compile({ $ref: refFor(group.schema.$ref) });
      return group.tests.map((test) => validate(test.data));
    });
  }
  return out;
}

const full = newAjv();
for (const file of fs.readdirSync(schemaDir).filter((f) => f.endsWith(".schema.json")).sort()) {
  full.addSchema(JSON.parse(fs.readFileSync(path.join(schemaDir, file), "utf8")));
}
const result = { schemas: run(full, (id) => id) };

if (bundlePath) {
  const bundle = JSON.parse(fs.readFileSync(bundlePath, "utf8"));
  const only = newAjv();
  only.addSchema(bundle);
  const root = bundle.$id.split("/").pop().replace(/\.bundle\.json$/, "");
  result.bundle = run(only, (id) => {
    const name = id.split("/").pop().replace(/\.schema\.json$/, "");
    if (name === root) return bundle.$id;
    return name in (bundle.$defs || {}) ? `${bundle.$id}#/$defs/${name}` : null;
  });
}
process.stdout.write(JSON.stringify(result));
