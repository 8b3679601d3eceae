/* indicators.test.js: checks web/indicators.js (the dashboard's SMA, EMA, RSI, MACD and Bollinger
 * bands) against TA-Lib's own output in talib/wti-indicators.csv: every row must agree to 1e-9
 * (relative, absolute below 1) and have no value exactly where TA-Lib has none.
 * Usage: node indicators.test.js DATA_DIR   (exit 0 pass, 1 fail). */
'use strict';
const fs = require('fs');
const path = require('path');
const ta = require('../../web/indicators.js');

const csvPath = path.join(process.argv[2], 'talib', 'wti-indicators.csv');
const lines = fs.readFileSync(csvPath, 'utf8').trim().split('\n');
const header = lines[0].split(',');
const rows = lines.slice(1).map((line) => line.split(','));
const column = (name) => {
  const idx = header.indexOf(name);
  if (idx < 0) throw new Error(`${csvPath}: no column ${name}`);
  return rows.map((r) => (r[idx] === '' ? null : Number(r[idx])));
};
const close = column('close');

const macd = ta.macd(close, 12, 26, 9);
const bands = ta.bollinger(close, 20, 2);
const checks = {
  sma20: ta.sma(close, 20),
  ema12: ta.ema(close, 12),
  ema26: ta.ema(close, 26),
  rsi14: ta.rsi(close, 14),
  macd: macd.macd,
  macd_signal: macd.signal,
  macd_hist: macd.hist,
  bb_upper: bands.upper,
  bb_middle: bands.middle,
  bb_lower: bands.lower,
};

let failures = 0;
for (const [name, ours] of Object.entries(checks)) {
  const ref = column(name);
  let compared = 0;
  let worst = 0;
  for (let i = 0; i < ref.length; i++) {
    const a = ours[i];
    const b = ref[i];
    if ((a === null) !== (b === null)) {
      if (failures++ < 20) console.error(`${name} row ${i + 2} (${rows[i][0]}): ours ${a}, TA-Lib ${b}`);
      continue;
    }
    if (a === null) continue;
    const err = Math.abs(a - b) / Math.max(1, Math.abs(a), Math.abs(b));
    worst = Math.max(worst, err);
    if (err > 1e-9 && failures++ < 20) console.error(`${name} row ${i + 2} (${rows[i][0]}): ours ${a}, TA-Lib ${b}`);
    compared++;
  }
  console.log(`${name}: ${compared} values compared, worst relative error ${worst.toExponential(2)}`);
}

/* Short inputs: all null, never a throw. */
for (const fn of [() => ta.sma([1, 2], 20), () => ta.rsi([1, 2], 14), () => ta.macd([1, 2], 12, 26, 9).macd]) {
  if (!fn().every((v) => v === null)) {
    console.error('short input produced a value');
    failures++;
  }
}
if (failures) {
  console.error(`FAIL: ${failures} mismatches`);
  process.exit(1);
}
console.log('PASS');
