/**
 * Codec throughput: detect + encode + split for a realistic mix
 * (70% short GSM, 20% long GSM, 10% UCS-2). Prints messages per second.
 *
 *   npm run bench:codec [-- --seconds 3 --strategy udh8|udh16|sar|payload]
 */
import { splitText, type ConcatStrategyName } from '../src/codec/index.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i !== -1 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const seconds = Number(arg('seconds', '2'));
const strategy = arg('strategy', 'udh8') as ConcatStrategyName;

// Deterministic so runs compare (mulberry32).
let seed = 0x5eed;
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(a: readonly T[]): T => a[Math.floor(random() * a.length)];

const WORDS = [
  'your',
  'code',
  'is',
  'ready',
  'at',
  'the',
  'pickup',
  'point',
  'Order',
  'shipped',
  'Thanks!',
  'delivery',
  'tomorrow',
  '10:30',
  '€25.00',
  'call',
  'us',
  'PIN:',
  '4711',
  'Grüße',
  'von',
  'Müller',
  '{ref}',
  'see',
  'https://ex.am/ple',
  'OTP',
  '@home',
];
const UCS_WORDS = ['Привет', 'как', 'дела', '😀', '👍', 'こんにちは', 'ça', 'va', 'مرحبا', 'ok', '🎉', 'Straße', 'ναι'];

function sentence(words: readonly string[], minChars: number, maxChars: number): string {
  const target = minChars + Math.floor(random() * (maxChars - minChars));
  let s = '';
  while (s.length < target) s += (s ? ' ' : '') + pick(words);
  return s;
}

// Texts reach the codec decoded from PDU bytes or JSON, i.e. as flat strings; strings
// built with += are ropes that every character access has to walk, so flatten them.
const flat = (s: string): string => Buffer.from(s, 'utf8').toString('utf8');

const MIX = 1000;
const messages: string[] = [];
for (let i = 0; i < MIX; i++) {
  const r = random();
  if (r < 0.7) messages.push(flat(sentence(WORDS, 20, 150)));
  else if (r < 0.9) messages.push(flat(sentence(WORDS, 170, 600)));
  else messages.push(flat(sentence(UCS_WORDS, 20, 200)));
}

let parts = 0;
function run(deadline: number): number {
  let n = 0;
  while (performance.now() < deadline) {
    for (let i = 0; i < MIX; i++) {
      parts += splitText(messages[i], { strategy, reference: i & 0xff }).parts.length;
    }
    n += MIX;
  }
  return n;
}

run(performance.now() + 300); // warm up the JIT
parts = 0;
const cpuBefore = process.cpuUsage();
const start = performance.now();
const n = run(start + seconds * 1000);
const elapsed = (performance.now() - start) / 1000;
const cpu = process.cpuUsage(cpuBefore);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');
console.log(
  `codec detect+encode+split (${strategy}): ${fmt(n / elapsed)} messages/s ` +
    `(${fmt(n)} messages in ${elapsed.toFixed(2)} s wall; ${fmt(n / cpuSeconds)} per CPU-second; ` +
    `mix 70% short GSM, 20% long GSM, 10% UCS-2; ${(parts / n).toFixed(2)} parts/message)`,
);
// On a shared machine wall-clock throughput falls with the load; the per-CPU-second figure does not.
