#!/usr/bin/env node
// Every state-changing MongoDB query in src/ carries a header (CONTRIBUTING.md, "Writing a
// state-changing query"). This check finds each write and fails, with `file:line`, on every one
// that has none.
//
// A write is, in any src/**/*.ts file (comments and strings never count, the files are parsed
// with the TypeScript compiler already in devDependencies):
//   - a call `x.M(...)` where M is insertOne, insertMany, updateOne, updateMany, replaceOne,
//     deleteOne, deleteMany, findOneAndUpdate, findOneAndDelete, findOneAndReplace or bulkWrite;
//   - a bulk operation `{ M: { ... } }` where M is insertOne, updateOne, updateMany, replaceOne,
//     deleteOne or deleteMany (an element of a bulkWrite `ops` array, wherever it is built).
// Its header is the first of these that holds a line starting (after `*` or `//`) with `filter:`
// and a line starting with `safe:`:
//   1. the comments directly above the statement holding the write, or above any statement that
//      encloses that one inside the same function (an `if`, `for` or `try` around it);
//   2. the doc comment of the nearest enclosing named function: a function declaration, a method,
//      constructor or accessor, or a function or arrow assigned to a variable or property
//      (anonymous callbacks such as `.map((doc) => ...)` are looked through, not stopped at).
// One header may cover several writes in its function; it must then describe each of them.
// The other lines of the format (update:/insert:/delete:, returns:) are for the reviewer to check.
//
// Usage: node scripts/check-query-headers.mjs [root]   (exit 1 and one line per write without a header)
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const CALLS = new Set([
  'insertOne',
  'insertMany',
  'updateOne',
  'updateMany',
  'replaceOne',
  'deleteOne',
  'deleteMany',
  'findOneAndUpdate',
  'findOneAndDelete',
  'findOneAndReplace',
  'bulkWrite',
]);
const BULK_OPS = new Set(['insertOne', 'updateOne', 'updateMany', 'replaceOne', 'deleteOne', 'deleteMany']);
const FILTER_LINE = /^[ \t]*(?:\/\/+|\/?\*+)?[ \t]*filter:/m;
const SAFE_LINE = /^[ \t]*(?:\/\/+|\/?\*+)?[ \t]*safe:/m;

const root = process.argv[2] ?? '.';

function tsFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return tsFiles(path);
    return entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The write a node is, if it is one: the method or bulk operation name. */
function writeName(node) {
  if (ts.isCallExpression(node)) {
    const callee = node.expression;
    if (ts.isPropertyAccessExpression(callee) && CALLS.has(callee.name.text)) return callee.name.text;
  } else if (ts.isPropertyAssignment(node) && ts.isObjectLiteralExpression(node.initializer)) {
    const name = ts.isIdentifier(node.name) || ts.isStringLiteral(node.name) ? node.name.text : undefined;
    if (name && BULK_OPS.has(name)) return `{ ${name}: … }`;
  }
  return undefined;
}

function leadingComments(node, text) {
  const ranges = ts.getLeadingCommentRanges(text, node.getFullStart()) ?? [];
  return ranges.map((r) => text.slice(r.pos, r.end)).join('\n');
}

function isFunctionLike(node) {
  return (
    ts.isFunctionDeclaration(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node) ||
    ts.isArrowFunction(node) ||
    ts.isFunctionExpression(node)
  );
}

/** The node whose leading comments document a function: itself, or what it is assigned to. */
function documentedAs(fn) {
  if (!ts.isArrowFunction(fn) && !ts.isFunctionExpression(fn)) return fn;
  const parent = fn.parent;
  if (ts.isPropertyDeclaration(parent) || ts.isPropertyAssignment(parent)) return parent;
  if (ts.isVariableDeclaration(parent)) {
    // `export const f = () => …`: the comment sits above the whole statement.
    const statement = parent.parent?.parent;
    return statement && ts.isVariableStatement(statement) ? statement : parent;
  }
  return undefined; // an anonymous callback: look further out
}

function hasHeader(comment) {
  return FILTER_LINE.test(comment) && SAFE_LINE.test(comment);
}

function headed(node, text) {
  for (let at = node.parent; at && !ts.isSourceFile(at); at = at.parent) {
    if (isFunctionLike(at)) {
      const documented = documentedAs(at);
      if (documented) return hasHeader(leadingComments(documented, text));
      continue;
    }
    // Statements (and class members or object properties holding the write) may carry it themselves.
    if ((ts.isStatement(at) || ts.isClassElement(at) || ts.isPropertyAssignment(at)) && hasHeader(leadingComments(at, text))) return true;
  }
  return false;
}

const files = tsFiles(join(root, 'src')).sort();
const missing = [];
let total = 0;
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const visit = (node) => {
    const name = writeName(node);
    if (name) {
      total += 1;
      if (!headed(node, text)) {
        const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
        const at = ts.isCallExpression(node) ? node.expression.name : node;
        missing.push(`${relative(root, file)}:${line + 1}: ${ts.isCallExpression(node) ? `${at.getText(source)}()` : name}`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}

if (missing.length > 0) {
  console.error(`${missing.length} of ${total} state-changing MongoDB calls in src/ have no header (filter: … safe: …):`);
  for (const line of missing) console.error(`  ${line}`);
  console.error('Give each one the header described in CONTRIBUTING.md, "Writing a state-changing query".');
  process.exitCode = 1;
} else {
  console.log(`query headers: all ${total} state-changing MongoDB calls in src/ carry one`);
}
