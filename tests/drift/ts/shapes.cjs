// Prints the shape of the ten telephony event types of a daily-js index.d.ts, as JSON.
//
//   NODE_PATH=<dir>/node_modules node shapes.cjs <path to index.d.ts>
//
// Uses the TypeScript type checker, not the text: each event type is what the SDK hands a
// handler, DailyEventObject<'<action>'>, with inherited members (DailyEventObjectBase's
// action and callClientId) and aliases resolved. Output, by action:
//   {"interface": "DailyEventObjectDialinReady",
//    "fields": {"<name>": {"optional": bool, "atoms": ["string" | "null" | "literal:<v>" | "object" | ...],
//                         "properties": {...same, nested...}, "index": {...} | null}}}
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");
const ts = require("typescript");

const ACTIONS = [
  "dialin-ready", "dialin-connected", "dialin-stopped", "dialin-error", "dialin-warning",
  "dialout-connected", "dialout-answered", "dialout-stopped", "dialout-error", "dialout-warning",
];

const dts = path.resolve(process.argv[2]);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "shapes-"));
const probe = path.join(dir, "probe.ts");
const module_ = dts.replace(/\.d\.ts$/, "");
fs.writeFileSync(
  probe,
  `import type { DailyEventObject } from ${JSON.stringify(module_)};\n` +
    ACTIONS.map((a, i) => `export type T${i} = DailyEventObject<${JSON.stringify(a)}>;\n`).join(""),
);

const program = ts.createProgram([probe], {
  strict: true, // strictNullChecks: keeps `| null` in the types
  noEmit: true,
  skipLibCheck: true,
  target: ts.ScriptTarget.ES2020,
  moduleResolution: ts.ModuleResolutionKind.Node10,
});
const checker = program.getTypeChecker();
const source = program.getSourceFile(probe);

function atom(t) {
  const f = t.flags;
  if (f & ts.TypeFlags.StringLiteral) return `literal:${t.value}`;
  if (f & ts.TypeFlags.NumberLiteral) return `literal:${t.value}`;
  if (f & ts.TypeFlags.BooleanLiteral) return "boolean";
  if (f & ts.TypeFlags.String) return "string";
  if (f & ts.TypeFlags.Number) return "number";
  if (f & ts.TypeFlags.Boolean) return "boolean";
  if (f & ts.TypeFlags.Null) return "null";
  if (f & ts.TypeFlags.Undefined) return "undefined";
  if (f & ts.TypeFlags.Any) return "any";
  if (f & ts.TypeFlags.Unknown) return "unknown";
  if (f & ts.TypeFlags.Object) return "object";
  return `other:${checker.typeToString(t)}`;
}

function describe(type, depth) {
  const parts = type.isUnion() ? type.types : [type];
  const atoms = [...new Set(parts.map(atom))].filter((a) => a !== "undefined").sort();
  const out = { atoms, text: checker.typeToString(type) };
  const objects = parts.filter((t) => t.flags & ts.TypeFlags.Object);
  if (objects.length === 1 && depth < 3) {
    const obj = objects[0];
    out.properties = fields(obj, depth + 1);
    const index = checker.getIndexTypeOfType(obj, ts.IndexKind.String);
    out.index = index ? describe(index, depth + 1) : null;
  }
  return out;
}

function fields(type, depth) {
  const out = {};
  for (const symbol of checker.getPropertiesOfType(type)) {
    const decl = symbol.valueDeclaration || (symbol.declarations || [])[0];
    const propType = checker.getTypeOfSymbolAtLocation(symbol, decl || source);
    out[symbol.getName()] = {
      optional: (symbol.flags & ts.SymbolFlags.Optional) !== 0,
      ...describe(propType, depth),
    };
  }
  return out;
}

const result = {};
for (const statement of source.statements) {
  if (!ts.isTypeAliasDeclaration(statement)) continue;
  const action = ACTIONS[Number(statement.name.text.slice(1))];
  const type = checker.getTypeAtLocation(statement.name);
  const symbol = type.aliasSymbol && type.aliasSymbol.getName() !== statement.name.text ? type.aliasSymbol : type.getSymbol();
  result[action] = { interface: symbol ? symbol.getName() : checker.typeToString(type), fields: fields(type, 0) };
}
fs.rmSync(dir, { recursive: true, force: true });
process.stdout.write(JSON.stringify(result, null, 1));
